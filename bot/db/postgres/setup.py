"""Decisions a database records about itself once."""

from __future__ import annotations

import time

from bot.db.postgres.connections import Executes, Queries


class PostgresSetupReads:
    def __init__(self, conn: Queries) -> None:
        self.conn = conn

    async def catalog_decided(self) -> bool:
        return bool(await self.conn.fetchval("SELECT EXISTS (SELECT FROM catalog_decision)"))

    async def upkeep_version(self) -> int:
        version = await self.conn.fetchval("SELECT upkeep_version FROM catalog_decision")
        return int(version) if version is not None else 0


class PostgresSetupWrites(PostgresSetupReads):
    """Given a connection that takes the setup lock first: two processes starting on a new
    database at once decide one after the other, and the second finds the first's decision
    (and its sample catalog) instead of importing it again."""

    def __init__(self, conn: Executes) -> None:
        super().__init__(conn)
        self.writer = conn

    async def record_catalog_decision(self, *, sample_loaded: bool) -> None:
        await self.writer.execute(
            "INSERT INTO catalog_decision (id, sample_loaded, decided_at) VALUES (1, $1, $2)",
            sample_loaded,
            int(time.time()),
        )

    async def record_upkeep(self, version: int) -> None:
        await self.writer.execute(
            "UPDATE catalog_decision SET upkeep_version = $1 WHERE id = 1", version
        )
