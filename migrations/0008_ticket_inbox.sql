-- The service desk's inbox: a ticket is open, in progress or done, may be assigned to a member
-- of staff, and remembers when it last changed, when the office was told of it (an outbox that
-- any instance works off), and the answer an e-mail request got. A town's work (the role citybot_town) writes
-- its audit entries in the same transaction, so that role may insert into the audit log.

UPDATE tickets SET status = 'open' WHERE status NOT IN ('open', 'in_progress', 'done');
ALTER TABLE tickets
    ADD CONSTRAINT tickets_status CHECK (status IN ('open', 'in_progress', 'done')),
    ADD COLUMN assignee_id bigint REFERENCES users ON DELETE SET NULL,
    ADD COLUMN updated_at timestamptz,
    ADD COLUMN notified_at timestamptz,
    ADD COLUMN reply text,
    ADD COLUMN replied_at timestamptz;
-- The tickets from before were never reported: they stay so, not mailed all at once now.
UPDATE tickets SET notified_at = created_at;
CREATE INDEX tickets_unnotified ON tickets (created_at) WHERE notified_at IS NULL;
CREATE INDEX tickets_inbox ON tickets (town_id, status, created_at);

GRANT INSERT ON audit_log TO citybot_town;
GRANT SELECT (id, email, name) ON users TO citybot_town;
