-- 0001: the catalog (videos, credits, press reviews), quotes and ratings.

-- The catalog is shared by every server. `slug` is the stable key used by catalog files.
CREATE TABLE videos (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    artist TEXT NOT NULL,
    album TEXT,
    year INTEGER,
    url TEXT,
    -- Folded (lowercase, accents and punctuation removed) copies for search.
    search_title TEXT NOT NULL,
    search_text TEXT NOT NULL
);
CREATE INDEX videos_by_search_title ON videos (search_title);

-- Trigram index over folded "title artist" for substring and typo-tolerant lookups.
CREATE VIRTUAL TABLE video_search USING fts5 (
    search_text, content = 'videos', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER videos_search_insert AFTER INSERT ON videos BEGIN
    INSERT INTO video_search (rowid, search_text) VALUES (NEW.id, NEW.search_text);
END;
CREATE TRIGGER videos_search_delete AFTER DELETE ON videos BEGIN
    INSERT INTO video_search (video_search, rowid, search_text)
    VALUES ('delete', OLD.id, OLD.search_text);
END;
CREATE TRIGGER videos_search_update AFTER UPDATE OF search_text ON videos BEGIN
    INSERT INTO video_search (video_search, rowid, search_text)
    VALUES ('delete', OLD.id, OLD.search_text);
    INSERT INTO video_search (rowid, search_text) VALUES (NEW.id, NEW.search_text);
END;

CREATE TABLE credits (
    video_id INTEGER NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (video_id, position)
) WITHOUT ROWID;

CREATE TABLE press_reviews (
    id INTEGER PRIMARY KEY,
    video_id INTEGER NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    outlet TEXT,
    headline TEXT NOT NULL,
    author TEXT,
    published_on TEXT,
    url TEXT,
    summary TEXT NOT NULL,
    UNIQUE (video_id, position)
);

-- guild_id 0 holds the catalog's quotes, shared by every server.
-- `slot` numbers a server's quotes 1..n without gaps (and `video_slot` those of one video),
-- so a uniformly random quote is one indexed lookup of a random slot, never a table scan.
CREATE TABLE quotes (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    video_id INTEGER REFERENCES videos (id),
    text TEXT NOT NULL,
    said_by TEXT,
    source_url TEXT,
    saved_by INTEGER,
    author_id INTEGER,
    is_sample INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    slot INTEGER NOT NULL,
    video_slot INTEGER,
    CHECK ((video_id IS NULL) = (video_slot IS NULL))
);
CREATE UNIQUE INDEX quotes_by_slot ON quotes (guild_id, slot);
CREATE UNIQUE INDEX quotes_by_video_slot ON quotes (guild_id, video_id, video_slot)
    WHERE video_id IS NOT NULL;
CREATE INDEX quotes_by_saver ON quotes (guild_id, saved_by);
CREATE INDEX quotes_by_author ON quotes (guild_id, author_id);

CREATE TABLE ratings (
    guild_id INTEGER NOT NULL,
    video_id INTEGER NOT NULL REFERENCES videos (id),
    user_id INTEGER NOT NULL,
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 10),
    rated_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, video_id, user_id)
) WITHOUT ROWID;
CREATE INDEX ratings_by_member ON ratings (guild_id, user_id);

-- Per-server aggregates, kept exact by the triggers below in the same transaction as the
-- rating write: reads never recompute from all ratings.
CREATE TABLE video_scores (
    guild_id INTEGER NOT NULL,
    video_id INTEGER NOT NULL,
    count INTEGER NOT NULL,
    total INTEGER NOT NULL,
    s1 INTEGER NOT NULL DEFAULT 0,
    s2 INTEGER NOT NULL DEFAULT 0,
    s3 INTEGER NOT NULL DEFAULT 0,
    s4 INTEGER NOT NULL DEFAULT 0,
    s5 INTEGER NOT NULL DEFAULT 0,
    s6 INTEGER NOT NULL DEFAULT 0,
    s7 INTEGER NOT NULL DEFAULT 0,
    s8 INTEGER NOT NULL DEFAULT 0,
    s9 INTEGER NOT NULL DEFAULT 0,
    s10 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, video_id)
) WITHOUT ROWID;

