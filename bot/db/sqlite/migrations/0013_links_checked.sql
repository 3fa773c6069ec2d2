-- 0013: when start-up last made sure every stored video link has its canonical form, so
-- later starts skip the check instead of reading every video's link each time.
ALTER TABLE catalog_decision ADD COLUMN links_checked_at INTEGER;
