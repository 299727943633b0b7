-- Citizen conversations. Everything a citizen typed is stored redacted; no IP address is stored.
-- Conversations older than the retention period are purged by the server (ratings survive as
-- anonymous daily counts in rating_stats).

CREATE TABLE conversations (
    id          uuid PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,   -- SHA-256 of the resume token; the token itself is never stored
    lang        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_active timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversations_last_active ON conversations (last_active);

-- The conversation as it was sent, in order: what a resumed client replays.
CREATE TABLE messages (
    id              bigserial PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            text NOT NULL CHECK (role IN ('citizen', 'bot', 'agent')),
    body            jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

-- Every answer and handoff, with what a rating must be judged by.
CREATE TABLE answers (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    answer_id       text NOT NULL,
    question        text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('answer', 'handoff')),
    reason          text,
    text            text NOT NULL,
    sources         jsonb NOT NULL,
    confidence      real NOT NULL,
    lang            text NOT NULL,
    composer        text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, answer_id)
);

CREATE TABLE ratings (
    conversation_id uuid NOT NULL,
    answer_id       text NOT NULL,
    value           text NOT NULL CHECK (value IN ('up', 'down')),
    comment         text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, answer_id),
    FOREIGN KEY (conversation_id, answer_id) REFERENCES answers ON DELETE CASCADE
);

-- Anonymous daily counts of ratings: what survives retention.
CREATE TABLE rating_stats (
    day      date NOT NULL,
    lang     text NOT NULL,
    kind     text NOT NULL,
    composer text NOT NULL,
    value    text NOT NULL,
    n        int NOT NULL,
    PRIMARY KEY (day, lang, kind, composer, value)
);

-- Callback and e-mail requests. Contact data is stored only with the citizen's consent.
CREATE TABLE tickets (
    id              bigserial PRIMARY KEY,
    number          text NOT NULL UNIQUE,
    conversation_id uuid REFERENCES conversations (id) ON DELETE SET NULL,
    kind            text NOT NULL CHECK (kind IN ('callback', 'email')),
    name            text NOT NULL DEFAULT '',
    phone           text NOT NULL DEFAULT '',
    email           text NOT NULL DEFAULT '',
    note            text NOT NULL DEFAULT '',
    lang            text NOT NULL,
    consent_at      timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'open',
    created_at      timestamptz NOT NULL DEFAULT now()
);
