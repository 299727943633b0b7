-- The live chat's daily roll-up for the dashboard, which outlives the chats it counts (they go
-- with their conversations at the retention purge): per day the citizen asked, how many chats
-- were accepted, ran out of time, or were left by the citizen before anyone accepted, and the
-- seconds the accepted ones waited in all (for the mean).
CREATE TABLE live_stats (
    town_id   int NOT NULL REFERENCES towns ON DELETE CASCADE,
    day       date NOT NULL,
    outcome   text NOT NULL CHECK (outcome IN ('accepted', 'timeout', 'left', 'waiting')),
    n         int NOT NULL,
    wait_secs double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (town_id, day, outcome)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON live_stats TO citybot_town;
ALTER TABLE live_stats ENABLE ROW LEVEL SECURITY;
CREATE POLICY town_rows ON live_stats TO citybot_town
    USING (town_id = ANY ((SELECT current_setting('citybot.towns')::int[])::int[]))
    WITH CHECK (town_id = (SELECT current_setting('citybot.town')::int));
