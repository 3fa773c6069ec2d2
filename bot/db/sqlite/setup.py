"""Decisions a database records about itself once."""

from __future__ import annotations

import time

from bot.db.sqlite.connections import Executes, Fetches

# Databases that existed before this version decided about the sample when they were
# created, without recording it.
CATALOG_DECISION_VERSION = 7


class SQLiteSetupReads:
    def __init__(self, conn: Fetches) -> None:
        self._conn = conn

    async def catalog_decided(self) -> bool:
        return bool(await self._conn.fetchall("SELECT 1 FROM catalog_decision WHERE id = 1"))

    async def links_checked(self) -> bool:
        rows = await self._conn.fetchall(
            "SELECT 1 FROM catalog_decision WHERE id = 1 AND links_checked_at IS NOT NULL"
        )
        return bool(rows)


class SQLiteSetupWrites(SQLiteSetupReads):
    def __init__(self, conn: Executes) -> None:
        super().__init__(conn)
        self._writer = conn

    async def record_catalog_decision(self, *, sample_loaded: bool) -> None:
        await self._writer.execute(
            "INSERT INTO catalog_decision (id, sample_loaded, decided_at) VALUES (1, ?, ?)",
            (int(sample_loaded), int(time.time())),
        )

    async def record_links_checked(self) -> None:
        await self._writer.execute(
            "UPDATE catalog_decision SET links_checked_at = ? WHERE id = 1", (int(time.time()),)
        )
