-- 0017: /top by directors from tallies of each director's ratings per server. Counted from
-- video_scores, /top joined each of a server's rated videos to its directors and grouped them
-- by name: 2 ms and more for 1,400 rated videos, a row per director now. Every tally is kept
-- by the triggers below from video_scores (which the ratings' triggers keep), in the
-- transaction that changed what it counts. Each rating writes its video's directors' rows
-- too, which costs sustained rating writes about a sixth (bench/README.md); artists are not
-- tallied (a row more per rating again): /top by artists reads each video's artist from its
-- own row, which is cheap.

-- Per server and director (a name credited as a video's director, the role "director" in any
-- case, once per video): how many of the server's rated videos credit them, and those videos'
-- ratings and their sum.
CREATE TABLE director_scores (
    guild_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    videos INTEGER NOT NULL,
    count INTEGER NOT NULL,
    total INTEGER NOT NULL,
    PRIMARY KEY (guild_id, name)
) WITHOUT ROWID;

-- A video's scores in every server that rated it: one lookup per server (every server that
-- ever rated has its row in guild_scores, kept at zero after its last rating; CROSS JOIN keeps
-- the servers the outer loop). No index of video_scores by video: each server's first rating
-- of each video would write an entry in it, for the rare change of a video's directors.
CREATE VIEW video_scores_everywhere (video_id, guild_id, count, total) AS
    SELECT s.video_id, s.guild_id, s.count, s.total FROM guild_scores AS g
    CROSS JOIN video_scores AS s ON s.guild_id = g.guild_id;

INSERT INTO director_scores (guild_id, name, videos, count, total)
SELECT s.guild_id, p.name, count(*), sum(s.count), sum(s.total)
FROM video_scores AS s JOIN video_people AS p ON p.video_id = s.video_id
WHERE p.role = 'director'
GROUP BY s.guild_id, p.name;

-- A server's first rating of a video: its directors count one more video.
CREATE TRIGGER director_scores_video_insert AFTER INSERT ON video_scores BEGIN
    INSERT INTO director_scores (guild_id, name, videos, count, total)
    SELECT DISTINCT NEW.guild_id, name, 1, NEW.count, NEW.total FROM credits
    WHERE video_id = NEW.video_id AND kind = 'video' AND lower(role) = 'director'
    ON CONFLICT (guild_id, name) DO UPDATE SET
        videos = videos + 1, count = count + excluded.count, total = total + excluded.total;
END;

-- A rating arrives, leaves or changes its score (the upsert of ratings_insert is an UPDATE
-- here from a video's second rating in the server on).
CREATE TRIGGER director_scores_video_update AFTER UPDATE OF count, total ON video_scores
WHEN NEW.count <> OLD.count OR NEW.total <> OLD.total BEGIN
    UPDATE director_scores
    SET count = count + NEW.count - OLD.count, total = total + NEW.total - OLD.total
    WHERE guild_id = NEW.guild_id AND name IN (
        SELECT name FROM credits
        WHERE video_id = NEW.video_id AND kind = 'video' AND lower(role) = 'director'
    );
END;

-- The server's last rating of the video left: one video fewer (a director with none left,
-- their row).
CREATE TRIGGER director_scores_video_delete AFTER DELETE ON video_scores BEGIN
    UPDATE director_scores
    SET videos = videos - 1, count = count - OLD.count, total = total - OLD.total
    WHERE guild_id = OLD.guild_id AND name IN (
        SELECT name FROM credits
        WHERE video_id = OLD.video_id AND kind = 'video' AND lower(role) = 'director'
    );
    DELETE FROM director_scores WHERE guild_id = OLD.guild_id AND videos = 0 AND name IN (
        SELECT name FROM credits
        WHERE video_id = OLD.video_id AND kind = 'video' AND lower(role) = 'director'
    );
END;

-- A video gains a director (a name it did not credit as director before): every server that
-- rated it counts it for them. Credits are replaced, never edited (migration 0016's guard).
CREATE TRIGGER director_scores_director_insert AFTER INSERT ON credits
WHEN NEW.kind = 'video' AND lower(NEW.role) = 'director' AND NOT EXISTS (
    SELECT 1 FROM credits WHERE video_id = NEW.video_id AND name = NEW.name
    AND kind = 'video' AND lower(role) = 'director' AND position <> NEW.position
) BEGIN
    INSERT INTO director_scores (guild_id, name, videos, count, total)
    SELECT guild_id, NEW.name, 1, count, total FROM video_scores_everywhere
    WHERE video_id = NEW.video_id
    ON CONFLICT (guild_id, name) DO UPDATE SET
        videos = videos + 1, count = count + excluded.count, total = total + excluded.total;
END;

-- A video loses a director (no credit of that name as director is left).
CREATE TRIGGER director_scores_director_delete AFTER DELETE ON credits
WHEN OLD.kind = 'video' AND lower(OLD.role) = 'director' AND NOT EXISTS (
    SELECT 1 FROM credits WHERE video_id = OLD.video_id AND name = OLD.name
    AND kind = 'video' AND lower(role) = 'director'
) BEGIN
    UPDATE director_scores SET videos = videos - 1, count = count - s.n, total = total - s.t
    FROM (
        SELECT guild_id AS g, count AS n, total AS t FROM video_scores_everywhere
        WHERE video_id = OLD.video_id
    ) AS s
    WHERE guild_id = s.g AND name = OLD.name;
    DELETE FROM director_scores WHERE name = OLD.name AND videos = 0 AND guild_id IN (
        SELECT guild_id FROM video_scores_everywhere WHERE video_id = OLD.video_id
    );
END;
