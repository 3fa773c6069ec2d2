-- 0005: the published pages that back a catalog video's facts, and whose credit a credit is.

-- Links to published pages (news, reviews, interviews) that back a video's title, album, year
-- and credits, in the catalog file's order. /credits shows them under the credits.
CREATE TABLE video_sources (
    video_id INTEGER NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (video_id, position)
) WITHOUT ROWID;

-- 'video' for the people who made the video (director, cast, cinematographer…), 'song' for
-- those who made the song it sets (its producers…). Credits saved before this migration
-- had no such distinction and are read as the video's.
ALTER TABLE credits ADD COLUMN kind TEXT NOT NULL DEFAULT 'video'
    CHECK (kind IN ('video', 'song'));
