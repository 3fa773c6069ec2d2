"""The advisory locks that make a unit of work see what it decides on.

Transactions run at READ COMMITTED: each statement sees what was committed when it began.
A write that is one statement (an upsert with an increment, a delete) is correct at that
level whatever runs beside it. A unit of work that reads, decides and then writes (the next
free quote slot, the day's claim of a daily post, a free slug) is not, if another process
does the same at the same moment. SQLite avoided the question with its single writer; here
each such unit first takes the lock of what it decides on, so two of them on the same
server's quotes (or daily post, or the catalog) take turns, while units of work on other
servers run side by side.

Each lock is `pg_advisory_xact_lock(kind, hash of the key)`: held until the transaction
ends, never by a session. Two keys that hash alike only make their units take turns.
Whoever holds several takes them in the order of `Kind` and then of key, so no two units
of work wait on each other in a circle.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from bot.db.postgres.connections import Executes


class Kind(IntEnum):
    # In the order a unit of work may take them (see the module docstring).
    SETUP = 1  # the one-time decisions (the sample catalog)
    CATALOG = 2  # every edit of the catalog: one at a time, like slugs and same-title checks
    MEMBER = 3  # one member's privacy choice in one server (key: guild ^ user)
    QUOTES = 4  # one server's quote slots (key: guild; 0 is the catalog's quotes)
    DAILY = 5  # one server's daily schedule, posts and cycle (key: guild)
    IDENTIFY = 6  # a max_concurrency bucket's turn to start a gateway session (key: bucket)


class Locks:
    """The locks one transaction holds: each is asked of the server once."""

    def __init__(self, conn: Executes) -> None:
        self._conn = conn
        self._held: set[tuple[Kind, int]] = set()

    async def hold(self, kind: Kind, key: int = 0) -> None:
        if (kind, key) in self._held:
            return
        await self._conn.execute(
            "SELECT pg_advisory_xact_lock($1::integer, hashint8($2::bigint))", int(kind), key
        )
        self._held.add((kind, key))

    async def hold_all(self, kind: Kind, keys: Iterable[int]) -> None:
        for key in sorted(set(keys)):
            await self.hold(kind, key)

    async def catalog(self) -> None:
        await self.hold(Kind.CATALOG)

    async def setup(self) -> None:
        await self.hold(Kind.SETUP)

    async def identify_turn(self, bucket: int) -> None:
        """Wait, however long, for a bucket's turn: its holder keeps it for a few seconds,
        and processes queue for it (discord.py gives up on the connection first)."""
        await self._conn.execute("SET LOCAL lock_timeout = 0")
        await self.hold(Kind.IDENTIFY, bucket)
