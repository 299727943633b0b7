-- Staff of the service desk: accounts, their roles per town, console sessions, and the audit log
-- of everything staff do. A person is one account however many towns they work for; what they
-- may do is a role in a town (the town first in its key), or operator of the deployment.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name          text NOT NULL CHECK (name <> ''),
    -- An argon2id hash in the PHC string format; NULL for an account that signs in only
    -- through the town's identity provider.
    password_hash text,
    operator      boolean NOT NULL DEFAULT false,
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (email)
);

CREATE TABLE user_roles (
    town_id int NOT NULL REFERENCES towns ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    role    text NOT NULL CHECK (role IN ('admin', 'editor', 'agent', 'reviewer')),
    PRIMARY KEY (town_id, user_id, role)
);
CREATE INDEX user_roles_user ON user_roles (user_id);

-- A console session: the browser holds a random token, the table its SHA-256. Idle and absolute
-- timeouts are checked on every request; disabling a user or "log out everywhere" deletes them.
CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    csrf       text NOT NULL,
    created_at timestamptz NOT NULL,
    seen_at    timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins, by account, for throttling and temporary lockout across instances.
CREATE TABLE login_failures (
    email text NOT NULL,
    at    timestamptz NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);

-- Every staff action, written in the transaction of the action itself. town_id is NULL for
-- what belongs to no town (a login, an operator's change of towns keeps the town's id).
-- Kept longer than conversations (CITYBOT_AUDIT_DAYS).
CREATE TABLE audit_log (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    town_id   int REFERENCES towns ON DELETE SET NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text NOT NULL, -- the user's e-mail, or "cli" for the command line
    action    text NOT NULL,
    target    text NOT NULL DEFAULT '',
    details   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_town ON audit_log (town_id, at);
CREATE INDEX audit_log_at ON audit_log (at);
