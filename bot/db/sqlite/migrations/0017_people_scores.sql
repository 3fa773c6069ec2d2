-- 0017: /top by directors and artists from tallies of each person's ratings per server. Counted
-- from video_scores, /top joined each of a server's rated videos to its directors and grouped
-- them by name: about 2.5 ms for 1,400 rated videos, a person at a time now. Every tally is
-- kept by the triggers below from video_scores (which the ratings' triggers keep), in the
-- transaction that changed what it counts.

-- Per server and person (as /profile counts a video's people: video_people, migration 0016):
-- how many of the server's rated videos credit them, and those videos' ratings and their sum.
CREATE TABLE people_scores (
    guild_id INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('director', 'artist')),
    name TEXT NOT NULL,
    videos INTEGER NOT NULL,
    count INTEGER NOT NULL,
    total INTEGER NOT NULL,
    PRIMARY KEY (guild_id, role, name)
) WITHOUT ROWID;

-- The servers that rated a video: whose tallies a change of its directors or artist moves.
CREATE INDEX video_scores_by_video ON video_scores (video_id);

INSERT INTO people_scores (guild_id, role, name, videos, count, total)
SELECT s.guild_id, p.role, p.name, count(*), sum(s.count), sum(s.total)
FROM video_scores AS s JOIN video_people AS p ON p.video_id = s.video_id
GROUP BY s.guild_id, p.role, p.name;

-- A server's first rating of a video: its people count one more video.
CREATE TRIGGER people_scores_video_insert AFTER INSERT ON video_scores BEGIN
    INSERT INTO people_scores (guild_id, role, name, videos, count, total)
    SELECT NEW.guild_id, role, name, 1, NEW.count, NEW.total FROM video_people
    WHERE video_id = NEW.video_id
    ON CONFLICT (guild_id, role, name) DO UPDATE SET
        videos = videos + 1, count = count + excluded.count, total = total + excluded.total;
END;

-- A rating arrives, leaves or changes its score (the upsert of ratings_insert is an UPDATE
-- here from the second rating on).
CREATE TRIGGER people_scores_video_update AFTER UPDATE OF count, total ON video_scores
WHEN NEW.count <> OLD.count OR NEW.total <> OLD.total BEGIN
    UPDATE people_scores
    SET count = count + NEW.count - OLD.count, total = total + NEW.total - OLD.total
    WHERE guild_id = NEW.guild_id
    AND (role, name) IN (SELECT role, name FROM video_people WHERE video_id = NEW.video_id);
END;

-- The server's last rating of the video left: one video fewer (a person with none left, their
-- row).
CREATE TRIGGER people_scores_video_delete AFTER DELETE ON video_scores BEGIN
    UPDATE people_scores
    SET videos = videos - 1, count = count - OLD.count, total = total - OLD.total
    WHERE guild_id = OLD.guild_id
    AND (role, name) IN (SELECT role, name FROM video_people WHERE video_id = OLD.video_id);
    DELETE FROM people_scores WHERE guild_id = OLD.guild_id AND videos = 0
    AND (role, name) IN (SELECT role, name FROM video_people WHERE video_id = OLD.video_id);
END;

-- A video gains a director (a name it did not credit as director before): every server that
-- rated it counts it for them. Credits are replaced, never edited (migration 0016's guard).
CREATE TRIGGER people_scores_director_insert AFTER INSERT ON credits
WHEN NEW.kind = 'video' AND lower(NEW.role) = 'director' AND NOT EXISTS (
    SELECT 1 FROM credits WHERE video_id = NEW.video_id AND name = NEW.name
    AND kind = 'video' AND lower(role) = 'director' AND position <> NEW.position
) BEGIN
    INSERT INTO people_scores (guild_id, role, name, videos, count, total)
    SELECT guild_id, 'director', NEW.name, 1, count, total FROM video_scores
    WHERE video_id = NEW.video_id
    ON CONFLICT (guild_id, role, name) DO UPDATE SET
        videos = videos + 1, count = count + excluded.count, total = total + excluded.total;
END;

-- A video loses a director (no credit of that name as director is left).
CREATE TRIGGER people_scores_director_delete AFTER DELETE ON credits
WHEN OLD.kind = 'video' AND lower(OLD.role) = 'director' AND NOT EXISTS (
    SELECT 1 FROM credits WHERE video_id = OLD.video_id AND name = OLD.name
    AND kind = 'video' AND lower(role) = 'director'
) BEGIN
    UPDATE people_scores SET videos = videos - 1, count = count - s.n, total = total - s.t
    FROM (
        SELECT guild_id AS g, count AS n, total AS t FROM video_scores WHERE video_id = OLD.video_id
    ) AS s
    WHERE guild_id = s.g AND role = 'director' AND name = OLD.name;
    DELETE FROM people_scores WHERE role = 'director' AND name = OLD.name AND videos = 0
    AND guild_id IN (SELECT guild_id FROM video_scores WHERE video_id = OLD.video_id);
END;

-- A video's artist changes: every server that rated it moves it from the old name to the new.
CREATE TRIGGER people_scores_artist_update AFTER UPDATE OF artist ON videos
WHEN NEW.artist IS NOT OLD.artist BEGIN
    UPDATE people_scores SET videos = videos - 1, count = count - s.n, total = total - s.t
    FROM (
        SELECT guild_id AS g, count AS n, total AS t FROM video_scores WHERE video_id = OLD.id
    ) AS s
    WHERE guild_id = s.g AND role = 'artist' AND name = OLD.artist;
    DELETE FROM people_scores WHERE role = 'artist' AND name = OLD.artist AND videos = 0
    AND guild_id IN (SELECT guild_id FROM video_scores WHERE video_id = OLD.id);
    INSERT INTO people_scores (guild_id, role, name, videos, count, total)
    SELECT guild_id, 'artist', NEW.artist, 1, count, total FROM video_scores
    WHERE video_id = NEW.id
    ON CONFLICT (guild_id, role, name) DO UPDATE SET
        videos = videos + 1, count = count + excluded.count, total = total + excluded.total;
END;
