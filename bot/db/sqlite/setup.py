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

    async def upkeep_version(self) -> int:
        rows = await self._conn.fetchall("SELECT upkeep_version FROM catalog_decision")
        return int(rows[0]["upkeep_version"]) if rows else 0


class SQLiteSetupWrites(SQLiteSetupReads):
    def __init__(self, conn: Executes) -> None:
        super().__init__(conn)
        self._writer = conn

    async def record_catalog_decision(self, *, sample_loaded: bool) -> None:
        await self._writer.execute(
            "INSERT INTO catalog_decision (id, sample_loaded, decided_at) VALUES (1, ?, ?)",
            (int(sample_loaded), int(time.time())),
        )

    async def record_upkeep(self, version: int) -> None:
        await self._writer.execute(
            "UPDATE catalog_decision SET upkeep_version = ? WHERE id = 1", (version,)
        )
