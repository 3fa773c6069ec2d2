"""Daily posts with an injected clock: local times, daylight saving, restarts, crashes,
two schedulers on one database, an empty pool, a deleted channel. No sleeps."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.daily import ChannelUnavailable, DailyScheduler
from bot.db import Database
from bot.db.models import Quote
from bot.errors import UserFacingError

CHANNEL = 9000


class Crash(BaseException):
    """The process dies here: nothing after this line runs."""


@dataclass
class Sent:
    message_id: int
    guild_id: int
    channel_id: int
    quote_id: int
    at: datetime


@dataclass
class FakeDiscord:
    """A channel that, like Discord with enforce_nonce, never posts one nonce twice."""

    clock: Clock
    by_nonce: dict[str, Sent] = field(default_factory=dict)
    calls: int = 0
    broken_channels: dict[int, str] = field(default_factory=dict)
    crash_before_send: bool = False
    crash_after_send: bool = False
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send(self, *, guild_id: int, channel_id: int, quote: Quote, nonce: str) -> int:
        self.calls += 1
        if self.crash_before_send:
            raise Crash
        if channel_id in self.broken_channels:
            raise ChannelUnavailable(self.broken_channels[channel_id])
        if nonce not in self.by_nonce:
            self.by_nonce[nonce] = Sent(
                next(self.ids), guild_id, channel_id, quote.id, self.clock()
            )
        if self.crash_after_send:
            raise Crash
        return self.by_nonce[nonce].message_id

    def posts(self, guild_id: int | None = None) -> list[Sent]:
        return [s for s in self.by_nonce.values() if guild_id in (None, s.guild_id)]


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


async def add_quotes(db: Database, guild_id: int, count: int) -> list[int]:
    ids = []
    async with db.transaction() as tx:
        for n in range(count):
            quote = await tx.quotes.add(
                guild_id=guild_id,
                text=f"quote {n}",
                saved_by=1,
                created_at="2026-01-01T00:00:00+00:00",
            )
            ids.append(quote.id)
    return ids


@pytest.fixture
def clock() -> Clock:
    return Clock(utc(2026, 1, 15, 0, 0))


@pytest.fixture
def discord_fake(clock: Clock) -> FakeDiscord:
    return FakeDiscord(clock)


async def nine_utc(sched: DailyScheduler, guild_id: int = 1, channel_id: int = CHANNEL) -> None:
    """A post every day at 09:00 UTC: the schedule most of these tests need."""
    await sched.configure(
        guild_id=guild_id, channel_id=channel_id, post_time="09:00", timezone="UTC", user_id=7
    )


def scheduler(db: Database, fake: FakeDiscord, clock: Clock) -> DailyScheduler:
    return DailyScheduler(db, fake, clock=clock, sleep=no_sleep)


async def run_until(
    sched: DailyScheduler, clock: Clock, end: datetime, step: timedelta = timedelta(minutes=5)
) -> None:
    while clock.now < end:
        await sched.run_due()
        clock.now += step
    await sched.run_due()


async def test_posts_at_local_time_in_two_zones(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    await add_quotes(db, 1, 5)
    await add_quotes(db, 2, 5)
    sched = scheduler(db, discord_fake, clock)
    await sched.configure(
        guild_id=1, channel_id=CHANNEL, post_time="09:00", timezone="Europe/London", user_id=7
    )
    await sched.configure(
        guild_id=2, channel_id=CHANNEL + 1, post_time="9:00", timezone="America/New_York", user_id=7
    )
    await run_until(sched, clock, utc(2026, 1, 17, 0, 0))
    assert [p.at for p in discord_fake.posts(1)] == [utc(2026, 1, 15, 9), utc(2026, 1, 16, 9)]
    assert [p.at for p in discord_fake.posts(2)] == [utc(2026, 1, 15, 14), utc(2026, 1, 16, 14)]


@pytest.mark.parametrize(
    ("zone", "post_time", "start", "end", "expected"),
    [
        # New York springs forward at 02:00 on 8 March: 02:30 does not exist that day and
        # posts just after the gap (03:30 EDT = 07:30 UTC), once.
        (
            "America/New_York",
            "02:30",
            utc(2026, 3, 7, 0),
            utc(2026, 3, 10, 0),
            [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)],
        ),
        # New York falls back on 1 November: 01:30 happens twice and posts once, the first.
        (
            "America/New_York",
            "01:30",
            utc(2026, 10, 31, 0),
            utc(2026, 11, 3, 0),
            [utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)],
        ),
        # London springs forward at 01:00 GMT on 29 March: 01:30 posts at 02:30 BST.
        (
            "Europe/London",
            "01:30",
            utc(2026, 3, 28, 0),
            utc(2026, 3, 31, 0),
            [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)],
        ),
        # London falls back on 25 October: 01:30 happens twice and posts once.
        (
            "Europe/London",
            "01:30",
            utc(2026, 10, 24, 0),
            utc(2026, 10, 27, 0),
            [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)],
        ),
    ],
)
async def test_daylight_saving_days_post_once_at_the_right_time(
    db: Database,
    clock: Clock,
    discord_fake: FakeDiscord,
    zone: str,
    post_time: str,
    start: datetime,
    end: datetime,
    expected: list[datetime],
) -> None:
    await add_quotes(db, 1, 5)
    clock.now = start
    sched = scheduler(db, discord_fake, clock)
    await sched.configure(
        guild_id=1, channel_id=CHANNEL, post_time=post_time, timezone=zone, user_id=7
    )
    await run_until(sched, clock, end, step=timedelta(minutes=10))
    assert [p.at for p in discord_fake.posts()] == expected


async def test_restart_just_before_the_posting_minute(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    await add_quotes(db, 1, 3)
    await nine_utc(scheduler(db, discord_fake, clock))
    clock.now = utc(2026, 1, 15, 8, 59, 30)
    assert await scheduler(db, discord_fake, clock).run_due() == {}
    clock.now = utc(2026, 1, 15, 9, 0, 0)  # restarted: a new process, a new owner
    assert await scheduler(db, discord_fake, clock).run_due() == {"sent": 1}
    clock.now = utc(2026, 1, 15, 9, 0, 30)  # and restarted once more within the minute
    assert await scheduler(db, discord_fake, clock).run_due() == {}
    assert len(discord_fake.posts()) == 1


async def test_restart_during_the_post_after_claiming(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    await add_quotes(db, 1, 3)
    await nine_utc(scheduler(db, discord_fake, clock))
    clock.now = utc(2026, 1, 15, 9, 0)
    discord_fake.crash_before_send = True
    with pytest.raises(Crash):
        await scheduler(db, discord_fake, clock).run_due()
    discord_fake.crash_before_send = False
    clock.now = utc(2026, 1, 15, 9, 0, 20)  # the claim's lease still holds: wait
    assert await scheduler(db, discord_fake, clock).run_due() == {}
    clock.now = utc(2026, 1, 15, 9, 1, 5)  # lease expired: the new process takes over
    assert await scheduler(db, discord_fake, clock).run_due() == {"sent": 1}
    assert len(discord_fake.posts()) == 1


async def test_crash_between_send_and_record_posts_once(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    await add_quotes(db, 1, 3)
    await nine_utc(scheduler(db, discord_fake, clock))
    clock.now = utc(2026, 1, 15, 9, 0)
    discord_fake.crash_after_send = True
    with pytest.raises(Crash):
        await scheduler(db, discord_fake, clock).run_due()
    discord_fake.crash_after_send = False
    clock.now = utc(2026, 1, 15, 9, 2)
    assert await scheduler(db, discord_fake, clock).run_due() == {"sent": 1}
    [post] = discord_fake.posts()
    assert discord_fake.calls == 2  # sent again, with the same nonce: Discord kept one
    async with db.read() as session:
        record = await session.daily.post(1, "2026-01-15")
    assert record is not None and record.status == "sent"
    assert record.message_id == post.message_id


async def test_restart_after_the_posting_minute_catches_up_once(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    await add_quotes(db, 1, 3)
    await nine_utc(scheduler(db, discord_fake, clock))
    clock.now = utc(2026, 1, 15, 11, 0)  # the bot was down from before 9 until 11
    assert await scheduler(db, discord_fake, clock).run_due() == {"sent": 1}
    clock.now = utc(2026, 1, 15, 11, 5)
    assert await scheduler(db, discord_fake, clock).run_due() == {}
    assert [p.at for p in discord_fake.posts()] == [utc(2026, 1, 15, 11, 0)]


async def test_long_outage_and_clock_jumps_never_flood(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    await add_quotes(db, 1, 10)
    sched = scheduler(db, discord_fake, clock)
    await nine_utc(sched)
    clock.now = utc(2026, 1, 15, 9, 0)
    await sched.run_due()
    clock.now = utc(2026, 1, 15, 8, 0)  # the clock jumps back an hour
    await sched.run_due()
    clock.now = utc(2026, 1, 15, 9, 30)
    await sched.run_due()
    assert len(discord_fake.posts()) == 1
    clock.now = utc(2026, 1, 19, 20, 0)  # four days later: only today's post is sent
    outcome = await sched.run_due()
    assert outcome == {"missed": 1, "sent": 1}
    assert [p.at.date() for p in discord_fake.posts()] == [
        utc(2026, 1, 15).date(),
        utc(2026, 1, 19).date(),
    ]


async def test_two_schedulers_on_one_database(
    tmp_path: Path, clock: Clock, discord_fake: FakeDiscord
) -> None:
    first, second = Database(tmp_path / "shared.sqlite3"), Database(tmp_path / "shared.sqlite3")
    await first.open()
    await second.open()
    try:
        for guild in range(1, 21):
            await add_quotes(first, guild, 2)
            await scheduler(first, discord_fake, clock).configure(
                guild_id=guild,
                channel_id=CHANNEL + guild,
                post_time="09:00",
                timezone="UTC",
                user_id=7,
            )
        clock.now = utc(2026, 1, 15, 9, 0)
        a, b = scheduler(first, discord_fake, clock), scheduler(second, discord_fake, clock)
        await asyncio.gather(a.run_due(), b.run_due(), a.run_due(), b.run_due())
        clock.now = utc(2026, 1, 15, 9, 5)
        await asyncio.gather(a.run_due(), b.run_due())
        posts = discord_fake.posts()
        assert sorted(p.guild_id for p in posts) == list(range(1, 21))
        assert discord_fake.calls == 20, "no post was even attempted twice"
    finally:
        await first.close()
        await second.close()


async def test_empty_quote_pool_posts_nothing_and_says_why(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    sched = scheduler(db, discord_fake, clock)
    await nine_utc(sched)
    clock.now = utc(2026, 1, 15, 9, 0)
    assert await sched.run_due() == {"empty": 1}
    assert discord_fake.calls == 0
    async with db.read() as session:
        schedule = await session.daily.schedule(1)
    assert schedule is not None and schedule.paused_reason is None
    assert schedule.last_error == "There were no quotes to post on 2026-01-15."
    assert schedule.next_local_date == "2026-01-16"
    await add_quotes(db, 1, 1)  # quotes arrive: the next day posts
    clock.now = utc(2026, 1, 16, 9, 0)
    assert await sched.run_due() == {"sent": 1}


async def test_deleted_channel_pauses_only_that_server(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    await add_quotes(db, 1, 3)
    await add_quotes(db, 2, 3)
    sched = scheduler(db, discord_fake, clock)
    await nine_utc(sched)
    await nine_utc(sched, guild_id=2, channel_id=CHANNEL + 1)
    discord_fake.broken_channels[CHANNEL] = "The channel was deleted."
    clock.now = utc(2026, 1, 15, 9, 0)
    assert await sched.run_due() == {"paused": 1, "sent": 1}
    calls = discord_fake.calls
    for hour in (10, 11, 23):
        clock.now = utc(2026, 1, 15, hour, 0)
        await sched.run_due()
    clock.now = utc(2026, 1, 16, 9, 0)
    await sched.run_due()
    assert discord_fake.calls == calls + 1, "the paused server is never retried in a loop"
    async with db.read() as session:
        paused = await session.daily.schedule(1)
    assert paused is not None and paused.paused_reason == "The channel was deleted."
    assert [p.guild_id for p in discord_fake.posts()] == [2, 2]
    # A manager picks another channel: the schedule runs again.
    await nine_utc(sched, channel_id=CHANNEL + 5)
    clock.now = utc(2026, 1, 17, 9, 0)
    await sched.run_due()
    assert [p.channel_id for p in discord_fake.posts(1)] == [CHANNEL + 5]


async def test_no_quote_repeats_until_all_were_posted(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    quotes = await add_quotes(db, 1, 4)
    sched = scheduler(db, discord_fake, clock)
    await nine_utc(sched)
    previews = []
    for day in range(15, 23):
        previews.append((await sched.preview(1)).id)  # type: ignore[union-attr]
        clock.now = utc(2026, 1, day, 9, 0)
        await sched.run_due()
    posted = [p.quote_id for p in discord_fake.posts()]
    assert posted == previews, "preview shows exactly what gets posted"
    assert sorted(posted[:4]) == sorted(quotes) and sorted(posted[4:]) == sorted(quotes)


async def test_removed_quote_is_never_posted(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    quotes = await add_quotes(db, 1, 3)
    sched = scheduler(db, discord_fake, clock)
    await nine_utc(sched)
    next_quote = (await sched.preview(1)).id  # type: ignore[union-attr]
    async with db.transaction() as tx:
        await tx.quotes.remove(next_quote)
    for day in range(15, 21):
        clock.now = utc(2026, 1, day, 9, 0)
        await sched.run_due()
    assert next_quote not in {p.quote_id for p in discord_fake.posts()}
    assert {p.quote_id for p in discord_fake.posts()} == set(quotes) - {next_quote}


async def test_catalog_quotes_when_the_server_has_none(
    catalog_db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    sched = scheduler(catalog_db, discord_fake, clock)
    await nine_utc(sched)
    clock.now = utc(2026, 1, 15, 9, 0)
    await sched.run_due()
    [post] = discord_fake.posts()
    async with catalog_db.read() as session:
        quote = await session.quotes.get(post.quote_id)
        left = await session.daily.unposted_count(1)
        total = await session.quotes.count(0)
    assert quote is not None and quote.guild_id == 0
    assert left == total - 1


async def test_skip_the_next_post(db: Database, clock: Clock, discord_fake: FakeDiscord) -> None:
    await add_quotes(db, 1, 3)
    sched = scheduler(db, discord_fake, clock)
    await nine_utc(sched)
    assert await sched.skip(1, 7) == ("2026-01-15", int(utc(2026, 1, 16, 9).timestamp()))
    await run_until(sched, clock, utc(2026, 1, 16, 12, 0))
    assert [p.at for p in discord_fake.posts()] == [utc(2026, 1, 16, 9)]


async def test_scheduler_sleeps_until_the_next_due_post(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    sched = scheduler(db, discord_fake, clock)
    assert await sched.seconds_until_next() == sched.max_sleep
    await sched.configure(
        guild_id=1, channel_id=CHANNEL, post_time="00:02", timezone="UTC", user_id=7
    )
    assert await sched.seconds_until_next() == 120.0


async def test_bad_time_and_zone_are_refused(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    sched = scheduler(db, discord_fake, clock)
    for time, zone in (("25:00", "UTC"), ("9am", "UTC"), ("09:00", "Mars/Olympus")):
        with pytest.raises(UserFacingError):
            await sched.configure(
                guild_id=1, channel_id=CHANNEL, post_time=time, timezone=zone, user_id=7
            )
    async with db.read() as session:
        assert await session.daily.schedule(1) is None


def test_due_query_uses_the_index(db: Database) -> None:
    with sqlite3.connect(db.path) as conn:
        plan = " ".join(
            row[3]
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM daily_schedules "
                "WHERE paused_reason IS NULL AND due_at <= 5 ORDER BY due_at LIMIT 100"
            )
        )
    assert "daily_schedules_by_due" in plan
