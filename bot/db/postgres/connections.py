"""The connection pool, and what a query class may do with a connection.

Query classes never see asyncpg's pool or connection types: they get a `Queries` (which
only reads) or an `Executes` (which may write too). Lookups and reads get the pool itself,
so each statement borrows a connection for exactly as long as it runs; a unit of work gets
the one connection its transaction runs on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import asyncpg
from asyncpg import Record

MIN_CONNECTIONS = 2
MAX_CONNECTIONS = 10
# A write that waits this long for a row or advisory lock gives up (SQLite's busy timeout).
LOCK_TIMEOUT_MS = 5000
# Connecting to the server gives up after this long (an address that does not answer).
CONNECT_TIMEOUT_S = 10.0
# The statements of every query family, with room to spare: asyncpg prepares each once per
# connection and keeps it, so a hot read is one round trip of Bind/Execute.
STATEMENT_CACHE = 512
SERVER_SETTINGS = {
    "application_name": "taketwo",
    "lock_timeout": str(LOCK_TIMEOUT_MS),
    # Compiling a plan costs tens of milliseconds, far more than any of these queries.
    "jit": "off",
}

if TYPE_CHECKING:  # asyncpg's classes are generic only in its stubs
    from asyncpg.pool import PoolConnectionProxy

    Pool: TypeAlias = asyncpg.Pool[Record]
    # What the pool lends: a connection for one statement, a transaction or the migrations.
    Connection: TypeAlias = PoolConnectionProxy[Record]


class Queries(Protocol):
    """A connection (or the pool) as a read-only query sees it."""

    async def fetch(self, query: str, /, *args: object) -> list[Record]: ...

    async def fetchrow(self, query: str, /, *args: object) -> Record | None: ...

    async def fetchval(self, query: str, /, *args: object) -> Any: ...


class Executes(Queries, Protocol):
    """The transaction's connection, as a writing query sees it."""

    async def execute(self, query: str, /, *args: object) -> str: ...


class LockedFirst:
    """A transaction's connection that first takes a lock, once, before any statement of
    the query family it is given to: whatever that family reads in the transaction is then
    what another process's transaction committed, not what it is about to change."""

    def __init__(self, conn: Executes, lock: Callable[[], Awaitable[None]]) -> None:
        self._conn = conn
        self._lock = lock

    async def fetch(self, query: str, /, *args: object) -> list[Record]:
        await self._lock()
        return await self._conn.fetch(query, *args)

    async def fetchrow(self, query: str, /, *args: object) -> Record | None:
        await self._lock()
        return await self._conn.fetchrow(query, *args)

    async def fetchval(self, query: str, /, *args: object) -> Any:
        await self._lock()
        return await self._conn.fetchval(query, *args)

    async def execute(self, query: str, /, *args: object) -> str:
        await self._lock()
        return await self._conn.execute(query, *args)


async def _nothing_to_reset(conn: asyncpg.Connection[Record]) -> None:
    """Connections go back to the pool as they came: no statement sets anything for the
    session (every lock is a transaction's), so the reset query asyncpg would otherwise
    send on every release, a round trip each, has nothing to undo."""


async def create_pool(url: str, *, min_size: int, max_size: int) -> Pool:
    pool: Pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        reset=_nothing_to_reset,
        timeout=CONNECT_TIMEOUT_S,
        statement_cache_size=STATEMENT_CACHE,
        server_settings=SERVER_SETTINGS,
    )
    return pool


def redacted(url: str) -> str:
    """The URL as an operator may see it in a line or a log: never its password. Passwords
    hold any character (an unencoded `/`, `@` or `#` included) and may sit in the query
    (`?password=`), so nothing is parsed as a URL: the user is what comes before the first
    `:` of what precedes the last `@`, the host and database what follows it, and the
    query is left out."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return "(an address that cannot be shown)"
    userinfo, at, location = rest.rpartition("@")
    shown = location.split("?", 1)[0].split("#", 1)[0]
    options = " (options not shown)" if shown != location else ""
    if not at:
        return f"{scheme}://{shown}{options}"
    user, colon, _ = userinfo.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{shown}{options}"
