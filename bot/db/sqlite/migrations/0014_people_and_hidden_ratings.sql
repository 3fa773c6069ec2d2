-- 0014: credited people as members look them up (/person), and ratings a member keeps to
-- themselves (/privacy hide-ratings).

-- A credit's name and a video's artist as search folds them (lowercase, accents and
-- punctuation removed), for /person's autocomplete. Written with every credit and video;
-- those saved before this migration are folded once at start (folding is Python's).
ALTER TABLE credits ADD COLUMN search_name TEXT;
CREATE INDEX credits_by_search_name ON credits (search_name, name);
CREATE INDEX credits_by_name ON credits (name);
ALTER TABLE videos ADD COLUMN search_artist TEXT;
CREATE INDEX videos_by_search_artist ON videos (search_artist, artist);
CREATE INDEX videos_by_artist ON videos (artist);

-- 1: other members' /profile, /taste and lists of who rated what leave the member out.
ALTER TABLE member_settings ADD COLUMN hide_ratings INTEGER NOT NULL DEFAULT 0;
