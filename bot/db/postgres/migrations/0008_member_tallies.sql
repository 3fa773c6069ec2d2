-- 0008: as SQLite's migration 0016: /profile's favourite directors and artists, tallied as
-- ratings change, for members with more than 200 ratings in a server (TALLIED_PAST,
-- bot/db/models.py). A member with at most 200 is still counted from their ratings.
--
-- Several processes write at once, each transaction seeing what others committed. Two locks
-- keep the tallies exact: a member's row of member_rating_counts, which every trigger on
-- their ratings updates or locks first (so one member's rating changes take turns, and each
-- decides from the count it holds), and a video's row, which a change of its directors or
-- artist locks FOR UPDATE before it reads who rated it (a rating holds FOR KEY SHARE on its
-- video, from its foreign key or the lock below, until it commits: the two take turns).

-- Ratings per member and server, for everyone.
CREATE TABLE member_rating_counts (
    guild_id bigint NOT NULL,
    user_id bigint NOT NULL,
    count integer NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITH (fillfactor = 70);
-- The members who have tallies (more than 200 ratings): whom a change of a video's
-- directors or artist concerns. A table written only when a member crosses the bound, not an
-- index naming the count, which would make every count's update write an index entry.
CREATE TABLE tallied_members (
    guild_id bigint NOT NULL,
    user_id bigint NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

-- A video's people as /profile counts them: each name credited as its director (the role
-- "director" in any case; lower() under "C" changes ASCII letters only, as SQLite's) once,
-- and its artist. A function, inlined where it is called, so that it is read per video.
CREATE FUNCTION video_people(video bigint) RETURNS TABLE (role text, name text)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT 'director', name FROM credits
    WHERE video_id = video AND kind = 'video' AND lower(role COLLATE "C") = 'director'
    UNION ALL
    SELECT 'artist', artist FROM videos WHERE id = video
$$;

-- For a member past the bound: of each person's videos, how many they rated, and the sum.
CREATE TABLE member_people (
    guild_id bigint NOT NULL,
    user_id bigint NOT NULL,
    role text NOT NULL CHECK (role IN ('director', 'artist')),
    name text NOT NULL,
    videos integer NOT NULL,
    total integer NOT NULL,
    PRIMARY KEY (guild_id, user_id, role, name)
) WITH (fillfactor = 70);

INSERT INTO member_rating_counts (guild_id, user_id, count)
SELECT guild_id, user_id, count(*) FROM ratings GROUP BY guild_id, user_id;

-- Every tally of the given members, from all their ratings (who has none yet).
-- The functions below are PL/pgSQL, whose statements are planned once per connection; a SQL
-- function's are planned again on every call (a millisecond per rating written).
CREATE FUNCTION tally_members(guilds bigint[], users bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_people (guild_id, user_id, role, name, videos, total)
    SELECT r.guild_id, r.user_id, p.role, p.name, count(*), sum(r.score)
    FROM unnest(guilds, users) AS m (g, u)
    JOIN ratings AS r ON r.guild_id = m.g AND r.user_id = m.u
    CROSS JOIN LATERAL video_people(r.video_id) AS p
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;
END $$;

INSERT INTO tallied_members (guild_id, user_id)
SELECT guild_id, user_id FROM member_rating_counts WHERE count > 200;
SELECT tally_members(array_agg(guild_id), array_agg(user_id)) FROM tallied_members;

-- Adds signed ratings (+1: arrived, -1: left) of tallied members to their tallies; a
-- person left with no rated video loses their row. Rows change in key order, as
-- count_scores changes its own.
CREATE FUNCTION count_people(guild_ids bigint[], user_ids bigint[], video_ids bigint[],
                             score_values integer[], signs integer[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_people AS t (guild_id, user_id, role, name, videos, total)
    SELECT c.g, c.u, p.role, p.name, sum(c.d), sum(c.d * c.sc)
    FROM unnest(guild_ids, user_ids, video_ids, score_values, signs) AS c (g, u, v, sc, d)
    CROSS JOIN LATERAL video_people(c.v) AS p
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (guild_id, user_id, role, name) DO UPDATE SET
        videos = t.videos + excluded.videos, total = t.total + excluded.total;
    DELETE FROM member_people AS t
    USING unnest(guild_ids, user_ids, video_ids) AS c (g, u, v) CROSS JOIN LATERAL video_people(c.v) AS p
    WHERE t.guild_id = c.g AND t.user_id = c.u AND t.role = p.role AND t.name = p.name
    AND t.videos = 0;
END $$;

-- Each trigger gathers what concerns tallied members first, and calls nothing for a rating
-- of anybody else (most ratings). Their statements read keys and the statement's own rows:
-- planned once per connection (a generic plan), not again for each rating written.
CREATE FUNCTION member_tallies_inserted() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    guilds bigint[];
    users bigint[];
    videos bigint[];
    scores integer[];
BEGIN
    -- The counts first, in key order: their rows stay locked until the commit, and what the
    -- upsert returns is each member's count with these ratings.
    WITH added AS (
        SELECT guild_id, user_id, count(*) AS n FROM new_rows GROUP BY 1, 2
    ), counted AS (
        INSERT INTO member_rating_counts AS m (guild_id, user_id, count)
        SELECT guild_id, user_id, n FROM added ORDER BY 1, 2
        ON CONFLICT (guild_id, user_id) DO UPDATE SET count = m.count + excluded.count
        RETURNING m.guild_id, m.user_id, m.count
    )
    SELECT array_agg(c.guild_id), array_agg(c.user_id) INTO guilds, users
    FROM counted AS c JOIN added AS a USING (guild_id, user_id)
    WHERE c.count > 200 AND c.count - a.n <= 200;
    -- Members these ratings took past the bound: all their ratings, these included.
    IF guilds IS NOT NULL THEN
        INSERT INTO tallied_members (guild_id, user_id) SELECT * FROM unnest(guilds, users);
        PERFORM tally_members(guilds, users);
    END IF;
    -- Members past it before: these ratings. Those who just crossed are in tallied_members
    -- now, but all their ratings, these included, were tallied above: left out here.
    SELECT array_agg(n.guild_id), array_agg(n.user_id), array_agg(n.video_id),
           array_agg(n.score::integer)
    INTO guilds, users, videos, scores
    FROM new_rows AS n JOIN tallied_members AS t USING (guild_id, user_id)
    WHERE guilds IS NULL OR (n.guild_id, n.user_id) NOT IN (
        SELECT * FROM unnest(guilds, users)
    );
    IF videos IS NOT NULL THEN
        PERFORM count_people(guilds, users, videos, scores,
                             array_fill(1, ARRAY[cardinality(guilds)]));
    END IF;
    RETURN NULL;
END $$;

-- On INSERT ... ON CONFLICT DO UPDATE, PostgreSQL fires the statement's UPDATE triggers
-- before its INSERT triggers: a member whom the inserts take past the bound has no tallies
-- yet here, and their changed scores are read with all their ratings there.
CREATE FUNCTION member_tallies_updated() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    guilds bigint[];
    users bigint[];
    videos bigint[];
    scores integer[];
    signs integer[];
BEGIN
    -- The members' counts and the rated videos locked first (see the top of this file).
    PERFORM 1 FROM member_rating_counts AS m
    WHERE (m.guild_id, m.user_id) IN (SELECT guild_id, user_id FROM new_rows)
    ORDER BY m.guild_id, m.user_id FOR UPDATE;
    PERFORM 1 FROM videos AS v
    WHERE v.id IN (
        SELECT n.video_id FROM new_rows AS n JOIN tallied_members AS t USING (guild_id, user_id)
    )
    ORDER BY v.id FOR KEY SHARE;
    -- A changed score: its old value leaves (as -1 of it) and the new one arrives, which
    -- leaves videos as they were and moves the total.
    SELECT array_agg(n.guild_id), array_agg(n.user_id), array_agg(n.video_id),
           array_agg(c.score), array_agg(c.sign)
    INTO guilds, users, videos, scores, signs
    FROM new_rows AS n JOIN old_rows AS o USING (guild_id, user_id, video_id)
    JOIN tallied_members AS t USING (guild_id, user_id)
    CROSS JOIN LATERAL (VALUES (n.score::integer, 1), (o.score::integer, -1)) AS c (score, sign)
    WHERE n.score <> o.score;
    IF guilds IS NOT NULL THEN
        PERFORM count_people(guilds, users, videos, scores, signs);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION member_tallies_deleted() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    fallen_guilds bigint[];
    fallen_users bigint[];
    guilds bigint[];
    users bigint[];
    videos bigint[];
    scores integer[];
BEGIN
    -- The counts first, in key order (they stay locked), and from what they became: who
    -- fell back to the bound.
    WITH removed AS (
        SELECT guild_id, user_id, count(*) AS n FROM old_rows GROUP BY 1, 2 ORDER BY 1, 2
    ), counted AS (
        UPDATE member_rating_counts AS m SET count = m.count - r.n FROM removed AS r
        WHERE m.guild_id = r.guild_id AND m.user_id = r.user_id
        RETURNING m.guild_id, m.user_id, m.count, r.n
    )
    SELECT array_agg(guild_id), array_agg(user_id) INTO fallen_guilds, fallen_users
    FROM counted WHERE count <= 200 AND count + n > 200;
    DELETE FROM member_rating_counts AS m USING old_rows AS o
    WHERE m.guild_id = o.guild_id AND m.user_id = o.user_id AND m.count = 0;
    IF fallen_guilds IS NOT NULL THEN
        DELETE FROM member_people AS t USING unnest(fallen_guilds, fallen_users) AS f (g, u)
        WHERE t.guild_id = f.g AND t.user_id = f.u;
        DELETE FROM tallied_members AS t USING unnest(fallen_guilds, fallen_users) AS f (g, u)
        WHERE t.guild_id = f.g AND t.user_id = f.u;
    END IF;
    -- Members still past it lose these ratings from their tallies.
    SELECT array_agg(o.guild_id), array_agg(o.user_id), array_agg(o.video_id),
           array_agg(o.score::integer)
    INTO guilds, users, videos, scores
    FROM old_rows AS o JOIN tallied_members AS t USING (guild_id, user_id);
    IF guilds IS NOT NULL THEN
        PERFORM count_people(guilds, users, videos, scores,
                             array_fill(-1, ARRAY[cardinality(guilds)]));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER member_tallies_inserted AFTER INSERT ON ratings
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION member_tallies_inserted();
CREATE TRIGGER member_tallies_updated AFTER UPDATE ON ratings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION member_tallies_updated();
CREATE TRIGGER member_tallies_deleted AFTER DELETE ON ratings
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION member_tallies_deleted();

-- A video gains (sign 1) or loses (sign -1) one of its people: each tallied member who rated
-- it counts it for that person, or no longer does. A credit or an artist changes rarely, and
-- a replaced credit list is a delete and an insert.
CREATE FUNCTION recount_person(video bigint, person_role text, person text, sign integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- Ratings of the video still being written commit first; later ones wait for this
    -- change, and then read the video's people as it leaves them.
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
END $$;

-- Statement triggers: a credit list is inserted in one statement, whose row triggers would
-- all run after it, each seeing the others. Seen as a whole, a name a video did not credit as
-- director before the statement gains it; one no credit names any more after it loses it.
CREATE FUNCTION director_credits_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    person record;
BEGIN
    FOR person IN
        SELECT DISTINCT n.video_id, n.name FROM new_rows AS n
        WHERE n.kind = 'video' AND lower(n.role COLLATE "C") = 'director'
        AND NOT EXISTS (
            SELECT FROM credits AS c
            WHERE c.video_id = n.video_id AND c.name = n.name
            AND c.kind = 'video' AND lower(c.role COLLATE "C") = 'director'
            AND NOT EXISTS (
                SELECT FROM new_rows AS m
                WHERE m.video_id = c.video_id AND m.position = c.position
            )
        )
        ORDER BY 1, 2
    LOOP
        PERFORM recount_person(person.video_id, 'director', person.name, 1);
    END LOOP;
    RETURN NULL;
END $$;

CREATE FUNCTION director_credits_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    person record;
BEGIN
    FOR person IN
        SELECT DISTINCT o.video_id, o.name FROM old_rows AS o
        WHERE o.kind = 'video' AND lower(o.role COLLATE "C") = 'director'
        AND NOT EXISTS (
            SELECT FROM credits AS c
            WHERE c.video_id = o.video_id AND c.name = o.name
            AND c.kind = 'video' AND lower(c.role COLLATE "C") = 'director'
        )
        ORDER BY 1, 2
    LOOP
        PERFORM recount_person(person.video_id, 'director', person.name, -1);
    END LOOP;
    RETURN NULL;
END $$;

-- Credits are replaced (deleted, then inserted), never edited in what the tallies count:
-- the two triggers above see every change that way.
CREATE FUNCTION credit_not_edited() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a credit is replaced (deleted and inserted), not edited';
END $$;

CREATE FUNCTION video_artist_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM recount_person(OLD.id, 'artist', OLD.artist, -1);
    PERFORM recount_person(NEW.id, 'artist', NEW.artist, 1);
    RETURN NULL;
END $$;

CREATE TRIGGER member_tallies_directors_inserted AFTER INSERT ON credits
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION director_credits_inserted();
CREATE TRIGGER member_tallies_directors_deleted AFTER DELETE ON credits
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION director_credits_deleted();
CREATE TRIGGER credits_replaced_not_edited BEFORE UPDATE OF video_id, role, name, kind
    ON credits FOR EACH ROW EXECUTE FUNCTION credit_not_edited();
CREATE TRIGGER member_tallies_artist_updated AFTER UPDATE OF artist ON videos
    FOR EACH ROW WHEN (OLD.artist IS DISTINCT FROM NEW.artist)
    EXECUTE FUNCTION video_artist_updated();
