-- Many towns in one deployment. A town (or a Kreis whose pages its member towns share) owns its
-- pages, their index, its conversations and everything said in them. The town leads every
-- primary key, unique constraint and index, and every reference carries it: a query can only
-- reach another town's rows by naming that town, and the tables can be distributed by town
-- (Citus) without a redesign. Deleting a town deletes all its data (ON DELETE CASCADE).

CREATE TABLE towns (
    id         int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{2,40}$'),
    name       text NOT NULL CHECK (name <> ''),
    settings   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A town's bot searches its own pages and those of the collections it is linked to (a Kreis's
-- pages on vehicle registration, the foreigners' office, building permits).
CREATE TABLE town_links (
    town_id       int NOT NULL REFERENCES towns ON DELETE CASCADE,
    collection_id int NOT NULL REFERENCES towns ON DELETE CASCADE,
    PRIMARY KEY (town_id, collection_id),
    CHECK (town_id <> collection_id)
);
CREATE INDEX town_links_collection ON town_links (collection_id);

-- An installation from before towns holds one town's data: it becomes the first town, named
-- from CITYBOT_CITY and given today's environment settings when citybot next starts ("adopt").
INSERT INTO towns (slug, name, settings)
SELECT 'default', 'default', '{"adopt": true}'
WHERE EXISTS (SELECT 1 FROM pages) OR EXISTS (SELECT 1 FROM conversations) OR EXISTS (SELECT 1 FROM tickets);

-- Every table gets the town, filled with the first town's id where rows exist.
ALTER TABLE pages ADD COLUMN town_id int;
ALTER TABLE chunks ADD COLUMN town_id int;
ALTER TABLE postings ADD COLUMN town_id int;
ALTER TABLE lexeme_stats ADD COLUMN town_id int;
ALTER TABLE index_meta ADD COLUMN town_id int;
ALTER TABLE ingest_runs ADD COLUMN town_id int;
ALTER TABLE conversations ADD COLUMN town_id int;
ALTER TABLE messages ADD COLUMN town_id int;
ALTER TABLE answers ADD COLUMN town_id int;
ALTER TABLE ratings ADD COLUMN town_id int;
ALTER TABLE rating_stats ADD COLUMN town_id int;
ALTER TABLE tickets ADD COLUMN town_id int;

UPDATE pages SET town_id = (SELECT min(id) FROM towns);
UPDATE chunks SET town_id = (SELECT min(id) FROM towns);
UPDATE postings SET town_id = (SELECT min(id) FROM towns);
UPDATE lexeme_stats SET town_id = (SELECT min(id) FROM towns);
UPDATE ingest_runs SET town_id = (SELECT min(id) FROM towns);
UPDATE conversations SET town_id = (SELECT min(id) FROM towns);
UPDATE messages SET town_id = (SELECT min(id) FROM towns);
UPDATE answers SET town_id = (SELECT min(id) FROM towns);
UPDATE ratings SET town_id = (SELECT min(id) FROM towns);
UPDATE rating_stats SET town_id = (SELECT min(id) FROM towns);
UPDATE tickets SET town_id = (SELECT min(id) FROM towns);
-- index_meta held the one corpus's statistics; a town without pages has none.
DELETE FROM index_meta WHERE NOT EXISTS (SELECT 1 FROM towns);
UPDATE index_meta SET town_id = (SELECT min(id) FROM towns);

-- Keys: drop the old ones (references first), then add them led by the town.
ALTER TABLE ratings DROP CONSTRAINT ratings_conversation_id_answer_id_fkey;
ALTER TABLE answers DROP CONSTRAINT answers_conversation_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_conversation_id_fkey;
ALTER TABLE tickets DROP CONSTRAINT tickets_conversation_id_fkey;
ALTER TABLE postings DROP CONSTRAINT postings_chunk_id_fkey;
ALTER TABLE chunks DROP CONSTRAINT chunks_page_id_fkey;

ALTER TABLE pages DROP CONSTRAINT pages_pkey, DROP CONSTRAINT pages_url_key;
ALTER TABLE chunks DROP CONSTRAINT chunks_pkey, DROP CONSTRAINT chunks_page_id_ord_key;
ALTER TABLE postings DROP CONSTRAINT postings_pkey;
ALTER TABLE lexeme_stats DROP CONSTRAINT lexeme_stats_pkey;
ALTER TABLE index_meta DROP CONSTRAINT index_meta_pkey;
ALTER TABLE ingest_runs DROP CONSTRAINT ingest_runs_pkey;
ALTER TABLE conversations DROP CONSTRAINT conversations_pkey, DROP CONSTRAINT conversations_token_hash_key;
ALTER TABLE messages DROP CONSTRAINT messages_pkey;
ALTER TABLE answers DROP CONSTRAINT answers_pkey;
ALTER TABLE ratings DROP CONSTRAINT ratings_pkey;
ALTER TABLE rating_stats DROP CONSTRAINT rating_stats_pkey;
ALTER TABLE tickets DROP CONSTRAINT tickets_pkey, DROP CONSTRAINT tickets_number_key;
DROP INDEX pages_source;
DROP INDEX postings_chunk;
DROP INDEX chunks_model;
DROP INDEX conversations_last_active;
DROP INDEX messages_conversation;

ALTER TABLE pages ALTER COLUMN town_id SET NOT NULL,
    ADD PRIMARY KEY (town_id, id), ADD UNIQUE (town_id, url),
    ADD FOREIGN KEY (town_id) REFERENCES towns ON DELETE CASCADE;
CREATE INDEX pages_source ON pages (town_id, source) WHERE active;

ALTER TABLE chunks ALTER COLUMN town_id SET NOT NULL,
    ADD PRIMARY KEY (town_id, id), ADD UNIQUE (town_id, page_id, ord),
    ADD FOREIGN KEY (town_id, page_id) REFERENCES pages ON DELETE CASCADE;
CREATE INDEX chunks_model ON chunks (town_id, embedding_model);

ALTER TABLE postings ALTER COLUMN town_id SET NOT NULL,
    ADD PRIMARY KEY (town_id, lexeme, page_id, chunk_id) INCLUDE (tf, len, lang),
    ADD FOREIGN KEY (town_id, chunk_id) REFERENCES chunks ON DELETE CASCADE;
CREATE INDEX postings_chunk ON postings (town_id, chunk_id);

ALTER TABLE lexeme_stats ALTER COLUMN town_id SET NOT NULL,
    ADD PRIMARY KEY (town_id, lexeme, lang),
    ADD FOREIGN KEY (town_id) REFERENCES towns ON DELETE CASCADE;

ALTER TABLE index_meta ALTER COLUMN town_id SET NOT NULL,
    ADD PRIMARY KEY (town_id, key),
    ADD FOREIGN KEY (town_id) REFERENCES towns ON DELETE CASCADE;

ALTER TABLE ingest_runs ALTER COLUMN town_id SET NOT NULL,
    ADD PRIMARY KEY (town_id, id),
    ADD FOREIGN KEY (town_id) REFERENCES towns ON DELETE CASCADE;

ALTER TABLE conversations ALTER COLUMN town_id SET NOT NULL,
    ADD PRIMARY KEY (town_id, id), ADD UNIQUE (town_id, token_hash),
    ADD FOREIGN KEY (town_id) REFERENCES towns ON DELETE CASCADE;
CREATE INDEX conversations_last_active ON conversations (town_id, last_active);
-- Retention runs over all towns at once, each by its own days.
CREATE INDEX conversations_expiry ON conversations (last_active);

ALTER TABLE messages ALTER COLUMN town_id SET NOT NULL,
    ADD PRIMARY KEY (town_id, id),
    ADD FOREIGN KEY (town_id, conversation_id) REFERENCES conversations ON DELETE CASCADE;
CREATE INDEX messages_conversation ON messages (town_id, conversation_id, id);

ALTER TABLE answers ALTER COLUMN town_id SET NOT NULL,
    ADD PRIMARY KEY (town_id, conversation_id, answer_id),
    ADD FOREIGN KEY (town_id, conversation_id) REFERENCES conversations ON DELETE CASCADE;

ALTER TABLE ratings ALTER COLUMN town_id SET NOT NULL,
    ADD PRIMARY KEY (town_id, conversation_id, answer_id),
    ADD FOREIGN KEY (town_id, conversation_id, answer_id) REFERENCES answers ON DELETE CASCADE;

ALTER TABLE rating_stats ALTER COLUMN town_id SET NOT NULL,
    ADD PRIMARY KEY (town_id, day, lang, kind, composer, value),
    ADD FOREIGN KEY (town_id) REFERENCES towns ON DELETE CASCADE;

-- A ticket may outlive its conversation's retention: then only the reference is cleared.
ALTER TABLE tickets ALTER COLUMN town_id SET NOT NULL,
    ADD PRIMARY KEY (town_id, id), ADD UNIQUE (town_id, number),
    ADD FOREIGN KEY (town_id) REFERENCES towns ON DELETE CASCADE,
    ADD FOREIGN KEY (town_id, conversation_id) REFERENCES conversations ON DELETE SET NULL (conversation_id);
