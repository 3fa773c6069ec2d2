"""Which shards a process runs, and starting them within Discord's session start limit.

Discord delivers a server's events (and so its interactions) to shard
`(guild_id >> 22) % shard_count`. Every shard connection is one IDENTIFY, and Discord allows
a bot a daily budget of them (`session_start_limit.remaining`, back to `total` after
`reset_after` milliseconds), `max_concurrency` at a time: shards whose ids are equal modulo
`max_concurrency` share a bucket, and a bucket takes one IDENTIFY per 5 seconds. The budget
and the buckets belong to the bot, not to a process: every process of the bot spends them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # discord.types cannot be imported on its own at run time
    from discord.types.gateway import SessionStartLimit


# Discord's window per bucket, and a margin: a turn is taken a moment before its IDENTIFY is
# sent, so turns held this long keep the identifies of a bucket the window apart.
IDENTIFY_WINDOW = 5.0
IDENTIFY_MARGIN = 0.5
# The budget check asks Discord again this long after the reset it reported: the new day's
# budget is there by then.
RESET_MARGIN = 1.0

log = logging.getLogger(__name__)


class StartRefused(Exception):
    """No wait helps: the day's whole budget cannot cover this process's shards."""


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


def starts_needed(shards: int) -> int:
    """The session starts a process of this many shards wants left before it connects: one
    per shard, and as many again in reserve, so that each shard can identify once more
    (after a disconnect Discord does not let it resume) on the same day."""
    return 2 * shards


@dataclass(frozen=True)
class StartWait:
    """Starting now would leave too few session starts: wait this long, saying why."""

    seconds: float
    sentence: str


def start_budget_wait(
    limit: SessionStartLimit, ids: Iterable[int], count: int, now: datetime | None = None
) -> StartWait | None:
    """None when the identifies Discord still allows today cover this process's shards and
    their reserve (`starts_needed`); otherwise how long to wait for the budget to reset, and
    the sentence to log. Starting anyway would connect some shards and leave the others
    (and every reconnect after) refused for the rest of the day. StartRefused when even a
    whole day's budget (`total`) is too small."""
    chosen = set(ids)
    needed, remaining = starts_needed(len(chosen)), limit["remaining"]
    if remaining >= needed:
        return None
    runs = shards_phrase(chosen, count)
    if limit["total"] < needed:
        raise StartRefused(
            f"not starting: this process runs {runs} and wants {needed} session starts (an "
            f"IDENTIFY for each shard and one more each in reserve for reconnects), but "
            f"Discord allows {limit['total']} a day: run fewer shards in each process."
        )
    wait = timedelta(milliseconds=limit["reset_after"])
    reset = (now or datetime.now(UTC)) + wait
    minutes = max(1, -(-int(wait.total_seconds()) // 60))  # rounded up
    return StartWait(
        wait.total_seconds() + RESET_MARGIN,
        f"not starting yet: this process runs {runs} and needs a session start (an "
        f"IDENTIFY) for each shard, with as many kept in reserve for reconnects ({needed} in "
        f"all), but Discord allows {remaining} more until {reset:%Y-%m-%d %H:%M} UTC (in "
        f"{_duration(minutes)}). Waiting until then, without connecting; stopping it "
        "meanwhile is safe.",
    )


def _duration(minutes: int) -> str:
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


class IdentifyTurns:
    """Turns for IDENTIFY within Discord's max_concurrency buckets: a shard takes its
    bucket's turn just before its IDENTIFY, and the turn stays taken for the 5-second window
    (plus a margin) after it; buckets are independent of each other.

    A turn is taken twice: from this process (its shards of one bucket queue up here) and
    from `shared_turn`, the database's turn of the bucket for every process that shares it
    (`Database.identify_turn`), since processes started together for the same bot share
    Discord's buckets, and Discord answers an IDENTIFY over the limit with an invalid
    session that still costs a session start.

    discord.py's own hook does not read max_concurrency: it sends the first IDENTIFY at once
    and waits 5 seconds before every other one of the process, as if max_concurrency were 1
    and the process were alone."""

    def __init__(
        self,
        max_concurrency: int,
        shared_turn: Callable[[int], AbstractAsyncContextManager[None]],
        *,
        hold: float = IDENTIFY_WINDOW + IDENTIFY_MARGIN,
    ) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self.shared_turn = shared_turn
        self.hold = hold
        self._local: dict[int, asyncio.Lock] = {}
        self._held: set[asyncio.Task[None]] = set()

    async def wait_turn(self, shard_id: int | None) -> None:
        """Return when this shard may send its IDENTIFY; its turn is let go `hold` seconds
        later (or at `release_all`)."""
        bucket = (shard_id or 0) % self.max_concurrency
        turn = AsyncExitStack()
        try:
            await turn.enter_async_context(self._local.setdefault(bucket, asyncio.Lock()))
            try:
                await turn.enter_async_context(self.shared_turn(bucket))
            except Exception as exc:
                # Without the database's turn, the process's own still spaces its shards:
                # a reconnect goes ahead rather than leave the shard offline.
                log.warning(
                    "could not take shard %s's identify turn from the database (%s); going "
                    "on with this process's own turn",
                    shard_id,
                    exc,
                )
        except BaseException:
            await turn.aclose()
            raise
        held = asyncio.create_task(self._let_go_later(turn))
        self._held.add(held)
        held.add_done_callback(self._held.discard)

    async def _let_go_later(self, turn: AsyncExitStack) -> None:
        try:
            await asyncio.sleep(self.hold)
        finally:
            await turn.aclose()

    async def release_all(self) -> None:
        """Let every turn go now (the process is closing; its database next)."""
        held = list(self._held)
        for task in held:
            task.cancel()
        await asyncio.gather(*held, return_exceptions=True)
