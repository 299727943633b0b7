-- A reviewer's verdict on a rated answer: what was wrong with it, if anything, and a note. It
-- goes with the answer when the conversation is purged or erased.
CREATE TABLE verdicts (
    town_id         int NOT NULL,
    conversation_id uuid NOT NULL,
    answer_id       text NOT NULL,
    verdict         text NOT NULL CHECK (verdict IN ('correct', 'wrong_page', 'wrong_passage', 'content_missing', 'should_decline')),
    note            text NOT NULL DEFAULT '',
    reviewer        text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (town_id, conversation_id, answer_id),
    FOREIGN KEY (town_id, conversation_id, answer_id) REFERENCES answers ON DELETE CASCADE
);

GRANT SELECT, INSERT, UPDATE, DELETE ON verdicts TO citybot_town;
ALTER TABLE verdicts ENABLE ROW LEVEL SECURITY;
CREATE POLICY town_rows ON verdicts TO citybot_town
    USING (town_id = ANY ((SELECT current_setting('citybot.towns')::int[])::int[]))
    WITH CHECK (town_id = (SELECT current_setting('citybot.town')::int));
