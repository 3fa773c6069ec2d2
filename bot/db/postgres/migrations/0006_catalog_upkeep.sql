-- 0006: as SQLite's migration 0013: how far start-up has brought a catalog saved by an
-- older version up to date, so that later starts read one number.
ALTER TABLE catalog_decision ADD COLUMN upkeep_version integer NOT NULL DEFAULT 0;
