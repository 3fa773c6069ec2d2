-- 0008: every stored moment is INTEGER Unix seconds (UTC), as ratings and the daily tables
-- already keep them; quotes.created_at, takes.created_at, takes.updated_at and
-- moderation_log.removed_at were ISO 8601 text. Calendar days (local_date, next_local_date,
-- published_on) and the time of day post_time are not moments and stay text.
--
-- runner: foreign keys off
--
-- SQLite cannot change a column's type in place, so each table is rebuilt the way
-- sqlite.org/lang_altertable.html ("Making Other Kinds Of Table Schema Changes") describes:
-- create new_X, copy the rows, drop X, rename new_X to X, recreate X's indexes and triggers.
-- Foreign keys are off meanwhile (the header line above tells the runner, which checks them
-- all before committing): with them on, dropping quotes or takes would first delete their
-- rows, cascading to take_agrees and daily_cycle and clearing the daily tables' quote ids.
-- Rows keep their ids; agree_count and video_take_counts are copied or left as they were,
-- since the copy fires no trigger.

-- Every distinct stored time, read once. A fraction of a second is cut off first (unixepoch()
-- rounds .9995 up to the next second). A value that does not start with a YYYY-MM-DD date, or
-- that unixepoch() cannot read (basic forms such as 20260115T0900Z or +0000, an offset of hours
-- only, free text), stops the migration here, before anything changed: it is not turned into
-- 0 or NULL. Such values are found with
--   SELECT id, created_at FROM quotes
--   WHERE created_at NOT GLOB '[0-9][0-9][0-9][0-9]-*' OR unixepoch(created_at) IS NULL;
-- and likewise for takes.created_at, takes.updated_at and moderation_log.removed_at; once
-- they are rewritten as YYYY-MM-DDTHH:MM:SS+00:00, the next start migrates.
CREATE TEMP TABLE unix_seconds (
    iso TEXT PRIMARY KEY,
    seconds INTEGER
        CONSTRAINT "a stored time is not ISO 8601 text: see 0008_times_as_unix_seconds.sql"
        CHECK (seconds IS NOT NULL)
) WITHOUT ROWID;
INSERT INTO temp.unix_seconds (iso, seconds)
SELECT iso, CASE
    WHEN iso GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][T ][0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9]*'
    THEN unixepoch(substr(iso, 1, 19) || ltrim(substr(iso, 21), '0123456789'))
    WHEN iso GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' THEN unixepoch(iso)
END
FROM (
    SELECT created_at AS iso FROM quotes
    UNION SELECT created_at FROM takes
    UNION SELECT updated_at FROM takes
    UNION SELECT removed_at FROM moderation_log
);

CREATE TABLE new_quotes (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    video_id INTEGER REFERENCES videos (id),
    text TEXT NOT NULL,
    said_by TEXT,
    source_url TEXT,
    saved_by INTEGER,
    author_id INTEGER,
    is_sample INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,  -- Unix seconds, UTC
    slot INTEGER NOT NULL,
    video_slot INTEGER,
    CHECK ((video_id IS NULL) = (video_slot IS NULL))
);
INSERT INTO new_quotes (
    id, guild_id, video_id, text, said_by, source_url, saved_by, author_id, is_sample,
    created_at, slot, video_slot
)
SELECT
    id, guild_id, video_id, text, said_by, source_url, saved_by, author_id, is_sample,
    (SELECT seconds FROM temp.unix_seconds WHERE iso = quotes.created_at), slot, video_slot
FROM quotes;
DROP TABLE quotes;
ALTER TABLE new_quotes RENAME TO quotes;
CREATE UNIQUE INDEX quotes_by_slot ON quotes (guild_id, slot);
CREATE UNIQUE INDEX quotes_by_video_slot ON quotes (guild_id, video_id, video_slot)
    WHERE video_id IS NOT NULL;
CREATE INDEX quotes_by_saver ON quotes (guild_id, saved_by);
CREATE INDEX quotes_by_author ON quotes (guild_id, author_id);

CREATE TABLE new_takes (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    video_id INTEGER NOT NULL REFERENCES videos (id),
    user_id INTEGER NOT NULL,
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 10),
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,  -- Unix seconds, UTC
    updated_at INTEGER NOT NULL,  -- Unix seconds, UTC
    agree_count INTEGER NOT NULL DEFAULT 0,
    UNIQUE (guild_id, video_id, user_id)
);
INSERT INTO new_takes (
    id, guild_id, video_id, user_id, score, text, created_at, updated_at, agree_count
)
SELECT
    id, guild_id, video_id, user_id, score, text,
    (SELECT seconds FROM temp.unix_seconds WHERE iso = takes.created_at),
    (SELECT seconds FROM temp.unix_seconds WHERE iso = takes.updated_at),
    agree_count
FROM takes;
-- The agree triggers live on take_agrees but update takes: while takes is missing, RENAME
-- refuses to run with them in the schema, so they are dropped and recreated as they were.
DROP TRIGGER take_agrees_insert;
DROP TRIGGER take_agrees_delete;
DROP TABLE takes;
ALTER TABLE new_takes RENAME TO takes;
CREATE INDEX takes_newest ON takes (guild_id, video_id, updated_at DESC, id DESC);
CREATE INDEX takes_highest ON takes (guild_id, video_id, score DESC, updated_at DESC, id DESC);
CREATE INDEX takes_most_agreed ON takes (guild_id, video_id, agree_count DESC, id);
CREATE INDEX takes_by_member ON takes (guild_id, user_id);
CREATE TRIGGER takes_insert AFTER INSERT ON takes BEGIN
    INSERT INTO video_take_counts (guild_id, video_id, count) VALUES (NEW.guild_id, NEW.video_id, 1)
    ON CONFLICT (guild_id, video_id) DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER takes_delete AFTER DELETE ON takes BEGIN
    UPDATE video_take_counts SET count = count - 1
    WHERE guild_id = OLD.guild_id AND video_id = OLD.video_id;
    DELETE FROM video_take_counts
    WHERE guild_id = OLD.guild_id AND video_id = OLD.video_id AND count <= 0;
END;
CREATE TRIGGER take_agrees_insert AFTER INSERT ON take_agrees BEGIN
    UPDATE takes SET agree_count = agree_count + 1 WHERE id = NEW.take_id;
END;
CREATE TRIGGER take_agrees_delete AFTER DELETE ON take_agrees BEGIN
    UPDATE takes SET agree_count = agree_count - 1 WHERE id = OLD.take_id;
END;

CREATE TABLE new_moderation_log (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('quote', 'take')),
    item_id INTEGER NOT NULL,
    author_id INTEGER,
    removed_by INTEGER NOT NULL,
    reason TEXT,
    removed_at INTEGER NOT NULL  -- Unix seconds, UTC
);
INSERT INTO new_moderation_log (
    id, guild_id, kind, item_id, author_id, removed_by, reason, removed_at
)
SELECT
    id, guild_id, kind, item_id, author_id, removed_by, reason,
    (SELECT seconds FROM temp.unix_seconds WHERE iso = moderation_log.removed_at)
FROM moderation_log;
DROP TABLE moderation_log;
ALTER TABLE new_moderation_log RENAME TO moderation_log;
CREATE INDEX moderation_log_by_guild ON moderation_log (guild_id, removed_at);
CREATE INDEX moderation_log_by_author ON moderation_log (guild_id, author_id);
CREATE INDEX moderation_log_by_remover ON moderation_log (guild_id, removed_by);

DROP TABLE temp.unix_seconds;
