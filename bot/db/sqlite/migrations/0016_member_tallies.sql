-- 0016: /profile's favourite directors and artists, tallied as ratings change, for members
-- with more than 200 ratings in a server (TALLIED_PAST, bot/db/models.py). Counted
-- from the ratings, a profile joins every rating to its video's credits and groups them: about
-- 9 ms for 2,000 ratings. A member with at most 200 is still counted that way (its cost is
-- bounded); only members past the bound pay for tallies, in their ratings' writes and rows.
-- Every tally is kept by the triggers below, in the transaction that changed what it counts.

-- Ratings per member and server, for everyone: where the bound is crossed, in one lookup.
CREATE TABLE member_rating_counts (
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
-- The members who have tallies (more than 200 ratings): whom a change of a video's
-- directors or artist concerns. Written only when a member crosses the bound.
CREATE TABLE tallied_members (
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
-- Their ratings: whose tallies a change of a video's directors or artist moves. Filtered by
-- the video, each tallied member's rating of it is one lookup: CROSS JOIN keeps the few
-- tallied members the outer loop, where a database never analysed was planned to read
-- every rating instead.
CREATE VIEW tallied_ratings (guild_id, user_id, video_id, score) AS
    SELECT r.guild_id, r.user_id, r.video_id, r.score FROM tallied_members AS m
    CROSS JOIN ratings AS r ON r.guild_id = m.guild_id AND r.user_id = m.user_id;

-- A video's people as /profile counts them: each name credited as its director (the role
-- "director" in any case) once, and its artist.
CREATE VIEW video_people (video_id, role, name) AS
    SELECT DISTINCT video_id, 'director', name FROM credits
    WHERE kind = 'video' AND lower(role) = 'director'
    UNION ALL
    SELECT id, 'artist', artist FROM videos;

-- For a member past the bound: of each person's videos, how many they rated, and the sum.
CREATE TABLE member_people (
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('director', 'artist')),
    name TEXT NOT NULL,
    videos INTEGER NOT NULL,
    total INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id, role, name)
) WITHOUT ROWID;

INSERT INTO member_rating_counts (guild_id, user_id, count)
SELECT guild_id, user_id, count(*) FROM ratings GROUP BY guild_id, user_id;

INSERT INTO tallied_members (guild_id, user_id)
SELECT guild_id, user_id FROM member_rating_counts WHERE count > 200;

INSERT INTO member_people (guild_id, user_id, role, name, videos, total)
SELECT r.guild_id, r.user_id, p.role, p.name, count(*), sum(r.score)
FROM tallied_members AS m
JOIN ratings AS r ON r.guild_id = m.guild_id AND r.user_id = m.user_id
JOIN video_people AS p ON p.video_id = r.video_id
GROUP BY r.guild_id, r.user_id, p.role, p.name;

-- A rating arrives. The member's 201st starts their tallies from all their ratings; a later
-- one adds its video's people. Each statement reads the member's count first (CROSS JOIN
-- keeps that order), so a member it does not concern costs one lookup: a condition in a
-- WHERE would be tested only after the join had been read.
CREATE TRIGGER member_tallies_rating_insert AFTER INSERT ON ratings BEGIN
    INSERT INTO member_rating_counts (guild_id, user_id, count)
    VALUES (NEW.guild_id, NEW.user_id, 1)
    ON CONFLICT (guild_id, user_id) DO UPDATE SET count = count + 1;
    INSERT INTO tallied_members (guild_id, user_id)
    SELECT guild_id, user_id FROM member_rating_counts
    WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id AND count = 201;
    INSERT INTO member_people (guild_id, user_id, role, name, videos, total)
    SELECT NEW.guild_id, NEW.user_id, 'director', name, count(*), sum(score) FROM (
        SELECT DISTINCT r.video_id, c.name, r.score FROM member_rating_counts AS m
        CROSS JOIN ratings AS r CROSS JOIN credits AS c
        WHERE m.guild_id = NEW.guild_id AND m.user_id = NEW.user_id AND m.count = 201
        AND r.guild_id = m.guild_id AND r.user_id = m.user_id AND c.video_id = r.video_id
        AND c.kind = 'video' AND lower(c.role) = 'director'
    )
    GROUP BY name
    UNION ALL
    SELECT NEW.guild_id, NEW.user_id, 'artist', v.artist, count(*), sum(r.score)
    FROM member_rating_counts AS m CROSS JOIN ratings AS r CROSS JOIN videos AS v
    WHERE m.guild_id = NEW.guild_id AND m.user_id = NEW.user_id AND m.count = 201
    AND r.guild_id = m.guild_id AND r.user_id = m.user_id AND v.id = r.video_id
    GROUP BY v.artist;
    INSERT INTO member_people (guild_id, user_id, role, name, videos, total)
    SELECT NEW.guild_id, NEW.user_id, p.role, p.name, 1, NEW.score
    FROM member_rating_counts AS m CROSS JOIN video_people AS p
    WHERE m.guild_id = NEW.guild_id AND m.user_id = NEW.user_id AND m.count > 201
    AND p.video_id = NEW.video_id
    ON CONFLICT (guild_id, user_id, role, name) DO UPDATE SET
        videos = videos + 1, total = total + excluded.total;
END;

