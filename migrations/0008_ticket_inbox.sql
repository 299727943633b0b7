-- The service desk's inbox: a ticket is open, in progress or done, may be assigned to a member
-- of staff, and remembers when it last changed. A town's work (the role citybot_town) writes
-- its audit entries in the same transaction, so that role may insert into the audit log.

UPDATE tickets SET status = 'open' WHERE status NOT IN ('open', 'in_progress', 'done');
ALTER TABLE tickets
    ADD CONSTRAINT tickets_status CHECK (status IN ('open', 'in_progress', 'done')),
    ADD COLUMN assignee_id bigint REFERENCES users ON DELETE SET NULL,
    ADD COLUMN updated_at timestamptz;
CREATE INDEX tickets_inbox ON tickets (town_id, status, created_at);

GRANT INSERT ON audit_log TO citybot_town;
GRANT SELECT (id, email, name) ON users TO citybot_town;
