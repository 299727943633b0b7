-- Live chat with a person of the service desk. A citizen who asks for one waits in the town's
-- queue (state queued) until an agent accepts (active) or the wait, the citizen or the agent
-- ends it (ended). What is said is stored with the conversation's messages (roles citizen and
-- agent), which are also the log the instances relay from (LISTEN/NOTIFY on citybot_live): a
-- message is stored before it is relayed, so that either side finds it after a reconnect.
CREATE TABLE live_chats (
    town_id         int NOT NULL,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    conversation_id uuid NOT NULL,
    lang            text NOT NULL,
    state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'active', 'ended')),
    -- The citizen's last question before the request (redacted), for the agent's queue.
    question        text NOT NULL DEFAULT '',
    queued_at       timestamptz NOT NULL,
    accepted_at     timestamptz,
    ended_at        timestamptz,
    end_reason      text CHECK (end_reason IN ('citizen', 'handed_back', 'ended', 'agent_gone', 'timeout')),
    agent_id        bigint REFERENCES users ON DELETE SET NULL,
    agent_name      text,
    PRIMARY KEY (town_id, id),
    FOREIGN KEY (town_id, conversation_id) REFERENCES conversations ON DELETE CASCADE
);
-- A conversation has at most one chat with a person under way.
CREATE UNIQUE INDEX live_chats_open ON live_chats (town_id, conversation_id) WHERE state <> 'ended';
CREATE INDEX live_chats_queue ON live_chats (town_id, queued_at) WHERE state = 'queued';

-- Who of the desk is available for live chats, as the agent's console says: online while the
-- agent has switched it on and a console of theirs was seen in the last minute.
CREATE TABLE agent_presence (
    town_id int NOT NULL REFERENCES towns ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    name    text NOT NULL CHECK (name <> ''),
    online  boolean NOT NULL,
    seen_at timestamptz NOT NULL,
    PRIMARY KEY (town_id, user_id)
);

-- A town's quick texts: replies its agents send often.
CREATE TABLE quick_texts (
    town_id int NOT NULL REFERENCES towns ON DELETE CASCADE,
    id      bigint GENERATED ALWAYS AS IDENTITY,
    title   text NOT NULL CHECK (title <> ''),
    body    text NOT NULL CHECK (body <> ''),
    PRIMARY KEY (town_id, id)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON live_chats, agent_presence, quick_texts TO citybot_town;
GRANT SELECT, INSERT, UPDATE, DELETE ON answer_stats, cited_stats, handoff_stats TO citybot_town;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO citybot_town;

-- Behind the wall between towns (migration 0006): the live chats and the desk's presence, and
-- the dashboard's roll-ups, whose handed-off questions are citizens' words (redacted).
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['live_chats', 'agent_presence', 'quick_texts', 'answer_stats', 'cited_stats', 'handoff_stats'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY town_rows ON %I TO citybot_town
            USING (town_id = ANY ((SELECT current_setting('citybot.towns')::int[])::int[]))
            WITH CHECK (town_id = (SELECT current_setting('citybot.town')::int))$p$, t);
    END LOOP;
END $$;
