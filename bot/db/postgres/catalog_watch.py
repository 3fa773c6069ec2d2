"""The catalog's version (migration 0002), kept current by LISTEN: answering "has the
catalog changed?" costs no round trip, and every process hears of an edit made by any other
the moment it commits."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import asyncpg

from bot.db.postgres.connections import CONNECT_TIMEOUT_S, SERVER_SETTINGS

if TYPE_CHECKING:
    from bot.db.postgres.connections import Pool

log = logging.getLogger(__name__)

CHANNEL = "taketwo_catalog"
_VERSION = "SELECT version FROM catalog_version WHERE id = 1"


class CatalogWatch:
    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: asyncpg.Connection[asyncpg.Record] | None = None
        # None while no listener is connected: then each question is asked of the database.
        self._version: int | None = None

    async def start(self) -> None:
        conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(
            self.url, timeout=CONNECT_TIMEOUT_S, server_settings=SERVER_SETTINGS
        )
        self._conn = conn
        # Listen first, then read: a change committed in between is heard, not missed.
        await conn.add_listener(CHANNEL, self._changed)
        conn.add_termination_listener(self._lost)
        self._version = int(await conn.fetchval(_VERSION))

    def _changed(self, conn: object, pid: int, channel: str, payload: object) -> None:
        heard = int(str(payload))
        if self._version is not None:
            self._version = max(self._version, heard)

    def _lost(self, conn: object) -> None:
        if self._conn is not None:  # not closed on purpose
            log.warning("lost the catalog listener: the catalog version is read per request")
        self._version = None

    async def version(self, pool: Pool) -> int:
        if self._version is not None:
            return self._version
        return int(await pool.fetchval(_VERSION))

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        self._version = None
        if conn is not None:
            await conn.close()
