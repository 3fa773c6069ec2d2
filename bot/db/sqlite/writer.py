"""The one writer connection and its units of work.

SQLite allows one writer at a time. Every write goes through this connection inside an
asyncio lock, so two commands can never interleave statements in one transaction and
commit each other's half-done work. Reads use other connections, which WAL lets run while
a write is in progress.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from bot.db.failures import FailureLog, ReferenceGone
from bot.db.sqlite.connections import Executes, ThreadConnection
from bot.db.sqlite.failures import cannot_save, is_storage_failure
from bot.db.sqlite.sessions import SQLiteWriteSession
from bot.errors import CannotSaveError

log = logging.getLogger(__name__)


class Writer:
    def __init__(
        self, conn: ThreadConnection, failures: FailureLog, on_commit: Callable[[], None]
    ) -> None:
        self.conn = conn
        self._session = SQLiteWriteSession(conn)
        self._lock = asyncio.Lock()
        self._failures = failures
        self._on_commit = on_commit
        self._refusing: str | None = None

    def refuse_writes(self, reason: str) -> None:
        self._refusing = reason

    def _refuse_if_closing(self) -> None:
        if self._refusing is not None:
            raise CannotSaveError(f"{self._refusing}: nothing was saved. Try again soon.")

    def _raise_if_storage_failure(self, error: sqlite3.Error) -> None:
        """A failure of the storage becomes the member's sentence (logged once per kind a
        minute); any other error, such as a constraint, is left to the caller."""
        if is_storage_failure(error):
            raise cannot_save(error, self._failures) from error

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SQLiteWriteSession]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error."""
        async with self.batch() as (session, _):
            yield session

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[tuple[SQLiteWriteSession, Executes]]:
        """A unit of work with its connection, for the group commit's batch statements."""
        async with self._lock:
            self._refuse_if_closing()
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._raise_if_storage_failure(exc)
                raise
            try:
                yield self._session, self.conn
                self._refuse_if_closing()
                await self.conn.execute("COMMIT")
            except BaseException as exc:
                if self.conn.in_transaction:
                    try:
                        await self.conn.execute("ROLLBACK")
                    except sqlite3.Error:  # the original error is the one to report
                        log.warning("rollback failed after %r", exc)
                if isinstance(exc, sqlite3.Error):
                    self._raise_if_storage_failure(exc)
                if isinstance(exc, sqlite3.IntegrityError) and "FOREIGN KEY" in str(exc):
                    # What the write points at was removed by a write just before it.
                    raise ReferenceGone() from exc
                raise
            self._on_commit()

    async def close(self) -> None:
        """Refuse what comes next, let a transaction under way end (it is rolled back, since
        it can no longer commit), then close the connection."""
        if self._refusing is None:
            self._refusing = "TakeTwo is restarting"
        async with self._lock:
            await self.conn.close()
