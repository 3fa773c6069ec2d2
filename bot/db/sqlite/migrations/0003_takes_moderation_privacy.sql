-- 0003: community takes and agrees, the moderation log, and members' privacy choices.

-- One take per member per video per server; running /take again edits it.
CREATE TABLE takes (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    video_id INTEGER NOT NULL REFERENCES videos (id),
    user_id INTEGER NOT NULL,
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 10),
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    agree_count INTEGER NOT NULL DEFAULT 0,
    UNIQUE (guild_id, video_id, user_id)
);
CREATE INDEX takes_newest ON takes (guild_id, video_id, updated_at DESC, id DESC);
CREATE INDEX takes_highest ON takes (guild_id, video_id, score DESC, updated_at DESC, id DESC);
CREATE INDEX takes_most_agreed ON takes (guild_id, video_id, agree_count DESC, id);
CREATE INDEX takes_by_member ON takes (guild_id, user_id);

CREATE TABLE take_agrees (
    take_id INTEGER NOT NULL REFERENCES takes (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    guild_id INTEGER NOT NULL,
    PRIMARY KEY (take_id, user_id)
) WITHOUT ROWID;
CREATE INDEX take_agrees_by_member ON take_agrees (guild_id, user_id);

-- Kept exact by triggers in the writing transaction, like the rating aggregates.
CREATE TABLE video_take_counts (
    guild_id INTEGER NOT NULL,
    video_id INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (guild_id, video_id)
) WITHOUT ROWID;

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

-- What moderators removed, and why. The removed text itself is not kept.
CREATE TABLE moderation_log (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('quote', 'take')),
    item_id INTEGER NOT NULL,
    author_id INTEGER,
    removed_by INTEGER NOT NULL,
    reason TEXT,
    removed_at TEXT NOT NULL
);
CREATE INDEX moderation_log_by_guild ON moderation_log (guild_id, removed_at);
CREATE INDEX moderation_log_by_author ON moderation_log (guild_id, author_id);
CREATE INDEX moderation_log_by_remover ON moderation_log (guild_id, removed_by);

CREATE TABLE member_settings (
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    no_quotes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