CREATE TABLE guild_scores (
    guild_id INTEGER PRIMARY KEY,
    count INTEGER NOT NULL,
    total INTEGER NOT NULL
);

CREATE TRIGGER ratings_insert AFTER INSERT ON ratings BEGIN
    INSERT INTO video_scores (guild_id, video_id, count, total, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10)
    VALUES (NEW.guild_id, NEW.video_id, 1, NEW.score, NEW.score = 1, NEW.score = 2, NEW.score = 3, NEW.score = 4, NEW.score = 5, NEW.score = 6, NEW.score = 7, NEW.score = 8, NEW.score = 9, NEW.score = 10)
    ON CONFLICT (guild_id, video_id) DO UPDATE SET
        count = count + 1, total = total + excluded.total, s1 = s1 + excluded.s1, s2 = s2 + excluded.s2, s3 = s3 + excluded.s3, s4 = s4 + excluded.s4, s5 = s5 + excluded.s5, s6 = s6 + excluded.s6, s7 = s7 + excluded.s7, s8 = s8 + excluded.s8, s9 = s9 + excluded.s9, s10 = s10 + excluded.s10;
    INSERT INTO guild_scores (guild_id, count, total) VALUES (NEW.guild_id, 1, NEW.score)
    ON CONFLICT (guild_id) DO UPDATE SET count = count + 1, total = total + excluded.total;
END;

CREATE TRIGGER ratings_update AFTER UPDATE OF score ON ratings BEGIN
    UPDATE video_scores SET
        total = total + NEW.score - OLD.score,
        s1 = s1 + (NEW.score = 1) - (OLD.score = 1),
        s2 = s2 + (NEW.score = 2) - (OLD.score = 2),
        s3 = s3 + (NEW.score = 3) - (OLD.score = 3),
        s4 = s4 + (NEW.score = 4) - (OLD.score = 4),
        s5 = s5 + (NEW.score = 5) - (OLD.score = 5),
        s6 = s6 + (NEW.score = 6) - (OLD.score = 6),
        s7 = s7 + (NEW.score = 7) - (OLD.score = 7),
        s8 = s8 + (NEW.score = 8) - (OLD.score = 8),
        s9 = s9 + (NEW.score = 9) - (OLD.score = 9),
        s10 = s10 + (NEW.score = 10) - (OLD.score = 10)
    WHERE guild_id = NEW.guild_id AND video_id = NEW.video_id;
    UPDATE guild_scores SET total = total + NEW.score - OLD.score WHERE guild_id = NEW.guild_id;
END;

CREATE TRIGGER ratings_delete AFTER DELETE ON ratings BEGIN
    UPDATE video_scores SET
        count = count - 1,
        total = total - OLD.score,
        s1 = s1 - (OLD.score = 1),
        s2 = s2 - (OLD.score = 2),
        s3 = s3 - (OLD.score = 3),
        s4 = s4 - (OLD.score = 4),
        s5 = s5 - (OLD.score = 5),
        s6 = s6 - (OLD.score = 6),
        s7 = s7 - (OLD.score = 7),
        s8 = s8 - (OLD.score = 8),
        s9 = s9 - (OLD.score = 9),
        s10 = s10 - (OLD.score = 10)
    WHERE guild_id = OLD.guild_id AND video_id = OLD.video_id;
    DELETE FROM video_scores
    WHERE guild_id = OLD.guild_id AND video_id = OLD.video_id AND count = 0;
    UPDATE guild_scores SET count = count - 1, total = total - OLD.score
    WHERE guild_id = OLD.guild_id;
END;