-- A score changes: only a tallied member's tallies (the condition is the trigger's WHEN,
-- tested before anything else is read).
CREATE TRIGGER member_tallies_rating_update AFTER UPDATE OF score ON ratings
WHEN NEW.score <> OLD.score AND (
    SELECT count FROM member_rating_counts WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id
) > 200 BEGIN
    UPDATE member_people SET total = total + NEW.score - OLD.score
    WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id
    AND (role, name) IN (SELECT role, name FROM video_people WHERE video_id = OLD.video_id);
END;

-- A rating leaves: the count goes down, and back at the bound the member's tallies go.
CREATE TRIGGER member_counts_rating_delete AFTER DELETE ON ratings BEGIN
    UPDATE member_rating_counts SET count = count - 1
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id;
    DELETE FROM member_rating_counts
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id AND count = 0;
    DELETE FROM member_people WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id
    AND (SELECT count FROM member_rating_counts
         WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id) = 200;
    DELETE FROM tallied_members WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id
    AND (SELECT count FROM member_rating_counts
         WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id) = 200;
END;

-- ... and while the member still has tallies, the video's people lose it (a person with no
-- rated video left, their row). Either trigger may fire first: after the other, this one
-- finds no tallies or leaves the other nothing to undo.
CREATE TRIGGER member_tallies_rating_delete AFTER DELETE ON ratings
WHEN EXISTS (
    SELECT 1 FROM member_people WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id
) BEGIN
    UPDATE member_people SET videos = videos - 1, total = total - OLD.score
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id
    AND (role, name) IN (SELECT role, name FROM video_people WHERE video_id = OLD.video_id);
    DELETE FROM member_people
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id AND videos = 0
    AND (role, name) IN (SELECT role, name FROM video_people WHERE video_id = OLD.video_id);
END;

-- A video gains a director (a name it did not credit as director before): each tallied
-- member who rated it counts that video for them.
CREATE TRIGGER member_tallies_director_insert AFTER INSERT ON credits
WHEN NEW.kind = 'video' AND lower(NEW.role) = 'director' AND NOT EXISTS (
    SELECT 1 FROM credits WHERE video_id = NEW.video_id AND name = NEW.name
    AND kind = 'video' AND lower(role) = 'director' AND position <> NEW.position
) BEGIN
    INSERT INTO member_people (guild_id, user_id, role, name, videos, total)
    SELECT guild_id, user_id, 'director', NEW.name, 1, score FROM tallied_ratings
    WHERE video_id = NEW.video_id
    ON CONFLICT (guild_id, user_id, role, name) DO UPDATE SET
        videos = videos + 1, total = total + excluded.total;
END;

-- A video loses a director (no credit of that name as director is left).
CREATE TRIGGER member_tallies_director_delete AFTER DELETE ON credits
WHEN OLD.kind = 'video' AND lower(OLD.role) = 'director' AND NOT EXISTS (
    SELECT 1 FROM credits WHERE video_id = OLD.video_id AND name = OLD.name
    AND kind = 'video' AND lower(role) = 'director'
) BEGIN
    UPDATE member_people SET videos = videos - 1, total = total - (
        SELECT score FROM ratings WHERE guild_id = member_people.guild_id
        AND user_id = member_people.user_id AND video_id = OLD.video_id
    )
    WHERE (guild_id, user_id, role, name) IN (
        SELECT guild_id, user_id, 'director', OLD.name FROM tallied_ratings WHERE video_id = OLD.video_id
    );
    DELETE FROM member_people WHERE role = 'director' AND name = OLD.name AND videos = 0
    AND (guild_id, user_id) IN (
        SELECT guild_id, user_id FROM tallied_ratings WHERE video_id = OLD.video_id
    );
END;

-- Credits are replaced (deleted, then inserted), never edited in what the tallies count:
-- the two triggers above see every change that way.
CREATE TRIGGER credits_replaced_not_edited BEFORE UPDATE OF video_id, role, name, kind
ON credits BEGIN
    SELECT RAISE(ABORT, 'a credit is replaced (deleted and inserted), not edited');
END;

-- A video's artist changes: its tallied raters move it from the old name to the new one.
CREATE TRIGGER member_tallies_artist_update AFTER UPDATE OF artist ON videos
WHEN NEW.artist IS NOT OLD.artist BEGIN
    UPDATE member_people SET videos = videos - 1, total = total - (
        SELECT score FROM ratings WHERE guild_id = member_people.guild_id
        AND user_id = member_people.user_id AND video_id = OLD.id
    )
    WHERE (guild_id, user_id, role, name) IN (
        SELECT guild_id, user_id, 'artist', OLD.artist FROM tallied_ratings WHERE video_id = OLD.id
    );
    DELETE FROM member_people WHERE role = 'artist' AND name = OLD.artist AND videos = 0
    AND (guild_id, user_id) IN (
        SELECT guild_id, user_id FROM tallied_ratings WHERE video_id = OLD.id
    );
    INSERT INTO member_people (guild_id, user_id, role, name, videos, total)
    SELECT guild_id, user_id, 'artist', NEW.artist, 1, score FROM tallied_ratings
    WHERE video_id = NEW.id
    ON CONFLICT (guild_id, user_id, role, name) DO UPDATE SET
        videos = videos + 1, total = total + excluded.total;
END;
