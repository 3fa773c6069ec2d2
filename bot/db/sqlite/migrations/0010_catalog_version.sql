-- 0010: a number that changes whenever a catalog video is added, edited or removed, by any
-- process (the bot, a CLI import beside it). Processes that keep videos in memory compare it
-- and drop what they kept when it moved, so an edit is seen everywhere at once.
CREATE TABLE catalog_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);
CREATE TRIGGER catalog_version_on_insert AFTER INSERT ON videos BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER catalog_version_on_update AFTER UPDATE ON videos BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER catalog_version_on_delete AFTER DELETE ON videos BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;
