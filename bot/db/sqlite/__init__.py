"""The SQLite implementation of the data layer: the embedded default."""
