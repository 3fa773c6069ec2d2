"""Which shards a process runs, and starting them within Discord's session start limit.

Discord delivers a server's events (and so its interactions) to shard
`(guild_id >> 22) % shard_count`. Every shard connection is one IDENTIFY, and Discord allows
a bot a daily budget of them (`session_start_limit.remaining`, back to `total` after
`reset_after` milliseconds), `max_concurrency` at a time: shards whose ids are equal modulo
`max_concurrency` share a bucket, and a bucket takes one IDENTIFY per 5 seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # discord.types cannot be imported on its own at run time
    from discord.types.gateway import SessionStartLimit


# Discord's window per bucket, and a margin: the previous IDENTIFY of a bucket is sent a
# moment after its turn comes, so turns measured from turns keep this much slack.
IDENTIFY_WINDOW = 5.0
IDENTIFY_MARGIN = 0.5


class StartRefused(Exception):
    """Starting now would use identifies the day's budget does not have: try again later."""


def shard_ranges(ids: Iterable[int]) -> str:
    """`0-3, 6` for shards 0, 1, 2, 3 and 6."""
    runs: list[list[int]] = []
    for shard in sorted(set(ids)):
        if runs and shard == runs[-1][1] + 1:
            runs[-1][1] = shard
        else:
            runs.append([shard, shard])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def shards_phrase(ids: Iterable[int], count: int) -> str:
    """What a process runs, for the log: `one shard`, `shard 2 of 4`, `shards 0-1 of 4`."""
    chosen = sorted(set(ids))
    if count == 1:
        return "one shard"
    noun = "shard" if len(chosen) == 1 else "shards"
    return f"{noun} {shard_ranges(chosen)} of {count}"


def shard_of(guild_id: int, count: int) -> int:
    """The shard Discord delivers a server's events to."""
    return (guild_id >> 22) % count


def check_start_budget(
    limit: SessionStartLimit, ids: Iterable[int], count: int, now: datetime | None = None
) -> None:
    """Raise StartRefused, with the sentence to print, when the identifies Discord still
    allows today are fewer than the shards this process would start. Starting anyway would
    connect some shards and leave the others (and every reconnect after) refused for the
    rest of the day."""
    chosen = set(ids)
    remaining = limit["remaining"]
    if remaining >= len(chosen):
        return
    wait = timedelta(milliseconds=limit["reset_after"])
    reset = (now or datetime.now(UTC)) + wait
    minutes = max(1, -(-int(wait.total_seconds()) // 60))  # rounded up
    raise StartRefused(
        f"not starting: this process runs {shards_phrase(chosen, count)} and needs a session "
        f"start (an IDENTIFY) for each shard, but Discord allows {remaining} more until "
        f"{reset:%Y-%m-%d %H:%M} UTC (in {_duration(minutes)}). Start it again after that; "
        "starting now would use up the day's budget and leave shards refused."
    )


def _duration(minutes: int) -> str:
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


class IdentifySpacing:
    """Turns for IDENTIFY within Discord's max_concurrency buckets: one per bucket every
    5 seconds (plus a margin), buckets independent of each other.

    discord.py's own hook does not read max_concurrency: it sends the first IDENTIFY at once
    and waits 5 seconds before every other one, as if max_concurrency were 1. That is always
    allowed but slow for a bot granted more; this gives each bucket its own turn. It spaces
    the identifies of this process only: processes started together for the same bot share
    Discord's buckets, so start them one after another (Discord answers an IDENTIFY over the
    limit with an invalid session, which discord.py retries)."""

    def __init__(
        self,
        max_concurrency: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self.clock = clock
        self.sleep = sleep
        self._next_turn: dict[int, float] = {}  # bucket -> when its next IDENTIFY may go

    async def wait_turn(self, shard_id: int | None) -> None:
        bucket = (shard_id or 0) % self.max_concurrency
        now = self.clock()
        turn = max(now, self._next_turn.get(bucket, now))
        # Reserved before sleeping, so shards of one bucket waiting together queue up.
        self._next_turn[bucket] = turn + IDENTIFY_WINDOW + IDENTIFY_MARGIN
        if turn > now:
            await self.sleep(turn - now)
