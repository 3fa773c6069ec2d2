-- 0011: videos added from a link. The thumbnail the video's host shows for it, the link
-- looked up by its canonical form (so the same video is found, not added twice), and the
-- add forms waiting for an editor: what the lookups found, kept so that the form's button
-- still opens it after a restart. Drafts are short-lived: older ones are dropped as new
-- ones are saved.
ALTER TABLE videos ADD COLUMN thumbnail_url TEXT;
CREATE INDEX videos_by_url ON videos (url);
CREATE TABLE video_drafts (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    facts TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX video_drafts_by_age ON video_drafts (created_at);
