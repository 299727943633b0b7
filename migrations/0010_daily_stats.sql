-- Daily roll-ups for the dashboard, which outlive the conversations they count (the retention
-- purge deletes answers, not these). Recomputed from the answers for a day while its answers
-- are still there, so they are right however often that runs.
CREATE TABLE answer_stats (
    town_id  int NOT NULL REFERENCES towns ON DELETE CASCADE,
    day      date NOT NULL,
    lang     text NOT NULL,
    kind     text NOT NULL,
    reason   text NOT NULL DEFAULT '',
    n        int NOT NULL,
    PRIMARY KEY (town_id, day, lang, kind, reason)
);

CREATE TABLE cited_stats (
    town_id  int NOT NULL REFERENCES towns ON DELETE CASCADE,
    day      date NOT NULL,
    url      text NOT NULL,
    title    text NOT NULL,
    n        int NOT NULL,
    PRIMARY KEY (town_id, day, url)
);

-- The questions handed off, as stored (redacted), folded to lower case and grouped.
CREATE TABLE handoff_stats (
    town_id  int NOT NULL REFERENCES towns ON DELETE CASCADE,
    day      date NOT NULL,
    question text NOT NULL,
    n        int NOT NULL,
    PRIMARY KEY (town_id, day, question)
);
