"""Daily posts with an injected clock: local times, daylight saving, restarts, crashes,
two schedulers on one database, an empty pool, a deleted channel. No sleeps."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.daily import ChannelUnavailable, DailyScheduler
from bot.db import Database
from bot.db.models import Quote
from bot.db.sqlite.database import SQLiteDatabase
from bot.errors import UserFacingError
from bot.standin.server import NONCE_WINDOW, StandIn
from cogs.daily import ChannelSender
from tests import raw
from tests.standin_harness import World
from tests.stores import Stores
from tests.test_standin import call

CHANNEL = 9000


class Crash(BaseException):
    """The process dies here: nothing after this line runs."""


@dataclass
class Sent:
    message_id: int
    guild_id: int
    channel_id: int
    local_date: str
    quote_id: int
    nonce: str
    at: datetime


@dataclass
class FakeDiscord:
    """Channels that, like Discord with enforce_nonce, answer a send with the earlier message
    when its nonce came in the last few minutes (NONCE_WINDOW), and post again after that."""

    clock: Clock
    messages: list[Sent] = field(default_factory=list)
    calls: int = 0
    finds: int = 0
    broken_channels: dict[int, str] = field(default_factory=dict)
    unreadable_channels: dict[int, str] = field(default_factory=dict)
    crash_before_send: bool = False
    crash_after_send: bool = False
    # Errors for the next sends to raise: before posting, or after (an answer lost on the way).
    errors_before_posting: list[Exception] = field(default_factory=list)
    errors_after_posting: list[Exception] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send(
        self, *, guild_id: int, channel_id: int, local_date: str, quote: Quote, nonce: str
    ) -> int:
        self.calls += 1
        if self.crash_before_send:
            raise Crash
        if self.errors_before_posting:
            raise self.errors_before_posting.pop(0)
        if channel_id in self.broken_channels:
            raise ChannelUnavailable(self.broken_channels[channel_id])
        recent = self.clock() - timedelta(seconds=NONCE_WINDOW)
        remembered = [m for m in self.messages if m.nonce == nonce and m.at >= recent]
        if remembered:
            message = remembered[0]
        else:
            message = Sent(
                next(self.ids), guild_id, channel_id, local_date, quote.id, nonce, self.clock()
            )
            self.messages.append(message)
        if self.crash_after_send:
            raise Crash
        if self.errors_after_posting:
            raise self.errors_after_posting.pop(0)
        return message.message_id

    async def find_post(
        self, *, guild_id: int, channel_id: int, local_date: str, nonce: str, since: datetime
    ) -> int | None:
        self.finds += 1
        if channel_id in self.unreadable_channels:
            raise ChannelUnavailable(self.unreadable_channels[channel_id])
        for message in self.messages:
            # The date stands for the mark the real post carries in its embed.
            if (message.channel_id, message.local_date) == (channel_id, local_date) and (
                message.at >= since
            ):
                return message.message_id
        return None

    def posts(self, guild_id: int | None = None) -> list[Sent]:
        return [m for m in self.messages if guild_id in (None, m.guild_id)]


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


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
                created_at=1_795_219_200,
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


async def crash_right_after_sending_at_nine(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    """The day's post reaches Discord, then the process dies before recording it."""
    await add_quotes(db, 1, 3)
    await nine_utc(scheduler(db, discord_fake, clock))
    clock.now = utc(2026, 1, 15, 9, 0)
    discord_fake.crash_after_send = True
    with pytest.raises(Crash):
        await scheduler(db, discord_fake, clock).run_due()
    discord_fake.crash_after_send = False


