-- 0015: the director credits alone, by video, for /profile's favourite directors and /top by
-- directors. Both read every rated video's directors; the full credits read each video's whole
-- cast to keep one row, this index holds just those rows with the name beside them. The WHERE
-- is written as the queries write it (bot/db/sqlite/people.py), which is how SQLite knows it
-- may use a partial index.
CREATE INDEX credits_of_directors ON credits (video_id, name)
WHERE kind = 'video' AND lower(role) = 'director';
