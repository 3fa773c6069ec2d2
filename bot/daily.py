"""Daily quote posts: when each server's post is due, and the scheduler that sends it once.

Exactly once per server per local day, whatever happens, because:
- the day is claimed in the database (a row keyed by server and local date) before sending,
  and a claim carries a lease: a process that dies holding it is replaced when it expires;
- the send is idempotent: its nonce is derived from the server and the local date, and
  Discord's `enforce_nonce` returns the earlier message instead of posting a second one.

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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, available_timezones

from bot.db import Database, Session
from bot.db.models import DailySchedule, Quote
from bot.errors import UserFacingError

log = logging.getLogger(__name__)

_POST_TIME = re.compile(r"^\s*([01]?\d|2[0-3])[:.h]([0-5]\d)\s*$")
LOW_QUOTES_WARNING = 7


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
    async def send(self, *, guild_id: int, channel_id: int, quote: Quote, nonce: str) -> int:
        """Post the quote; return the message id. Raise ChannelUnavailable to pause."""
        ...


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
            next_due = await session.daily.next_due_at()
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
                due = await session.daily.due(now, self.batch)
            if not due:
                return outcomes
            for schedule in due:
                outcome = await self.process(schedule)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                if outcome == "sent":
                    await self.sleep(self.send_gap)

    async def _advance(self, tx: Session, schedule: DailySchedule, day: date) -> None:
        tz = ZoneInfo(schedule.timezone)
        await tx.daily.move_to(
            schedule.guild_id,
            day.isoformat(),
            int(post_instant(day, schedule.post_time, tz).timestamp()),
        )

    async def process(self, seen: DailySchedule) -> str:
        now = self.clock()
        now_ts = int(now.timestamp())
        guild_id, local_date = seen.guild_id, seen.next_local_date
        day = date.fromisoformat(local_date)
        nonce = nonce_for(guild_id, local_date)
        async with self.db.transaction() as tx:
            schedule = await tx.daily.schedule(guild_id)
            # Re-read under the write lock: another scheduler may have moved it meanwhile.
            if (
                schedule is None
                or schedule.paused_reason
                or schedule.due_at > now_ts
                or schedule.next_local_date != local_date
            ):
                return "moved"
            tz = ZoneInfo(schedule.timezone)
            today = now.astimezone(tz).date()
            post = await tx.daily.post(guild_id, local_date)
            if post is not None and post.status != "claimed":
                await self._advance(tx, schedule, day + timedelta(days=1))
                return "done"
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
            if (
                post is not None
                and post.claimed_by != self.owner
                and (post.lease_until or 0) > now_ts
            ):
                await tx.daily.retry_at(guild_id, post.lease_until or now_ts)
                return "busy"
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
            lease = now_ts + self.lease_seconds
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
        try:
            message_id = await self.sender.send(
                guild_id=guild_id, channel_id=schedule.channel_id, quote=quote, nonce=nonce
            )
        except ChannelUnavailable as reason:
            async with self.db.transaction() as tx:
                await tx.daily.pause(guild_id, str(reason), now_ts)
                await tx.daily.record_post(
                    guild_id=guild_id,
                    local_date=local_date,
                    status="failed",
                    nonce=nonce,
                    now=now_ts,
                    quote_id=quote.id,
                    channel_id=schedule.channel_id,
                    detail=str(reason),
                )
            log.info("daily post for server %s paused: %s", guild_id, reason)
            return "paused"
        except Exception as exc:
            log.warning(
                "daily post for server %s failed; retrying after the lease: %s", guild_id, exc
            )
            async with self.db.transaction() as tx:
                await tx.daily.note_error(
                    guild_id, f"Sending failed, will retry: {exc}"[:300], now_ts
                )
            return "retry"
        async with self.db.transaction() as tx:
            await tx.daily.record_post(
                guild_id=guild_id,
                local_date=local_date,
                status="sent",
                nonce=nonce,
                now=int(self.clock().timestamp()),
                quote_id=quote.id,
                channel_id=schedule.channel_id,
                message_id=message_id,
            )
            await tx.daily.mark_posted(guild_id, quote.id)
            current = await tx.daily.schedule(guild_id)
            if current is not None and current.next_local_date == local_date:
                await tx.daily.note_error(guild_id, None, now_ts)
                await tx.daily.set_next_quote(guild_id, await tx.daily.choose_quote(guild_id))
                await self._advance(tx, current, day + timedelta(days=1))
        return "sent"

    async def _quote_for(self, tx: Session, guild_id: int, wanted: int | None) -> Quote | None:
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

    async def skip(self, guild_id: int, user_id: int) -> tuple[str, int] | None:
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
                detail=f"skipped by member {user_id}",
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
