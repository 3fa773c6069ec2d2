-- 0006: as SQLite's migration 0013: when start-up last made sure every stored video link
-- has its canonical form, so later starts skip the check.
ALTER TABLE catalog_decision ADD COLUMN links_checked_at bigint;
