-- 0010: as SQLite's migration 0017: /top by directors from tallies of each director's
-- ratings per server, kept from video_scores by the triggers below (artists are not tallied:
-- /top by artists reads each video's artist from its own row).

-- Per server and director (as video_people, migration 0008, names a video's directors): how
-- many of the server's rated videos credit them, and those videos' ratings and their sum.
CREATE TABLE director_scores (
    guild_id bigint NOT NULL,
    name text NOT NULL,
    videos integer NOT NULL,
    count bigint NOT NULL,
    total bigint NOT NULL,
    PRIMARY KEY (guild_id, name)
) WITH (fillfactor = 70);

INSERT INTO director_scores (guild_id, name, videos, count, total)
SELECT s.guild_id, p.name, count(*), sum(s.count), sum(s.total)
FROM video_scores AS s CROSS JOIN LATERAL video_people(s.video_id) AS p
WHERE p.role = 'director'
GROUP BY 1, 2;

-- Adds signed changes of servers' video scores (videos: 1 for a server's first rating of a
-- video, -1 when its last one is gone) to the video's directors; a director left with no
-- rated video loses their row. Rows change in key order within a call, as count_scores
-- changes its own; across calls (an upsert's update and insert passes are two), the
-- server's guild_scores row, which count_scores now locks first, keeps its writers in turn.
CREATE FUNCTION count_director_scores(guilds bigint[], video_ids bigint[],
                                      video_signs integer[], counts bigint[], totals bigint[])
RETURNS void LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    -- The videos first, in key order (FOR KEY SHARE, which a new rating's foreign key takes
    -- too): a change of a video's directors (recount_person) waits for this transaction, or
    -- this one for it, and then reads the video's directors as that change left them.
    PERFORM 1 FROM videos WHERE id = ANY (video_ids) ORDER BY id FOR KEY SHARE;
    INSERT INTO director_scores AS t (guild_id, name, videos, count, total)
    SELECT c.g, p.name, sum(c.dv), sum(c.dc), sum(c.dt)
    FROM unnest(guilds, video_ids, video_signs, counts, totals) AS c (g, v, dv, dc, dt)
    CROSS JOIN LATERAL video_people(c.v) AS p
    WHERE p.role = 'director'
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (guild_id, name) DO UPDATE SET
        videos = t.videos + excluded.videos, count = t.count + excluded.count,
        total = t.total + excluded.total;
    DELETE FROM director_scores AS t
    USING unnest(guilds, video_ids) AS c (g, v) CROSS JOIN LATERAL video_people(c.v) AS p
    WHERE p.role = 'director' AND t.guild_id = c.g AND t.name = p.name AND t.videos = 0;
END $$;

-- As migration 0001's, with the servers' rows locked first. A director's tally is shared by
-- all the videos that credit them, so two transactions rating different videos of one
-- server now meet on it; a statement that writes ratings in two passes (an upsert's new
-- scores, then its new ratings), each locking in key order, could take two directors in the
-- opposite order to another writer's (a forget-me, a video removed) and deadlock. Locked
-- first, the server's row makes every writer of its tallies wait for the one before it.
CREATE OR REPLACE FUNCTION count_scores(guilds bigint[], videos bigint[], scores integer[],
                                        signs integer[])
RETURNS void LANGUAGE sql AS $$
    INSERT INTO guild_scores AS s (guild_id, count, total)
    SELECT g, sum(d), sum(d * sc) FROM unnest(guilds, scores, signs) AS c (g, sc, d)
    GROUP BY g ORDER BY g
    ON CONFLICT (guild_id) DO UPDATE SET
        count = s.count + excluded.count, total = s.total + excluded.total;
    INSERT INTO video_scores AS s (guild_id, video_id, count, total,
                                   s1, s2, s3, s4, s5, s6, s7, s8, s9, s10)
    SELECT g, v, sum(d), sum(d * sc),
           coalesce(sum(d) FILTER (WHERE sc = 1), 0), coalesce(sum(d) FILTER (WHERE sc = 2), 0),
           coalesce(sum(d) FILTER (WHERE sc = 3), 0), coalesce(sum(d) FILTER (WHERE sc = 4), 0),
           coalesce(sum(d) FILTER (WHERE sc = 5), 0), coalesce(sum(d) FILTER (WHERE sc = 6), 0),
           coalesce(sum(d) FILTER (WHERE sc = 7), 0), coalesce(sum(d) FILTER (WHERE sc = 8), 0),
           coalesce(sum(d) FILTER (WHERE sc = 9), 0), coalesce(sum(d) FILTER (WHERE sc = 10), 0)
    FROM unnest(guilds, videos, scores, signs) AS c (g, v, sc, d)
    GROUP BY g, v ORDER BY g, v
    ON CONFLICT (guild_id, video_id) DO UPDATE SET
        count = s.count + excluded.count, total = s.total + excluded.total,
        s1 = s.s1 + excluded.s1, s2 = s.s2 + excluded.s2, s3 = s.s3 + excluded.s3,
        s4 = s.s4 + excluded.s4, s5 = s.s5 + excluded.s5, s6 = s.s6 + excluded.s6,
        s7 = s.s7 + excluded.s7, s8 = s.s8 + excluded.s8, s9 = s.s9 + excluded.s9,
        s10 = s.s10 + excluded.s10;
    DELETE FROM video_scores AS s USING unnest(guilds, videos) AS c (g, v)
    WHERE s.guild_id = c.g AND s.video_id = c.v AND s.count = 0;
$$;

CREATE FUNCTION director_scores_videos_inserted() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    PERFORM count_director_scores(array_agg(guild_id), array_agg(video_id), array_agg(1),
                                  array_agg(count), array_agg(total))
    FROM new_rows HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE FUNCTION director_scores_videos_updated() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    PERFORM count_director_scores(array_agg(n.guild_id), array_agg(n.video_id), array_agg(0),
                                  array_agg(n.count - o.count), array_agg(n.total - o.total))
    FROM new_rows AS n JOIN old_rows AS o USING (guild_id, video_id)
    WHERE n.count <> o.count OR n.total <> o.total
    HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE FUNCTION director_scores_videos_deleted() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    PERFORM count_director_scores(array_agg(guild_id), array_agg(video_id), array_agg(-1),
                                  array_agg(-count), array_agg(-total))
    FROM old_rows HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE TRIGGER director_scores_videos_inserted AFTER INSERT ON video_scores
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION director_scores_videos_inserted();
CREATE TRIGGER director_scores_videos_updated AFTER UPDATE ON video_scores
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION director_scores_videos_updated();
CREATE TRIGGER director_scores_videos_deleted AFTER DELETE ON video_scores
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION director_scores_videos_deleted();

-- A video gains (sign 1) or loses (sign -1) one of its people: migration 0008's function, now
-- named for what it keeps (the tallied members who rated it), does its part first, which
-- locks the video: a rating of it being written commits first (its count_director_scores
-- holds the video), and a later one reads the video's directors as this change leaves them.
-- For a director, every server that rated the video counts it too. The credit and artist
-- triggers of 0008 call recount_person by name. The servers that rated the video are found
-- one lookup per server (every server that ever rated has its row in guild_scores): no
-- index of video_scores by video, which each server's first rating of each video would
-- write to, for this rare change.
ALTER FUNCTION recount_person(bigint, text, text, integer) RENAME TO recount_member_people;

CREATE FUNCTION recount_person(video bigint, person_role text, person text, sign integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM recount_member_people(video, person_role, person, sign);
    IF person_role = 'director' THEN
        INSERT INTO director_scores AS t (guild_id, name, videos, count, total)
        SELECT g.guild_id, person, sign, sign * s.count, sign * s.total
        FROM guild_scores AS g
        CROSS JOIN LATERAL (
            SELECT count, total FROM video_scores WHERE guild_id = g.guild_id AND video_id = video
        ) AS s
        ORDER BY 1
        ON CONFLICT (guild_id, name) DO UPDATE SET
            videos = t.videos + excluded.videos, count = t.count + excluded.count,
            total = t.total + excluded.total;
        DELETE FROM director_scores AS t
        WHERE t.name = person AND t.videos = 0 AND t.guild_id IN (
            SELECT g.guild_id FROM guild_scores AS g
            WHERE EXISTS (
                SELECT FROM video_scores WHERE guild_id = g.guild_id AND video_id = video
            )
        );
    END IF;
END $$;
