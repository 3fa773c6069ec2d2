"""Daily quote posts: when each server's post is due, and the scheduler that sends it once.

Exactly once per server per local day, whatever happens, because:
- the day is claimed in the database (a row keyed by server and local date) before sending,
  and a claim carries a lease: a process that dies holding it is replaced when it expires;
- a resend within minutes is idempotent: its nonce is derived from the server and the local
  date, and Discord's `enforce_nonce` returns the earlier message instead of posting again;
- but Discord remembers a nonce for a few minutes only, so whenever a claim is found whose
  attempt may have posted (its owner died, or the send failed without an answer), the
  channel is read first: the bot's own post marked with that local date, if there, is
  recorded as the day's post and nothing is sent.

With several processes, each scheduler handles the servers of its own shards (`shards`).
Two processes briefly own the same shard during a rolling deploy: both see the same
schedules due, and the claim settles it as it does for two schedulers of any kind: it is
taken in one write transaction that re-reads the schedule and the day's post under a lock
(SQLite's write lock; a backend with concurrent writers locks the server), so the second
finds the day claimed, and a claim held by another live owner is left alone. Nothing in it
depends on which process sees which servers.

Times are stored as an IANA zone and a local HH:MM, never an offset, so daylight-saving
changes move nothing. A local time that does not exist (02:30 on a spring-forward day)
posts at the first instant after the gap; one that happens twice posts at the first.

Nothing here imports discord: the cog gives the scheduler a sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, available_timezones

from bot.db import Database, WriteSession
from bot.db.models import SKIPPED_DETAIL, DailySchedule, Quote, ShardSlice
from bot.errors import UserFacingError

log = logging.getLogger(__name__)

_POST_TIME = re.compile(r"^\s*([01]?[0-9]|2[0-3])[:.h]([0-5][0-9])\s*$")
LOW_QUOTES_WARNING = 7
# An earlier attempt's post is looked for among messages created from this long before its
# claim, in case this host's clock runs ahead of Discord's.
CLOCK_MARGIN_SECONDS = 300


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_post_time(text: str) -> str:
    match = _POST_TIME.match(text)
    if match is None:
        raise UserFacingError(
            f"“{text[:20]}” is not a time: write it as HH:MM on a 24-hour clock, "
            "like 09:00 or 18:30."
        )
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def zone(name: str) -> ZoneInfo:
    cleaned = name.strip()
    if cleaned in available_timezones():
        return ZoneInfo(cleaned)
    raise UserFacingError(
        f"“{cleaned[:40]}” is not a time zone I know: pick one from the list, "
        "like Europe/London or America/New_York."
    )


def zone_names() -> list[str]:
    return sorted(available_timezones())


def post_instant(local_date: date, post_time: str, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time on a local date.

    fold=0 picks the first of two repeated times, and for a time inside a gap gives the
    instant just after it (02:30 in New York on a spring-forward day is 03:30 EDT).
    """
    hour, minute = (int(part) for part in post_time.split(":"))
    return datetime.combine(local_date, time(hour, minute), tzinfo=tz).astimezone(UTC)


def first_local_date(now: datetime, post_time: str, tz: ZoneInfo) -> date:
    """The first local day whose posting time is still ahead."""
    today = now.astimezone(tz).date()
    return today if post_instant(today, post_time, tz) > now else today + timedelta(days=1)


def upcoming(schedule: DailySchedule, count: int) -> list[datetime]:
    tz = ZoneInfo(schedule.timezone)
    start = date.fromisoformat(schedule.next_local_date)
    return [post_instant(start + timedelta(days=n), schedule.post_time, tz) for n in range(count)]


def nonce_for(guild_id: int, local_date: str) -> str:
    """The same for every attempt at one server's post of one day (Discord allows 25 chars)."""
    digest = hashlib.blake2b(f"{guild_id}:{local_date}".encode(), digest_size=8).hexdigest()
    return f"tt{digest}"


class ChannelUnavailable(Exception):
    """The post cannot be sent until a manager acts: the reason pauses the schedule."""


