-- 0002: a number that changes whenever a catalog video is added, edited or removed, by any
-- process, announced on the channel `taketwo_catalog` (NOTIFY is sent when the writing
-- transaction commits). Processes that keep videos in memory listen, and drop what they
-- kept when it moves: an edit through one shard is seen by every shard at once.
CREATE TABLE catalog_version (
    id integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);

CREATE FUNCTION catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    now_at bigint;
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1 RETURNING version INTO now_at;
    PERFORM pg_notify('taketwo_catalog', now_at::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE ON videos
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
