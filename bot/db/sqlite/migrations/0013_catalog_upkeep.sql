-- 0013: how far start-up has brought a catalog saved by an older version up to date (links
-- in their canonical form, names folded for search: see bot/startup.py), so that later
-- starts read one number instead of every video.
ALTER TABLE catalog_decision ADD COLUMN upkeep_version INTEGER NOT NULL DEFAULT 0;
