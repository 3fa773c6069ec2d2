-- Whether this database got the sample catalog is decided once, by whoever first opens it
-- (the bot or a CLI command), in the same transaction as the sample's import; a start that
-- failed halfway decides again next time instead of leaving an empty catalog for good.
CREATE TABLE catalog_decision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    sample_loaded INTEGER NOT NULL,
    decided_at INTEGER NOT NULL
);
