"""The SQLite connections and what each kind may do.

Query classes never see a driver: they get a `Fetches` (statements that only read) or an
`Executes` (which may write too), and rows they read by column name (`sqlite3.Row`). Which
one a query class gets is decided by its tier (see bot/db/sqlite/sessions.py), so a read
tier cannot write, and a lookup tier runs on the event loop's connection (its profiles, in
batches on a thread of their own: `RunsInOneTrip`).

- `ThreadConnection`: an aiosqlite connection, whose statements run on a thread of its own.
  The writer, the readers and the checkpointer are of this kind.
- `LoopConnection`: a read-only sqlite3 connection used directly on the event loop's
  thread, for lookups. A round trip to an aiosqlite thread costs 0.2 ms at best and 1-2 ms at
  the 99th percentile on a busy 2-core machine, while a lookup is a few index probes that
  SQLite answers in 10-100 µs; each statement runs in autocommit mode and so sees one
  snapshot.
- The profile lookups' own `ThreadConnection`: a /profile reads a dozen places (0.07 ms
  alone, 0.2 ms on a busy event loop, about a third of the loop's time for the whole
  interaction), so profiles asked for at the same moment go to a thread in one round trip,
  and the loop only waits (bot/db/sqlite/people.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple, Protocol

import aiosqlite

Params = Sequence[object] | Mapping[str, object]


class Statement(NamedTuple):
    sql: str
    params: Params = ()


BUSY_TIMEOUT_MS = 5000
# The lookup connection waits at most this long for a lock (in WAL mode a reader meets one
# only in rare moments, such as recovery after a crash), since it blocks the event loop.
LOOKUP_BUSY_TIMEOUT_MS = 50
# Checkpoints run on a connection of their own (bot/db/sqlite/checkpoints.py), so a commit
# only appends to the WAL. Should that fall behind, the writer checkpoints by itself once
# the WAL holds this many pages (64 MB).
WRITER_AUTOCHECKPOINT = 16384
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
WAL_SWITCH_ATTEMPTS = 500
# Page caches, in KiB (negative cache_size): the writer touches pages all over the rating
# tables; the lookup connection serves the hot reads; the thread readers the rest.
WRITER_CACHE_KIB = 32768
LOOKUP_CACHE_KIB = 24576
READER_CACHE_KIB = 8192
# Temporary b-trees (GROUP BY, ORDER BY, DISTINCT, a materialized subquery) in memory: on
# the default, a statement that needs several opens a temporary file for them, which cost a
# /profile five times its reads (0.19 ms against 0.04 ms). They hold one statement's rows,
# and no member's text is left in a file by them.
TEMP_STORE = "MEMORY"


class Fetches(Protocol):
    """A connection as a read-only query sees it."""

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]: ...


class RunsInOneTrip(Protocol):
    """A thread connection as a batch of lookups sees it: several read statements, one
    round trip (see ThreadConnection.run_in_one_trip)."""

    async def run_in_one_trip(self, statements: Sequence[Statement]) -> list[list[sqlite3.Row]]: ...


class Executes(Fetches, Protocol):
    """A connection as a writing query sees it (inside the writer's transaction)."""

    async def execute(self, sql: str, params: Params = ()) -> None: ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None: ...


class ThreadConnection:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    # One round trip to the connection's thread each: closing a cursor would be a second,
    # so statements run through execute_fetchall, which leaves none open.
    async def execute(self, sql: str, params: Params = ()) -> None:
        await self._conn.execute_fetchall(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        await self._conn.executemany(sql, rows)

    async def run_in_one_trip(self, statements: Sequence[Statement]) -> list[list[sqlite3.Row]]:
        """Run the statements one after another on the connection's thread, and return each
        one's rows: one round trip for all of them. Between two round trips the thread waits
        for the event loop to come back to this connection, which at hundreds of interactions
        in flight is the larger part of a group commit's time. The first statement that fails
        raises, and those after it do not run."""
        # aiosqlite runs its own statements this way (Connection._execute on its thread);
        # it has no public call for several statements with parameters.
        rows: list[list[sqlite3.Row]] = await self._conn._execute(  # type: ignore[no-untyped-call]
            _run_all, self._conn, statements
        )
        return rows

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    @property
    def raw(self) -> aiosqlite.Connection:
        """The driver's connection, for the migration runner only."""
        return self._conn

    async def close(self) -> None:
        await self._conn.close()


def _run_all(
    conn: aiosqlite.Connection, statements: Sequence[Statement]
) -> list[list[sqlite3.Row]]:
    raw = conn._conn  # on the connection's own thread
    return [raw.execute(sql, params).fetchall() for sql, params in statements]


class LoopConnection:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        self._conn.close()


def connect_on_loop(path: Path) -> LoopConnection:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {LOOKUP_BUSY_TIMEOUT_MS}")
        conn.execute(f"PRAGMA cache_size = {-LOOKUP_CACHE_KIB}")
        conn.execute(f"PRAGMA temp_store = {TEMP_STORE}")
        conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return LoopConnection(conn)


async def _switch_to_wal(conn: aiosqlite.Connection) -> None:
    """On a brand-new file opened by two processes at once, the switch to WAL can fail at
    once with SQLITE_BUSY (the busy timeout does not cover it): try again shortly."""
    for attempt in range(WAL_SWITCH_ATTEMPTS):
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or attempt == WAL_SWITCH_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.01)


async def connect_on_thread(path: Path, *, read_only: bool) -> ThreadConnection:
    # isolation_level=None: BEGIN and COMMIT are issued explicitly, so a unit of work is.
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute(
            f"PRAGMA cache_size = {-(READER_CACHE_KIB if read_only else WRITER_CACHE_KIB)}"
        )
        await conn.execute(f"PRAGMA temp_store = {TEMP_STORE}")
        if read_only:
            await conn.execute("PRAGMA query_only = ON")
        else:
            await _switch_to_wal(conn)
            await conn.execute(f"PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT}")
            # After a burst the WAL file is cut back to this size when it restarts, not kept.
            await conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
            # In WAL mode NORMAL keeps the database consistent on power loss and commits fast.
            await conn.execute("PRAGMA synchronous = NORMAL")
            # Deleted text (forget-me, removed takes) is overwritten, not left in free pages.
            await conn.execute("PRAGMA secure_delete = ON")
    except BaseException:
        # aiosqlite's thread would otherwise outlive the failure and keep the process alive.
        await conn.close()
        raise
    return ThreadConnection(conn)
