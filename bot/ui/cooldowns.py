"""Per-member limits on writes, so that one member cannot flood the database.

Each kind of write allows a burst of `count`, refilled at one every `seconds / count`
(the generic cell rate algorithm): past that the member is told when they can go on.
A member's whole state is one number, the time at which their allowance is full again, so
a check costs O(1) whatever the number of members. Members are kept in the order they last
wrote; whoever's allowance is full again can no longer be limited and is forgotten from the
front, so the table holds only members who wrote within the last `seconds`.

Kept in memory: a restart forgives everyone, which is harmless. Kept per process, which is
exact even when several processes share one database: a member's key holds their server,
and Discord delivers every interaction of a server to that server's one shard
(`(guild_id >> 22) % shard_count`), which one process runs. Only during a rolling deploy,
when two processes briefly run the same shard, could a member's burst be counted in two
places for a moment.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from bot.errors import UserFacingError

LIMITS: dict[str, tuple[int, float]] = {
    "rating": (10, 60.0),
    "take": (3, 60.0),
    "quote": (5, 60.0),
    "agree": (15, 60.0),
    # Each suggestion waits for an editor's time: a few in a row, then one every 5 minutes.
    "suggestion": (4, 1200.0),
    # Exports read everything a member or a server holds: a few an hour is plenty.
    "export": (3, 3600.0),
    # /video add url: and Approve each ask outside services a few times: an editor's burst
    # (the benchmark adds 20 in a row), then one every 3 seconds, so no one editor keeps the
    # lookups' queue full for the others.
    "lookup": (20, 60.0),
}
VERBS = {
    "rating": "rate",
    "take": "save a take",
    "quote": "save a quote",
    "agree": "agree",
    "suggestion": "suggest a video",
    "export": "export again",
    "lookup": "look up a link",
}


class _Limit:
    __slots__ = ("full_at", "interval", "tolerance")

    def __init__(self, count: int, seconds: float) -> None:
        self.interval = seconds / count  # one write's share of the window
        self.tolerance = seconds - self.interval  # how far ahead a burst may run
        # member key -> when their allowance is full again, oldest writer first
        self.full_at: OrderedDict[tuple[int, int], float] = OrderedDict()


class WriteLimits:
    def __init__(
        self, clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time
    ) -> None:
        self.clock = clock
        self.wall = wall
        self._limits = {kind: _Limit(*limit) for kind, limit in LIMITS.items()}

    def __len__(self) -> int:
        """How many members are remembered, over every kind of write."""
        return sum(len(limit.full_at) for limit in self._limits.values())

    def check(self, kind: str, guild_id: int, user_id: int) -> None:
        """Count one write, or raise UserFacingError saying when the member may write again."""
        limit = self._limits[kind]
        now = self.clock()
        table = limit.full_at
        # Forget members whose allowance is full again. Amortized O(1): each is removed once.
        while table:
            oldest = next(iter(table))
            if table[oldest] > now:
                break
            del table[oldest]
        key = (guild_id, user_id)
        full_at = max(table.get(key, now), now)
        if full_at - now > limit.tolerance:
            wait = full_at - now - limit.tolerance
            when = int(self.wall() + wait) + 1
            raise UserFacingError(f"Slow down: you can {VERBS[kind]} again <t:{when}:R>.")
        table[key] = full_at + limit.interval
        table.move_to_end(key)
