-- Knowledge base: the city's pages, their chunks, and the lexical and vector indexes over them.
-- Later features (conversations, messages, ratings, handoffs, users, audit) add their own files.

CREATE EXTENSION IF NOT EXISTS vector;

-- One row per canonical URL ever ingested. A page that leaves its source is retired, not deleted,
-- so the audit trail (and answers that cited it) keep their reference.
CREATE TABLE pages (
    id            bigserial PRIMARY KEY,
    url           text NOT NULL UNIQUE,
    source        text NOT NULL,          -- the ingest source that owns the page: retirement is per source
    title         text NOT NULL,
    lang          text NOT NULL,
    description   text NOT NULL DEFAULT '',
    modified      date,                   -- what the page says of itself, else HTTP Last-Modified
    alternates    jsonb NOT NULL DEFAULT '{}',  -- hreflang -> URL
    content_hash  text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    first_seen    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    retired_at    timestamptz,
    search_hash   text                    -- content_hash last pushed to the external lexical index
);
CREATE INDEX pages_source ON pages (source) WHERE active;

-- Sections of a page along its heading structure. Chunks of a retired page are deleted.
CREATE TABLE chunks (
    id              bigserial PRIMARY KEY,
    page_id         bigint NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    ord             int NOT NULL,
    heading_path    text[] NOT NULL,      -- page title › h2 › h3
    body            text NOT NULL,
    tsv             tsvector NOT NULL,    -- normalised lexemes; headings weighted A, body D
    lex_len         int NOT NULL,         -- number of lexemes, for BM25 length normalisation
    embedding       vector,               -- dimension depends on the embedder, see embedder_dims
    embedding_model text,
    UNIQUE (page_id, ord)
);
CREATE INDEX chunks_tsv ON chunks USING gin (tsv);
CREATE INDEX chunks_model ON chunks (embedding_model);

-- Document frequencies for BM25 (ts_rank has no IDF), refreshed after every ingest.
CREATE TABLE lexeme_stats (
    lexeme text PRIMARY KEY,
    df     int NOT NULL
);

-- Key/value facts about the index: embedder model and dimension, corpus size, average length.
CREATE TABLE index_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- Every ingest run, with its counts and failures: the editors' audit trail.
CREATE TABLE ingest_runs (
    id          bigserial PRIMARY KEY,
    source      text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    new         int NOT NULL DEFAULT 0,
    changed     int NOT NULL DEFAULT 0,
    unchanged   int NOT NULL DEFAULT 0,
    retired     int NOT NULL DEFAULT 0,
    failed      int NOT NULL DEFAULT 0,
    failures    jsonb NOT NULL DEFAULT '[]'
);
