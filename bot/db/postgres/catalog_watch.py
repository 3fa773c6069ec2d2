"""The catalog's version (migration 0002), kept current by LISTEN: answering "has the
catalog changed?" costs no round trip, and every process hears of an edit made by any other
the moment it commits.

The listening connection can be lost: the server restarts, an administrator ends its
backend, or the network drops it without a word (a half-open socket, on which no
notification will ever arrive). While it is known to be lost, each question is asked of
the database instead; a task connects again (sooner at first, then less often while the
server stays away) and reads the version again once it listens. A silent loss is found by a
cheap statement every CHECK_EVERY_S seconds that must answer within CHECK_TIMEOUT_S: a
version the watch heard is never trusted for longer than those two together (15 s) after
the connection stopped carrying notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import asyncpg

from bot.db.postgres.connections import CONNECT_TIMEOUT_S, SERVER_SETTINGS

if TYPE_CHECKING:
    from bot.db.postgres.connections import Pool

log = logging.getLogger(__name__)

CHANNEL = "taketwo_catalog"
# The listener's name among the server's sessions (pg_stat_activity), for an operator.
APPLICATION_NAME = "taketwo catalog listener"
_VERSION = "SELECT version FROM catalog_version WHERE id = 1"
CHECK_EVERY_S = 10.0
CHECK_TIMEOUT_S = 5.0
# Connecting again: at once after a loss, then after waits that double up to the last.
RETRY_FIRST_S = 0.5
RETRY_LAST_S = 15.0


class CatalogWatch:
    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: asyncpg.Connection[asyncpg.Record] | None = None
        # None while no listener is connected: then each question is asked of the database.
        self._version: int | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._lost_now = asyncio.Event()

    async def start(self) -> None:
        """Listen, or raise what connecting raised; then keep listening until close()."""
        self._lost_now = asyncio.Event()  # of this event loop
        await self._listen()
        self._keeper = asyncio.create_task(self._keep_listening())

    async def _listen(self) -> None:
        conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(
            self.url,
            timeout=CONNECT_TIMEOUT_S,
            server_settings={**SERVER_SETTINGS, "application_name": APPLICATION_NAME},
        )
        try:
            # Listen first, then read: a change committed in between is heard, not missed.
            await conn.add_listener(CHANNEL, self._changed)
            conn.add_termination_listener(self._lost)
            version = int(await conn.fetchval(_VERSION, timeout=CHECK_TIMEOUT_S))
        except BaseException:
            conn.terminate()
            raise
        self._conn = conn
        self._version = version

    def _changed(self, conn: object, pid: int, channel: str, payload: object) -> None:
        heard = int(str(payload))
        if self._version is not None:
            self._version = max(self._version, heard)

    def _lost(self, conn: object) -> None:
        if self._conn is not None:  # not closed on purpose
            log.warning("lost the catalog listener: the catalog version is read per request")
        self._version = None
        self._lost_now.set()

    def _drop(self) -> None:
        """Forget a connection that no longer answers: its notifications may never come."""
        conn, self._conn = self._conn, None
        self._version = None
        if conn is not None:
            conn.terminate()

    async def _keep_listening(self) -> None:
        retry = RETRY_FIRST_S
        while True:
            if self._conn is None or self._conn.is_closed():
                self._drop()
                try:
                    await self._listen()
                except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    await self._wait(retry)
                    retry = min(retry * 2, RETRY_LAST_S)
                    continue
                log.info("the catalog listener is back: the catalog version is heard again")
                retry = RETRY_FIRST_S
            await self._wait(CHECK_EVERY_S)
            conn = self._conn
            if conn is None or conn.is_closed():
                continue
            try:
                await conn.fetchval("SELECT 1", timeout=CHECK_TIMEOUT_S)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning("the catalog listener stopped answering: connecting again")
                self._drop()

    async def _wait(self, seconds: float) -> None:
        """Sleep, or less if the connection is lost meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._lost_now.wait(), seconds)
        self._lost_now.clear()

    async def version(self, pool: Pool) -> int:
        if self._version is not None:
            return self._version
        return int(await pool.fetchval(_VERSION))

    async def close(self) -> None:
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
        conn, self._conn = self._conn, None
        self._version = None
        if conn is not None:
            await conn.close()