async def test_crash_between_send_and_record_posts_once(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    await crash_right_after_sending_at_nine(db, clock, discord_fake)
    clock.now = utc(2026, 1, 15, 9, 2)
    assert await scheduler(db, discord_fake, clock).run_due() == {"sent": 1}
    [post] = discord_fake.posts()
    assert discord_fake.calls == 1, "the post was found in the channel, not sent again"
    async with db.read() as session:
        record = await session.daily.post(1, "2026-01-15")
    assert record is not None and record.status == "sent"
    assert record.message_id == post.message_id


async def test_crash_after_send_and_restart_20_minutes_later_posts_once(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    await crash_right_after_sending_at_nine(db, clock, discord_fake)
    # Restarted long after Discord forgot the nonce: a resend would post a second message.
    clock.now = utc(2026, 1, 15, 9, 20)
    assert await scheduler(db, discord_fake, clock).run_due() == {"sent": 1}
    [post] = discord_fake.posts()
    assert discord_fake.calls == 1
    async with db.read() as session:
        record = await session.daily.post(1, "2026-01-15")
        schedule = await session.daily.schedule(1)
    assert record is not None and (record.status, record.message_id) == ("sent", post.message_id)
    assert schedule is not None and schedule.next_local_date == "2026-01-16"
    clock.now = utc(2026, 1, 16, 9, 0)  # and the next day posts as usual
    assert await scheduler(db, discord_fake, clock).run_due() == {"sent": 1}
    assert [p.local_date for p in discord_fake.posts()] == ["2026-01-15", "2026-01-16"]


async def test_post_found_the_next_day_is_recorded_as_sent_not_missed(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    await crash_right_after_sending_at_nine(db, clock, discord_fake)
    clock.now = utc(2026, 1, 16, 10, 0)
    assert await scheduler(db, discord_fake, clock).run_due() == {"sent": 2}
    first, second = discord_fake.posts()
    assert first.quote_id != second.quote_id, "the quote found counts as posted"
    async with db.read() as session:
        record = await session.daily.post(1, "2026-01-15")
    assert record is not None and (record.status, record.message_id) == ("sent", first.message_id)


@pytest.mark.parametrize(
    ("posted", "retry_after"),
    [
        (False, timedelta(seconds=65)),  # Discord refused: the retry sends
        (True, timedelta(seconds=65)),  # posted, answer lost: found, not sent again
        (True, timedelta(minutes=30)),  # ...even when the retry comes after the nonce window
    ],
)
async def test_failed_send_is_retried_after_the_lease_and_posts_once(
    db: Database,
    clock: Clock,
    discord_fake: FakeDiscord,
    posted: bool,
    retry_after: timedelta,
) -> None:
    await add_quotes(db, 1, 3)
    sched = scheduler(db, discord_fake, clock)
    await nine_utc(sched)
    clock.now = utc(2026, 1, 15, 9, 0)
    failure = TimeoutError("Discord did not answer in time")
    (discord_fake.errors_after_posting if posted else discord_fake.errors_before_posting).append(
        failure
    )
    assert await sched.run_due() == {"retry": 1}
    async with db.read() as session:
        schedule = await session.daily.schedule(1)
    assert schedule is not None and schedule.paused_reason is None
    assert schedule.last_error == "Sending failed, will retry: Discord did not answer in time"
    assert schedule.due_at == int(utc(2026, 1, 15, 9, 1).timestamp()), "retried after the lease"
    clock.now = utc(2026, 1, 15, 9, 0, 30)
    assert await sched.run_due() == {}
    clock.now += retry_after
    assert await sched.run_due() == {"sent": 1}
    [post] = discord_fake.posts()
    assert discord_fake.calls == (1 if posted else 2)
    async with db.read() as session:
        record = await session.daily.post(1, "2026-01-15")
        schedule = await session.daily.schedule(1)
    assert record is not None and (record.status, record.message_id) == ("sent", post.message_id)
    assert schedule is not None and schedule.last_error is None


async def test_claim_held_by_a_live_process_is_left_alone(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    await add_quotes(db, 1, 3)
    await nine_utc(scheduler(db, discord_fake, clock))
    clock.now = utc(2026, 1, 15, 9, 0)
    first = DailyScheduler(db, discord_fake, clock=clock, sleep=no_sleep, lease_seconds=120)
    discord_fake.crash_before_send = True  # holds the claim until 09:02, then dies
    with pytest.raises(Crash):
        await first.run_due()
    discord_fake.crash_before_send = False
    # Meanwhile a manager moves the post to 09:01: the day is due again under a live claim.
    clock.now = utc(2026, 1, 15, 9, 0, 10)
    second = scheduler(db, discord_fake, clock)
    await second.configure(
        guild_id=1, channel_id=CHANNEL, post_time="09:01", timezone="UTC", user_id=7
    )
    clock.now = utc(2026, 1, 15, 9, 1)
    assert await second.run_due() == {"busy": 1}
    assert discord_fake.calls == 1 and discord_fake.finds == 0
    async with db.read() as session:
        schedule = await session.daily.schedule(1)
    assert schedule is not None and schedule.due_at == int(utc(2026, 1, 15, 9, 2).timestamp())
    assert await second.run_due() == {}, "it waits for the lease instead of looping"
    clock.now = utc(2026, 1, 15, 9, 2)
    assert await second.run_due() == {"sent": 1}
    assert len(discord_fake.posts()) == 1


async def test_unreadable_channel_pauses_and_keeps_the_claim(
    db: Database, clock: Clock, discord_fake: FakeDiscord
) -> None:
    await crash_right_after_sending_at_nine(db, clock, discord_fake)
    sched = scheduler(db, discord_fake, clock)
    discord_fake.unreadable_channels[CHANNEL] = "I may not read that channel."
    clock.now = utc(2026, 1, 15, 9, 30)
    assert await sched.run_due() == {"paused": 1}
    assert discord_fake.calls == 1, "nothing is sent without looking first"
    async with db.read() as session:
        schedule = await session.daily.schedule(1)
        record = await session.daily.post(1, "2026-01-15")
    assert schedule is not None and schedule.paused_reason == "I may not read that channel."
    assert record is not None and record.status == "claimed"
    # The manager fixes it and sets the post for later today: the claim is settled then.
    del discord_fake.unreadable_channels[CHANNEL]
    await sched.configure(
        guild_id=1, channel_id=CHANNEL, post_time="12:00", timezone="UTC", user_id=7
    )
    clock.now = utc(2026, 1, 15, 12, 0)
    assert await sched.run_due() == {"sent": 1}
    assert len(discord_fake.posts()) == 1


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
    stores: Stores, clock: Clock, discord_fake: FakeDiscord
) -> None:
    shared = await stores.empty("shared.sqlite3")
    first, second = shared.database(), shared.database()
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
    assert await sched.skip(1) == ("2026-01-15", int(utc(2026, 1, 16, 9).timestamp()))
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


async def test_due_query_uses_the_index(sqlite_db: SQLiteDatabase) -> None:
    # SQLite's plan: PostgreSQL's planner chooses by the table's size, so on a test's few
    # rows its plan says nothing about the index.
    plan = " ".join(
        row[3]
        for row in await raw.rows(
            sqlite_db,
            "EXPLAIN QUERY PLAN SELECT * FROM daily_schedules "
            "WHERE paused_reason IS NULL AND due_at <= 5 ORDER BY due_at LIMIT 100",
        )
    )
    assert "daily_schedules_by_due" in plan


# Through the local Discord stand-in, with the real sender.

MANAGE_GUILD = 1 << 5


@dataclass
class CrashAfterSend:
    """The real sender, in a process that dies as soon as Discord has the post."""

    sender: ChannelSender

    async def send(self, **post: Any) -> int:
        await self.sender.send(**post)
        raise Crash

    async def find_post(self, **post: Any) -> int | None:
        return await self.sender.find_post(**post)


async def crash_after_posting(world: World, chatter: int = 0) -> tuple[int, Clock]:
    """A daily post that reached the channel from a process that died before recording it,
    after `chatter` messages from members in the two minutes before it. Returns the channel
    and the clock that the bot and the stand-in now share."""
    channel_id = next(iter(world.guild.channels))
    admin = world.member("admin", permissions=MANAGE_GUILD)
    await admin.run("daily set", channel=str(channel_id), time="09:00", timezone="UTC")
    async with world.db.transaction() as tx:
        await tx.quotes.add(
            guild_id=world.guild.id, text="Said once", created_at=1_795_219_200, saved_by=admin.id
        )
    async with world.db.read() as session:
        schedule = await session.daily.schedule(world.guild.id)
    assert schedule is not None
    clock = Clock(datetime.fromtimestamp(schedule.due_at, UTC))
    world.standin.clock = lambda: clock().timestamp()
    talker = world.member("talker")
    clock.now -= timedelta(minutes=2)
    for n in range(chatter):
        talker.post(f"message {n}")
    clock.now += timedelta(minutes=2)
    dying = CrashAfterSend(ChannelSender(world.running_bot))
    with pytest.raises(Crash):
        await DailyScheduler(world.db, dying, clock=clock, sleep=no_sleep).run_due()
    return channel_id, clock


def daily_posts_in(world: World, channel_id: int) -> list[dict[str, Any]]:
    return [
        m
        for m in world.standin.messages.values()
        if m["channel_id"] == str(channel_id)
        and not m["flags"] & 64
        and any(e.get("title") == "Quote of the day" for e in m["embeds"])
    ]


async def test_restart_20_minutes_after_a_crash_posts_once_in_discord(world: World) -> None:
    channel_id, clock = await crash_after_posting(world)
    [post] = daily_posts_in(world, channel_id)
    clock.now += timedelta(minutes=20)  # Discord has forgotten the nonce by now
    restarted = DailyScheduler(
        world.db, ChannelSender(world.running_bot), clock=clock, sleep=no_sleep
    )
    assert await restarted.run_due() == {"sent": 1}
    assert daily_posts_in(world, channel_id) == [post]
    assert ("GET", f"/api/v10/channels/{channel_id}/messages") in [
        (method, path) for method, path, _ in world.standin.requests
    ]
    async with world.db.read() as session:
        record = await session.daily.post(world.guild.id, clock.now.date().isoformat())
    assert record is not None and record.status == "sent"
    assert str(record.message_id) == post["id"]


async def test_a_busy_channel_still_shows_the_post_after_a_restart(world: World) -> None:
    # More messages than one page of history between the look-back start and the post.
    channel_id, clock = await crash_after_posting(world, chatter=150)
    [post] = daily_posts_in(world, channel_id)
    clock.now += timedelta(minutes=20)
    restarted = DailyScheduler(
        world.db, ChannelSender(world.running_bot), clock=clock, sleep=no_sleep
    )
    assert await restarted.run_due() == {"sent": 1}
    assert daily_posts_in(world, channel_id) == [post]


async def test_channel_that_cannot_be_read_pauses_and_says_why(world: World) -> None:
    channel_id, clock = await crash_after_posting(world)
    channel = world.standin.channel(channel_id)
    assert channel is not None
    channel.bot_can_read = False
    clock.now += timedelta(minutes=20)
    restarted = DailyScheduler(
        world.db, ChannelSender(world.running_bot), clock=clock, sleep=no_sleep
    )
    assert await restarted.run_due() == {"paused": 1}
    assert len(daily_posts_in(world, channel_id)) == 1
    status = await world.member("admin", permissions=MANAGE_GUILD).run("daily status")
    fields = {f["name"]: f["value"] for f in status.embed["fields"]}
    assert "Read Message History" in fields["Paused"]


async def test_standin_lists_channel_messages_as_discord_does(standin: StandIn) -> None:
    now = [1_800_000_000.0]
    standin.clock = lambda: now[0]
    channel = next(iter(next(iter(standin.guilds.values())).channels))
    path = f"/channels/{channel}/messages"
    body = {"content": "daily", "nonce": "tt1", "enforce_nonce": True}
    first = (await call(standin, "POST", path, body))[1]
    now[0] += 60
    assert (await call(standin, "POST", path, body))[1]["id"] == first["id"]
    now[0] += NONCE_WINDOW  # the nonce is forgotten: the same send posts again
    second = (await call(standin, "POST", path, body))[1]
    assert second["id"] != first["id"]
    standin.age_message(int(second["id"]), NONCE_WINDOW + 1)
    third = (await call(standin, "POST", path, body))[1]
    assert len({first["id"], second["id"], third["id"]}) == 3

    status, listed = await call(standin, "GET", path, None)
    assert status == 200
    assert [m["id"] for m in listed] == [third["id"], second["id"], first["id"]]  # newest first
    assert all("nonce" not in m for m in listed)
    status, listed = await call(standin, "GET", f"{path}?limit=1&after={first['id']}", None)
    assert [m["id"] for m in listed] == [second["id"]]
    status, listed = await call(standin, "GET", f"{path}?before={third['id']}", None)
    assert [m["id"] for m in listed] == [second["id"], first["id"]]
    for bad in ("limit=0", "limit=101", "before=soon"):
        status, answer = await call(standin, "GET", f"{path}?{bad}", None)
        assert status == 400 and answer["code"] == 50035, bad
    assert len(standin.invalid) == 3
