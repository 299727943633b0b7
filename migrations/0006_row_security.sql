-- A second wall between towns. Every query of a town's work names the town; in case one
-- forgets, PostgreSQL enforces it too: the town's work runs as the role citybot_town (SET LOCAL
-- ROLE in its transaction), with the towns it may see in the setting citybot.towns and the one
-- it writes for in citybot.town. Row-level security lets that role see only those towns' rows
-- and write only its own; without the settings its queries fail rather than see everything.
-- Administration (migrations, towns, retention across towns) runs as the connecting role, which
-- the policies do not restrict.
--
-- The wall stands around what a town's pages and citizens said: pages, chunks, ingest runs,
-- conversations, messages, answers, ratings, tickets. The lexical index's derived tables
-- (postings, lexeme_stats, index_meta: lexemes, counts and ids, no text) stay outside it:
-- PostgreSQL does not let a role under row-level security use a table's column statistics for
-- most operators, and without them the search's plan was twice as slow. Their queries name the
-- town, and whatever they pointed to in another town would stay invisible: the chunks and pages
-- it is read from are behind the wall.
--
-- Creating a role needs CREATEROLE (the embedded cluster's user has it). On a server where
-- citybot's user lacks it, an administrator runs, before `citybot migrate`:
--   CREATE ROLE citybot_town NOLOGIN; GRANT citybot_town TO <citybot's user>;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'citybot_town') THEN
        CREATE ROLE citybot_town NOLOGIN;
    END IF;
    IF NOT pg_has_role(current_user, 'citybot_town', 'MEMBER') THEN
        EXECUTE format('GRANT citybot_town TO %I', current_user);
    END IF;
END $$;

GRANT USAGE ON SCHEMA public TO citybot_town;
GRANT SELECT ON towns, town_links TO citybot_town;
GRANT SELECT, INSERT, UPDATE, DELETE ON pages, chunks, postings, lexeme_stats, index_meta, ingest_runs,
    conversations, messages, answers, ratings, rating_stats, tickets TO citybot_town;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO citybot_town;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['pages', 'chunks', 'ingest_runs',
        'conversations', 'messages', 'answers', 'ratings', 'rating_stats', 'tickets'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        -- The settings in scalar subqueries: read once per statement (an InitPlan), not once per
        -- row, which cost a search a third of its time.
        EXECUTE format($p$CREATE POLICY town_rows ON %I TO citybot_town
            USING (town_id = ANY ((SELECT current_setting('citybot.towns')::int[])::int[]))
            WITH CHECK (town_id = (SELECT current_setting('citybot.town')::int))$p$, t);
    END LOOP;
END $$;
