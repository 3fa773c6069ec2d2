"""Per-member limits on writes, so that one member cannot flood the database.

Each kind of write allows a burst of `count` within `seconds`; past that the member is told
when they can go on. Kept in memory: a restart forgives everyone, which is harmless.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from bot.errors import UserFacingError

LIMITS: dict[str, tuple[int, float]] = {
    "rating": (10, 60.0),
    "take": (3, 60.0),
    "quote": (5, 60.0),
    "agree": (15, 60.0),
}
VERBS = {"rating": "rate", "take": "save a take", "quote": "save a quote", "agree": "agree"}


class WriteLimits:
    def __init__(
        self, clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time
    ) -> None:
        self.clock = clock
        self.wall = wall
        self._hits: dict[tuple[str, int, int], deque[float]] = {}

    def check(self, kind: str, guild_id: int, user_id: int) -> None:
        """Count one write, or raise UserFacingError saying when the member may write again."""
        count, seconds = LIMITS[kind]
        now = self.clock()
        key = (kind, guild_id, user_id)
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - seconds:
            hits.popleft()
        if len(hits) >= count:
            wait = hits[0] + seconds - now
            when = int(self.wall() + wait) + 1
            raise UserFacingError(f"Slow down: you can {VERBS[kind]} again <t:{when}:R>.")
        hits.append(now)
        if len(self._hits) > 100_000:  # forget idle members now and then
            self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - 300}