class DailySender(Protocol):
    async def send(
        self, *, guild_id: int, channel_id: int, local_date: str, quote: Quote, nonce: str
    ) -> int:
        """Post the day's quote, marked with its local date; return the message id.
        Raise ChannelUnavailable to pause."""
        ...

    async def find_post(
        self, *, guild_id: int, channel_id: int, local_date: str, nonce: str, since: datetime
    ) -> int | None:
        """The id of the day's post among the channel's messages created after `since`, or
        None. Raise ChannelUnavailable when the channel cannot be read."""
        ...


@dataclass(frozen=True)
class _Attempt:
    """A day this process has claimed, and what it does next: send `quote`, or, with no
    quote, look for the post of the attempt that claimed the day at `earlier_claim_at`."""

    guild_id: int
    local_date: str
    nonce: str
    channel_id: int
    now_ts: int
    quote_id: int | None = None
    quote: Quote | None = None
    earlier_claim_at: int | None = None


@dataclass
class DailyScheduler:
    db: Database
    sender: DailySender
    clock: Callable[[], datetime] = utc_now
    # How long a claim stays with its owner before another process may take it over.
    lease_seconds: int = 60
    # Pause between two sends: 25 posts a second stays well inside Discord's 50 requests/s.
    send_gap: float = 0.04
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    max_sleep: float = 300.0
    batch: int = 100
    owner: str = field(default_factory=lambda: secrets.token_hex(8))
    # The shards whose servers this scheduler posts to; None: every server.
    shards: ShardSlice | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        """A schedule changed: look again now instead of at the planned time."""
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_due()
                delay = await self.seconds_until_next()
            except Exception:
                log.exception("daily scheduler pass failed; trying again in a minute")
                delay = 60.0
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def seconds_until_next(self) -> float:
        async with self.db.read() as session:
            next_due = await session.daily.next_due_at(self.shards)
        if next_due is None:
            return self.max_sleep
        wait = next_due - self.clock().timestamp()
        return min(max(wait, 0.0), self.max_sleep)

    async def run_due(self) -> dict[str, int]:
        """Handle every schedule that is due now. Returns how many ended each way.

        Each outcome moves its schedule's due time past now (or pauses it), so this ends;
        a "missed" day moves to today's post, which the next round sends.
        """
        outcomes: dict[str, int] = {}
        while True:
            now = int(self.clock().timestamp())
            async with self.db.read() as session:
                due = await session.daily.due(now, self.batch, self.shards)
            if not due:
                return outcomes
            for schedule in due:
                outcome = await self.process(schedule)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                if outcome == "sent":
                    await self.sleep(self.send_gap)

    async def _advance(self, tx: WriteSession, schedule: DailySchedule, day: date) -> None:
        tz = ZoneInfo(schedule.timezone)
        await tx.daily.move_to(
            schedule.guild_id,
            day.isoformat(),
            int(post_instant(day, schedule.post_time, tz).timestamp()),
        )

    async def process(self, seen: DailySchedule) -> str:
        attempt = await self._claim(seen, looked_in_channel=False)
        if isinstance(attempt, _Attempt) and attempt.quote is None:
            # An earlier attempt claimed this day and never recorded how it ended, so it may
            # have posted. Discord forgets a nonce after a few minutes: a resend later than
            # that would post twice, so the channel itself says whether the post is there.
            assert attempt.earlier_claim_at is not None
            since = attempt.earlier_claim_at - CLOCK_MARGIN_SECONDS
            try:
                found = await self.sender.find_post(
                    guild_id=attempt.guild_id,
                    channel_id=attempt.channel_id,
                    local_date=attempt.local_date,
                    nonce=attempt.nonce,
                    since=datetime.fromtimestamp(since, UTC),
                )
            except Exception as error:
                return await self._failed(attempt, error)
            if found is not None:
                await self._record_sent(attempt, found)
                return "sent"
            attempt = await self._claim(seen, looked_in_channel=True)
        if isinstance(attempt, str):
            return attempt
        assert attempt.quote is not None
        try:
            message_id = await self.sender.send(
                guild_id=attempt.guild_id,
                channel_id=attempt.channel_id,
                local_date=attempt.local_date,
                quote=attempt.quote,
                nonce=attempt.nonce,
            )
        except Exception as error:
            return await self._failed(attempt, error)
        await self._record_sent(attempt, message_id)
        return "sent"

    async def _claim(self, seen: DailySchedule, *, looked_in_channel: bool) -> _Attempt | str:
        """Claim the seen schedule's day for this process, or say why not (the outcome).

        The attempt returned has a quote to send, or none when an earlier attempt's claim
        was taken over and the channel must be read first (`looked_in_channel` says that
        was done and nothing was found)."""
        now = self.clock()
        now_ts = int(now.timestamp())
        guild_id, local_date = seen.guild_id, seen.next_local_date
        day = date.fromisoformat(local_date)
        nonce = nonce_for(guild_id, local_date)
        async with self.db.transaction() as tx:
            schedule = await tx.daily.schedule(guild_id)
            post = await tx.daily.post(guild_id, local_date)
            # Re-read under the write lock: another scheduler may have moved it meanwhile.
            # After looking in the channel the day's claim is still ours, unless someone
            # else settled it.
            if looked_in_channel:
                handled = post is None or post.status != "claimed" or post.claimed_by != self.owner
            else:
                handled = schedule is not None and schedule.due_at > now_ts
            if (
                schedule is None
                or schedule.paused_reason
                or schedule.next_local_date != local_date
                or handled
            ):
                return "moved"
            if post is not None and post.status != "claimed":
                await self._advance(tx, schedule, day + timedelta(days=1))
                return "done"
            if (
                post is not None
                and post.claimed_by != self.owner
                and (post.lease_until or 0) > now_ts
            ):
                await tx.daily.retry_at(guild_id, post.lease_until or now_ts)
                return "busy"
            lease = now_ts + self.lease_seconds
            attempt = _Attempt(guild_id, local_date, nonce, schedule.channel_id, now_ts)
            if post is not None and not looked_in_channel:
                claimed_at = await tx.daily.take_over_claim(guild_id, local_date, self.owner, lease)
                # If this process dies while reading, the next one reads again after the lease.
                await tx.daily.retry_at(guild_id, lease)
                return replace(
                    attempt,
                    channel_id=post.channel_id or schedule.channel_id,
                    quote_id=post.quote_id,
                    earlier_claim_at=claimed_at,
                )
            today = now.astimezone(ZoneInfo(schedule.timezone)).date()
            if today > day:
                # That local day is over: no late post. Catch up with today's, if still due.
                await tx.daily.record_post(
                    guild_id=guild_id,
                    local_date=local_date,
                    status="missed",
                    nonce=nonce,
                    now=now_ts,
                    detail="the bot was not running at posting time",
                )
                await self._advance(tx, schedule, today)
                return "missed"
            quote = await self._quote_for(
                tx, guild_id, post.quote_id if post else schedule.next_quote_id
            )
            if quote is None:
                await tx.daily.record_post(
                    guild_id=guild_id,
                    local_date=local_date,
                    status="failed",
                    nonce=nonce,
                    now=now_ts,
                    detail="there were no quotes to post",
                )
                await tx.daily.note_error(
                    guild_id, f"There were no quotes to post on {local_date}.", now_ts
                )
                await self._advance(tx, schedule, day + timedelta(days=1))
                return "empty"
            await tx.daily.record_post(
                guild_id=guild_id,
                local_date=local_date,
                status="claimed",
                nonce=nonce,
                now=now_ts,
                quote_id=quote.id,
                channel_id=schedule.channel_id,
                claimed_by=self.owner,
                lease_until=lease,
            )
            # If this process dies now, the schedule comes due again when the lease ends.
            await tx.daily.retry_at(guild_id, lease)
            return replace(attempt, quote_id=quote.id, quote=quote)

    async def _failed(self, attempt: _Attempt, error: Exception) -> str:
        """Discord refused or did not answer: pause for a manager, or retry after the lease."""
        if isinstance(error, ChannelUnavailable):
            async with self.db.transaction() as tx:
                await tx.daily.pause(attempt.guild_id, str(error), attempt.now_ts)
                if attempt.quote is not None:
                    await tx.daily.record_post(
                        guild_id=attempt.guild_id,
                        local_date=attempt.local_date,
                        status="failed",
                        nonce=attempt.nonce,
                        now=attempt.now_ts,
                        quote_id=attempt.quote_id,
                        channel_id=attempt.channel_id,
                        detail=str(error),
                    )
                # A claim whose channel could not be read stays, to be read once resumed.
            log.info("daily post for server %s paused: %s", attempt.guild_id, error)
            return "paused"
        log.warning(
            "daily post for server %s failed; retrying after the lease: %s",
            attempt.guild_id,
            error,
        )
        async with self.db.transaction() as tx:
            await tx.daily.note_error(
                attempt.guild_id, f"Sending failed, will retry: {error}"[:300], attempt.now_ts
            )
        return "retry"

    async def _record_sent(self, attempt: _Attempt, message_id: int) -> None:
        async with self.db.transaction() as tx:
            await tx.daily.record_post(
                guild_id=attempt.guild_id,
                local_date=attempt.local_date,
                status="sent",
                nonce=attempt.nonce,
                now=int(self.clock().timestamp()),
                quote_id=attempt.quote_id,
                channel_id=attempt.channel_id,
                message_id=message_id,
            )
            if attempt.quote_id is not None:
                await tx.daily.mark_posted(attempt.guild_id, attempt.quote_id)
            current = await tx.daily.schedule(attempt.guild_id)
            if current is not None and current.next_local_date == attempt.local_date:
                await tx.daily.note_error(attempt.guild_id, None, attempt.now_ts)
                next_quote = await tx.daily.choose_quote(attempt.guild_id)
                await tx.daily.set_next_quote(attempt.guild_id, next_quote)
                following = date.fromisoformat(attempt.local_date) + timedelta(days=1)
                await self._advance(tx, current, following)

    async def _quote_for(self, tx: WriteSession, guild_id: int, wanted: int | None) -> Quote | None:
        """The quote chosen for this post in advance (what /daily preview showed), if it is
        still there; otherwise a fresh choice from the cycle."""
        if wanted is not None:
            quote = await tx.quotes.get(wanted)
            if quote is not None and quote.guild_id in (guild_id, 0):
                return quote
        chosen = await tx.daily.choose_quote(guild_id)
        return await tx.quotes.get(chosen) if chosen is not None else None

    async def configure(
        self, *, guild_id: int, channel_id: int, post_time: str, timezone: str, user_id: int
    ) -> datetime:
        """Create or replace a server's schedule (un-pausing it). Returns the first post's time.

        Raises UserFacingError for a time or zone that does not parse.
        """
        post_time = parse_post_time(post_time)
        tz = zone(timezone)
        now = self.clock()
        day = first_local_date(now, post_time, tz)
        first = post_instant(day, post_time, tz)
        async with self.db.transaction() as tx:
            await tx.daily.save_schedule(
                guild_id=guild_id,
                channel_id=channel_id,
                post_time=post_time,
                timezone=tz.key,
                next_local_date=day.isoformat(),
                due_at=int(first.timestamp()),
                updated_by=user_id,
                now=int(now.timestamp()),
            )
        self.wake()
        return first

    async def skip(self, guild_id: int) -> tuple[str, int] | None:
        """Skip the next post. Returns the skipped local date and when the one after comes."""
        now_ts = int(self.clock().timestamp())
        async with self.db.transaction() as tx:
            schedule = await tx.daily.schedule(guild_id)
            if schedule is None:
                return None
            local_date = schedule.next_local_date
            post = await tx.daily.post(guild_id, local_date)
            if post is not None and post.status == "claimed":
                raise UserFacingError("That post is being sent right now, so it can't be skipped.")
            await tx.daily.record_post(
                guild_id=guild_id,
                local_date=local_date,
                status="skipped",
                nonce=nonce_for(guild_id, local_date),
                now=now_ts,
                detail=SKIPPED_DETAIL,
            )
            following = date.fromisoformat(local_date) + timedelta(days=1)
            await self._advance(tx, schedule, following)
            instant = post_instant(following, schedule.post_time, ZoneInfo(schedule.timezone))
            return local_date, int(instant.timestamp())

    async def preview(self, guild_id: int) -> Quote | None:
        """The quote the next post will carry; chosen now and kept, so preview tells the truth."""
        async with self.db.transaction() as tx:
            schedule = await tx.daily.schedule(guild_id)
            if schedule is None:
                return None
            quote = await self._quote_for(tx, guild_id, schedule.next_quote_id)
            await tx.daily.set_next_quote(guild_id, quote.id if quote else None)
            return quote
