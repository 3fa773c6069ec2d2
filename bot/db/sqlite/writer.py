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
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from bot.db.failures import FailureLog, ReferenceGone
from bot.db.sqlite.connections import Statement, ThreadConnection
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

    async def run_unit(self, statements: Sequence[Statement]) -> list[list[sqlite3.Row]]:
        """The statements as one unit of work (BEGIN IMMEDIATE ... COMMIT) in a single round
        trip to the writer's thread, for the group commit; returns each statement's rows."""
        async with self._lock:
            self._refuse_if_closing()
            try:
                rows = await self.conn.run_in_one_trip(
                    [Statement("BEGIN IMMEDIATE"), *statements, Statement("COMMIT")]
                )
            except BaseException as exc:
                await self._fail(exc)
                raise
        self._on_commit()
        return rows[1:-1]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SQLiteWriteSession]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error."""
        async with self._lock:
            self._refuse_if_closing()
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._raise_if_storage_failure(exc)
                raise
            try:
                yield self._session
                self._refuse_if_closing()
                await self.conn.execute("COMMIT")
            except BaseException as exc:
                await self._fail(exc)
                raise
            self._on_commit()

    async def _fail(self, exc: BaseException) -> None:
        """After an error inside a unit of work: roll back what it wrote, and raise what the
        member should hear instead of a driver's error, when there is such a thing."""
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

    async def close(self) -> None:
        """Refuse what comes next, let a transaction under way end (it is rolled back, since
        it can no longer commit), then close the connection."""
        if self._refusing is None:
            self._refusing = "TakeTwo is restarting"
        async with self._lock:
            await self.conn.close()
