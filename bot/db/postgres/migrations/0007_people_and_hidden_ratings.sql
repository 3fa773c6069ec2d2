-- 0007: as SQLite's migration 0014: credited people as members look them up (/person), and
-- ratings a member keeps to themselves (/privacy hide-ratings).

-- A credit's name and a video's artist as search folds them (bot/db/text.py), written with
-- every credit and video; those saved before are folded once at start. Compared byte by
-- byte (COLLATE "C"), as SQLite compares them: a prefix is one range of the index, and the
-- names within it come in SQLite's order (the name's own COLLATE "C" too).
ALTER TABLE credits ADD COLUMN search_name text COLLATE "C";
CREATE INDEX credits_by_search_name ON credits (search_name, name COLLATE "C");
CREATE INDEX credits_by_name ON credits (name);
ALTER TABLE videos ADD COLUMN search_artist text COLLATE "C";
CREATE INDEX videos_by_search_artist ON videos (search_artist, artist COLLATE "C");
CREATE INDEX videos_by_artist ON videos (artist);
-- A later word of a name ("lamar" finds Kendrick Lamar) is a LIKE '% lamar%': SQLite reads
-- every name for it; the trigram indexes spare PostgreSQL that where the word is selective.
CREATE INDEX credits_by_search_name_trigrams ON credits USING gin (search_name gin_trgm_ops);
CREATE INDEX videos_by_search_artist_trigrams ON videos USING gin (search_artist gin_trgm_ops);

-- Other members' /profile, /taste and lists of who rated what leave the member out.
ALTER TABLE member_settings ADD COLUMN hide_ratings boolean NOT NULL DEFAULT false;
