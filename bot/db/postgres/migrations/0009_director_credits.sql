-- 0009: as SQLite's migration 0015: the director credits alone, by video, with the name
-- beside them. /top by directors reads every rated video's directors, and a video's people
-- (video_people, migration 0008) its directors: both read these rows only, from the index
-- alone, instead of each video's whole cast. The WHERE is written as the queries write it
-- (bot/db/postgres/people.py and migration 0008), which is how PostgreSQL knows it may use
-- a partial index.
CREATE INDEX credits_of_directors ON credits (video_id, name)
WHERE kind = 'video' AND lower(role COLLATE "C") = 'director';
