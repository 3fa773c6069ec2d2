-- 0010: as SQLite's migration 0017: /top by directors and artists from tallies of each
-- person's ratings per server, kept from video_scores by the triggers below.

-- Per server and person (as video_people, migration 0008, names a video's people): how many of
-- the server's rated videos credit them, and those videos' ratings and their sum.
CREATE TABLE people_scores (
    guild_id bigint NOT NULL,
    role text NOT NULL CHECK (role IN ('director', 'artist')),
    name text NOT NULL,
    videos integer NOT NULL,
    count bigint NOT NULL,
    total bigint NOT NULL,
    PRIMARY KEY (guild_id, role, name)
) WITH (fillfactor = 70);

-- The servers that rated a video: whose tallies a change of its directors or artist moves.
CREATE INDEX video_scores_by_video ON video_scores (video_id);

INSERT INTO people_scores (guild_id, role, name, videos, count, total)
SELECT s.guild_id, p.role, p.name, count(*), sum(s.count), sum(s.total)
FROM video_scores AS s CROSS JOIN LATERAL video_people(s.video_id) AS p
GROUP BY 1, 2, 3;

-- Adds signed changes of servers' video scores (videos: 1 a server's first rating of a video,
-- -1 its last one gone) to the video's people; a person left with no rated video loses their
-- row. Rows change in key order, as count_scores changes its own.
CREATE FUNCTION count_people_scores(guilds bigint[], video_ids bigint[], video_signs integer[],
                                    counts bigint[], totals bigint[])
RETURNS void LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    -- The videos first, in key order (FOR KEY SHARE, which a new rating's foreign key takes
    -- too): a change of a video's people (recount_person) waits for this transaction, or this
    -- one for it, and then reads the video's people as that change left them.
    PERFORM 1 FROM videos WHERE id = ANY (video_ids) ORDER BY id FOR KEY SHARE;
    INSERT INTO people_scores AS t (guild_id, role, name, videos, count, total)
    SELECT c.g, p.role, p.name, sum(c.dv), sum(c.dc), sum(c.dt)
    FROM unnest(guilds, video_ids, video_signs, counts, totals) AS c (g, v, dv, dc, dt)
    CROSS JOIN LATERAL video_people(c.v) AS p
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (guild_id, role, name) DO UPDATE SET
        videos = t.videos + excluded.videos, count = t.count + excluded.count,
        total = t.total + excluded.total;
    DELETE FROM people_scores AS t
    USING unnest(guilds, video_ids) AS c (g, v) CROSS JOIN LATERAL video_people(c.v) AS p
    WHERE t.guild_id = c.g AND t.role = p.role AND t.name = p.name AND t.videos = 0;
END $$;

CREATE FUNCTION people_scores_videos_inserted() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    PERFORM count_people_scores(array_agg(guild_id), array_agg(video_id), array_agg(1),
                                array_agg(count), array_agg(total))
    FROM new_rows HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE FUNCTION people_scores_videos_updated() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    PERFORM count_people_scores(array_agg(n.guild_id), array_agg(n.video_id), array_agg(0),
                                array_agg(n.count - o.count), array_agg(n.total - o.total))
    FROM new_rows AS n JOIN old_rows AS o USING (guild_id, video_id)
    WHERE n.count <> o.count OR n.total <> o.total
    HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE FUNCTION people_scores_videos_deleted() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    PERFORM count_people_scores(array_agg(guild_id), array_agg(video_id), array_agg(-1),
                                array_agg(-count), array_agg(-total))
    FROM old_rows HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE TRIGGER people_scores_videos_inserted AFTER INSERT ON video_scores
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION people_scores_videos_inserted();
CREATE TRIGGER people_scores_videos_updated AFTER UPDATE ON video_scores
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION people_scores_videos_updated();
CREATE TRIGGER people_scores_videos_deleted AFTER DELETE ON video_scores
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION people_scores_videos_deleted();

-- A video gains (sign 1) or loses (sign -1) one of its people: as migration 0008's, for the
-- tallied members who rated it, and now for every server that rated it too. The credit and
-- artist triggers of 0008 call it; the video is locked first, as there: a rating of it being
-- written commits first (its count_people_scores holds the video, see above), and a later
-- one reads the video's people as this change leaves them.
CREATE OR REPLACE FUNCTION recount_person(video bigint, person_role text, person text,
                                          sign integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM videos WHERE id = video FOR UPDATE;
    INSERT INTO member_people AS t (guild_id, user_id, role, name, videos, total)
    SELECT r.guild_id, r.user_id, person_role, person, sign, sign * r.score
    FROM tallied_members AS m
    JOIN ratings AS r ON r.guild_id = m.guild_id AND r.user_id = m.user_id
    AND r.video_id = video
    ORDER BY 1, 2
    ON CONFLICT (guild_id, user_id, role, name) DO UPDATE SET
        videos = t.videos + excluded.videos, total = t.total + excluded.total;
    DELETE FROM member_people AS t
    USING tallied_members AS m
    JOIN ratings AS r ON r.guild_id = m.guild_id AND r.user_id = m.user_id
    AND r.video_id = video
    WHERE t.guild_id = m.guild_id AND t.user_id = m.user_id
    AND t.role = person_role AND t.name = person AND t.videos = 0;
    INSERT INTO people_scores AS t (guild_id, role, name, videos, count, total)
    SELECT s.guild_id, person_role, person, sign, sign * s.count, sign * s.total
    FROM video_scores AS s WHERE s.video_id = video
    ORDER BY 1
    ON CONFLICT (guild_id, role, name) DO UPDATE SET
        videos = t.videos + excluded.videos, count = t.count + excluded.count,
        total = t.total + excluded.total;
    DELETE FROM people_scores AS t USING video_scores AS s
    WHERE s.video_id = video AND t.guild_id = s.guild_id
    AND t.role = person_role AND t.name = person AND t.videos = 0;
END $$;
