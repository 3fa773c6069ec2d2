"""Checkpoints: copying committed pages from the write-ahead log back into the database
file, on a connection and thread of their own, so that a commit only appends to the WAL and
the writer never waits for a copy (or its fsync)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from bot.db.failures import FailureLog
from bot.db.sqlite.connections import ThreadConnection

log = logging.getLogger(__name__)

ERASE_ATTEMPTS = 3


class Checkpointer:
    def __init__(self, conn: ThreadConnection, failures: FailureLog) -> None:
        self.conn = conn
        self._failures = failures
        self._committed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._committed.set()  # whatever opening the database wrote (migrations)
        self._task = asyncio.create_task(self._after_commits())

    def committed(self) -> None:
        """Called after every commit: there are new pages to copy."""
        self._committed.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.conn.close()

    async def _after_commits(self) -> None:
        """PASSIVE never blocks the writer or the readers; a busy page is left for next time."""
        while True:
            await self._committed.wait()
            self._committed.clear()
            try:
                await self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:
                # Once per kind a minute: a full disk fails every checkpoint.
                self._failures.record(
                    getattr(exc, "sqlite_errorname", type(exc).__name__),
                    f"background checkpoint failed (the writer checkpoints instead): {exc}",
                )

    async def erase_deleted_text(self) -> None:
        """Copy every committed page into the database file (where secure_delete has zeroed
        what was deleted) and empty the write-ahead log, which still holds the old pages:
        after /privacy forget-me nothing of the member may linger in either file."""
        for _ in range(ERASE_ATTEMPTS):
            # TRUNCATE waits (busy timeout) for readers and writers; busy=1 means it could
            # not finish this time.
            [row] = await self.conn.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
            if not row["busy"]:
                return
        log.warning("the write-ahead log could not be emptied after forget-me; it will be soon")
