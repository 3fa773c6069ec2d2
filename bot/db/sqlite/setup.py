"""Decisions a database records about itself once."""

from __future__ import annotations

import time

import aiosqlite

# Databases that existed before this version decided about the sample when they were
# created, without recording it.
CATALOG_DECISION_VERSION = 7


class SetupQueries:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def catalog_decided(self) -> bool:
        rows = await self.conn.execute_fetchall("SELECT 1 FROM catalog_decision WHERE id = 1")
        return bool(list(rows))

    async def record_catalog_decision(self, *, sample_loaded: bool) -> None:
        await self.conn.execute(
            "INSERT INTO catalog_decision (id, sample_loaded, decided_at) VALUES (1, ?, ?)",
            (int(sample_loaded), int(time.time())),
        )
