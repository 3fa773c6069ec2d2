-- 0012: members suggest videos by their link; catalog editors approve or reject them.
-- A suggestion is one link while it waits (the partial unique index): a second member who
-- suggests the same link joins it as one more suggester, with their own note. Once decided,
-- the link may be suggested again. The suggesters are kept per server, as every member's
-- data is, so that /privacy forget-me finds them; a suggestion no one suggests any more goes.
CREATE TABLE video_suggestions (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at INTEGER NOT NULL,
    video_id INTEGER REFERENCES videos (id) ON DELETE SET NULL,
    reason TEXT,
    decided_at INTEGER
);
CREATE UNIQUE INDEX video_suggestions_waiting_by_url ON video_suggestions (url)
    WHERE status = 'pending';
CREATE INDEX video_suggestions_waiting ON video_suggestions (id) WHERE status = 'pending';
CREATE INDEX video_suggestions_by_video ON video_suggestions (video_id);
CREATE TABLE video_suggesters (
    suggestion_id INTEGER NOT NULL REFERENCES video_suggestions (id) ON DELETE CASCADE,
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    note TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (suggestion_id, guild_id, user_id)
);
CREATE INDEX video_suggesters_by_member ON video_suggesters (guild_id, user_id, suggestion_id);
