"""TakeTwo scaled out: two `python -m bot` processes, shards 0 and 1 of 2, on one PostgreSQL
database, through the stand-in with 20 servers; then a rolling deploy of shard 0.

What members and servers would notice, checked at the stand-in (which tells the bot
processes apart by their connections: tests/multi_process.py) and in the database:
- every interaction reaches the one process running its server's shard and is answered
  once, by that process;
- a catalog edit made through one shard shows at once in the other process's answers;
- every server gets its daily post exactly once, sent by the process that owns its shard;
- while a second process runs shard 0 beside the first (a deploy), both schedulers work
  through the same due posts at the same moment, and each server still gets one post a day;
- processes started at the same moment take turns to identify, across processes, as
  Discord's max_concurrency allows: no session start is spent on a refused IDENTIFY.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from bot.daily import post_instant
from bot.db import Database
from bot.db.postgres.database import postgres_database
from bot.standin.member import Member, Reply
from bot.standin.server import Guild, SessionStartLimit, StandIn, shard_for
from bot.startup import prepare_database
from tests.multi_process import BotProcess, WatchingStandIn, until
from tests.processes import bot_environment

SERVERS = 20
SHARDS = 2
MANAGE_GUILD = 1 << 5
# Servers all over the world, half-hour and quarter-hour offsets included.
ZONES = (
    "UTC",
    "Europe/London",
    "America/New_York",
    "Asia/Tokyo",
    "Australia/Adelaide",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Pacific/Chatham",
)
OLD_TITLE, NEW_TITLE = "Alright", "Alright (Take Two)"


def daily_channel(guild: Guild) -> int:
    return next(c.id for c in guild.channels.values() if c.name == "daily")


def on_shard(guilds: Iterable[Guild], shard: int) -> list[Guild]:
    return [g for g in guilds if shard_for(g.id, SHARDS) == shard]


@dataclass
class Deployment:
    """The stand-in, the shared database, and the bot processes started against them."""

    standin: WatchingStandIn
    db: Database
    database_url: str
    cwd: Path
    editor: int  # may edit the catalog (OWNER_IDS)
    processes: list[BotProcess] = field(default_factory=list)

    @property
    def guilds(self) -> list[Guild]:
        return list(self.standin.guilds.values())

    async def start(self, name: str, *args: str, **settings: str) -> BotProcess:
        env = bot_environment(
            DISCORD_TOKEN=self.standin.token,
            DISCORD_API_BASE=self.standin.api_base,
            DISCORD_GATEWAY_URL=self.standin.gateway_url,
            DATABASE_URL=self.database_url,
            SHARD_COUNT=str(SHARDS),
            OWNER_IDS=str(self.editor),
            LOG_LEVEL="INFO",
            **settings,
        )
        process = await BotProcess.spawn(name, env, self.cwd, *args)
        self.standin.add_process(process)
        self.processes.append(process)
        return process

    async def next_days(self, guilds: list[Guild]) -> dict[int, str]:
        """Each server's local day of its next daily post."""
        async with self.db.read() as session:
            schedules = [await session.daily.schedule(g.id) for g in guilds]
        return {s.guild_id: s.next_local_date for s in schedules if s is not None}

    async def days_posted(self, days: dict[int, str]) -> bool:
        """Whether each server's post of its day is recorded as sent and its schedule has
        moved on: from then on no scheduler sends that day's post."""
        async with self.db.read() as session:
            for guild_id, day in days.items():
                post = await session.daily.post(guild_id, day)
                schedule = await session.daily.schedule(guild_id)
                if post is None or post.status != "sent" or schedule is None:
                    return False
                if schedule.next_local_date <= day:
                    return False
        return True

    async def make_due(self, days: dict[int, str]) -> None:
        """The clock reaches the posting time of each server's next day: it is due now."""
        now = int(datetime.now(UTC).timestamp())
        async with self.db.transaction() as tx:
            for guild_id, day in days.items():
                await tx.daily.move_to(guild_id, day, now)


@pytest.fixture
async def deployment(postgres_url: str, tmp_path: Path) -> AsyncIterator[Deployment]:
    # Two identify buckets and a short interval between identifies of one bucket: the two
    # shards start together, and the deploy's shard 0 soon after the first one's.
    standin = WatchingStandIn(
        session_start_limit=SessionStartLimit(max_concurrency=2), identify_interval=0.2
    )
    await standin.start()
    for guild in standin.add_guilds(SERVERS, channels=("general", "daily")):
        standin.watch.daily_channels[daily_channel(guild)] = guild.id
    # The shared database as any process finds it: migrated, with the sample catalog.
    db = postgres_database(postgres_url)
    await prepare_database(db, load_sample_catalog=True)
    deployment = Deployment(standin, db, postgres_url, tmp_path, editor=standin.ids.next())
    try:
        yield deployment
    finally:
        for process in deployment.processes:
            await process.kill()
        standin.release_daily_posts()
        await standin.close()
        await db.close()


async def schedule_posts_due_now(db: Database, guilds: list[Guild], manager: int) -> None:
    """Each server posts every day at the current minute of its zone, starting today. (A
    zone minutes before midnight is left out: its day would end before the post.)"""
    now = datetime.now(UTC)
    zones = [z for z in map(ZoneInfo, ZONES) if now.astimezone(z).time() < time(23, 55)]
    async with db.transaction() as tx:
        for n, guild in enumerate(guilds):
            tz = zones[n % len(zones)]
            local = now.astimezone(tz)
            post_time = f"{local:%H:%M}"
            await tx.daily.save_schedule(
                guild_id=guild.id,
                channel_id=daily_channel(guild),
                post_time=post_time,
                timezone=tz.key,
                next_local_date=local.date().isoformat(),
                due_at=int(post_instant(local.date(), post_time, tz).timestamp()),
                updated_by=manager,
                now=int(now.timestamp()),
            )


def day_after(day: str) -> str:
    return (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()


def assert_answered_once_by(standin: WatchingStandIn, reply: Reply, process: str) -> None:
    interaction = reply.record.id
    assert standin.watch.received[interaction] == process
    assert standin.watch.answered[interaction] == [process]


async def review_everywhere(
    standin: WatchingStandIn, guilds: list[Guild], owners: dict[int, str], title: str
) -> None:
    """A member of every server asks for the same /review at once: the process running each
    server's shard answers, once."""
    members = [Member(standin, g, name=f"fan{n}") for n, g in enumerate(guilds)]
    replies = await asyncio.gather(*(m.run("review", video=title) for m in members))
    for guild, reply in zip(guilds, replies, strict=True):
        assert reply.embed["title"] == title, guild.name
        assert_answered_once_by(standin, reply, owners[shard_for(guild.id, SHARDS)])


async def rename_through_one_shard_seen_through_the_other(
    deployment: Deployment, owners: dict[int, str]
) -> None:
    """An editor renames a video through shard 0; shard 1's process shows the new title at
    once, though it had just looked the video up and kept it (as a pick from autocomplete
    is kept)."""
    standin = deployment.standin
    here, there = on_shard(deployment.guilds, 0)[0], on_shard(deployment.guilds, 1)[0]
    bob = Member(standin, there, name="bob")
    offered = await bob.autocomplete("review", "video", OLD_TITLE)
    [picked] = [c["value"] for c in offered if c["name"].startswith(f"{OLD_TITLE} — ")]
    before = await bob.run("credits", video=picked)
    assert before.embed["title"] == f"Credits: {OLD_TITLE}"

    editor = Member(standin, here, user_id=deployment.editor, name="ed")
    edited = await editor.run("video edit", video=picked, title=NEW_TITLE)
    assert edited.content.startswith(f"Updated **{NEW_TITLE}"), edited.content
    assert_answered_once_by(standin, edited, owners[0])

    credits = await bob.run("credits", video=picked)
    review = await bob.run("review", video=picked)
    typed = await bob.run("review", video=NEW_TITLE)
    assert credits.embed["title"] == f"Credits: {NEW_TITLE}"
    assert review.embed["title"] == typed.embed["title"] == NEW_TITLE
    for reply in (before, credits, review, typed):
        assert_answered_once_by(standin, reply, owners[1])


async def make_tomorrow_due_and_wake(
    deployment: Deployment, tomorrow: dict[int, str], manager_id: int, owners: dict[int, str]
) -> None:
    """Tomorrow's posts come due. The schedulers sleep until the next post they know of (a
    day away), so a manager on each shard saves their server's schedule again, as it was:
    that wakes the scheduler of the process that answers, which finds the posts due."""
    woken = [on_shard(deployment.guilds, 0)[1], on_shard(deployment.guilds, 1)[1]]
    await deployment.make_due({g: d for g, d in tomorrow.items() if g not in {w.id for w in woken}})
    for guild in woken:
        async with deployment.db.read() as session:
            schedule = await session.daily.schedule(guild.id)
        assert schedule is not None
        manager = Member(deployment.standin, guild, user_id=manager_id, permissions=MANAGE_GUILD)
        saved = await manager.run(
            "daily set",
            channel=str(daily_channel(guild)),
            time=schedule.post_time,
            timezone=schedule.timezone,
        )
        assert saved.content.startswith("Every day at"), saved.content
        assert_answered_once_by(deployment.standin, saved, owners[shard_for(guild.id, SHARDS)])
    # Saving it again set the same next day; it is due now like the others'.
    assert await deployment.next_days(woken) == {w.id: tomorrow[w.id] for w in woken}
    await deployment.make_due({w.id: tomorrow[w.id] for w in woken})


def assert_one_post_a_day(standin: WatchingStandIn, days: list[dict[int, str]]) -> None:
    """One send of each day's post to each server (a second send of the same day would be
    answered with the first message, as Discord does with a repeated nonce: so the sends
    are counted, not only the messages), and one message of each day in its channel."""
    sent = Counter((s.guild_id, s.local_date) for s in standin.watch.daily_sends)
    assert sent == sum((Counter(d.items()) for d in days), Counter())
    for guild in standin.guilds.values():
        posted = [
            m["embeds"][0]["footer"]["text"].rsplit(" · ", 1)[1]
            for m in standin.messages.values()
            if m["channel_id"] == str(daily_channel(guild))
        ]
        assert sorted(posted) == sorted(d[guild.id] for d in days)


def senders(standin: WatchingStandIn, days: dict[int, str], shard: int) -> set[str]:
    """The processes that sent these days' posts to the servers of a shard."""
    return {
        s.sender
        for s in standin.watch.daily_sends
        if days[s.guild_id] == s.local_date and shard_for(s.guild_id, SHARDS) == shard
    }


async def test_two_processes_share_the_servers_and_a_deploy_posts_nothing_twice(
    deployment: Deployment,
) -> None:
    standin, guilds = deployment.standin, deployment.guilds
    manager_id = standin.ids.next()
    await schedule_posts_due_now(deployment.db, guilds, manager_id)
    today = await deployment.next_days(guilds)

    # The commands are published once, as an operator does; both shards start at once.
    sync = await deployment.start("sync", "sync")
    shard0 = await deployment.start("shard 0", SHARD_IDS="0")
    shard1 = await deployment.start("shard 1", SHARD_IDS="1")
    assert await sync.finished() == 0, sync.log
    await shard0.logged("TakeTwo is up")
    await shard1.logged("TakeTwo is up")
    assert sorted(standin.connected_shards) == [(0, 2), (1, 2)]
    owners = {0: shard0.name, 1: shard1.name}

    # Today's post of every server, due as the processes start: each sent by its shard's.
    await until(lambda: deployment.days_posted(today), "today's daily posts")
    assert_one_post_a_day(standin, [today])
    assert senders(standin, today, 0) == {shard0.name}
    assert senders(standin, today, 1) == {shard1.name}

    await review_everywhere(standin, guilds, owners, OLD_TITLE)
    await rename_through_one_shard_seen_through_the_other(deployment, owners)

    # Tomorrow's posts come due during a deploy of shard 0: a new process starts beside the
    # old one. The posts are held at the stand-in until both schedulers are sending one, so
    # that they then work through the same due posts side by side.
    tomorrow = await deployment.next_days(guilds)
    assert tomorrow == {guild_id: day_after(day) for guild_id, day in today.items()}
    standin.hold_daily_posts()
    await make_tomorrow_due_and_wake(deployment, tomorrow, manager_id, owners)
    await until(lambda: shard0.name in standin.watch.held, "the old shard 0 to send a post")
    deploy = await deployment.start("shard 0, deployed", SHARD_IDS="0")
    await deploy.logged("TakeTwo is up")
    await until(lambda: deploy.name in standin.watch.held, "the new shard 0 to send a post")
    assert sorted(standin.connected_shards) == [(0, 2), (0, 2), (1, 2)]
    standin.release_daily_posts()

    # Meanwhile, shard 0's interactions reach the new process only.
    owners = {0: deploy.name, 1: shard1.name}
    await review_everywhere(standin, guilds, owners, NEW_TITLE)
    await until(lambda: deployment.days_posted(tomorrow), "tomorrow's daily posts")
    # The old process goes; the new one carries on.
    assert await shard0.stop() == 0, shard0.log
    assert "closed cleanly" in shard0.log
    await review_everywhere(standin, on_shard(guilds, 0), owners, NEW_TITLE)

    assert_one_post_a_day(standin, [today, tomorrow])
    assert senders(standin, tomorrow, 0) == {shard0.name, deploy.name}
    assert senders(standin, tomorrow, 1) == {shard1.name}
    for process in (deploy, shard1):
        assert await process.stop() == 0, process.log
    for process in deployment.processes:
        assert "Traceback" not in process.log and "WARNING" not in process.log, process.log
    # Every interaction of the test was answered once, by the process that received it.
    watch = standin.watch
    assert set(watch.received) == set(standin.interactions)
    assert watch.answered == {i: [process] for i, process in watch.received.items()}
    assert standin.invalid == [] and standin.late == [] and standin.unknown_routes == []


class StartingTogether(StandIn):
    """A stand-in that answers GET /gateway/bot only once `processes` bot processes have
    asked for it: the processes then go on to identify at the same moment, as processes
    started together by a supervisor may."""

    def __init__(self, processes: int, **options: Any) -> None:
        super().__init__(**options)
        self.together = asyncio.Barrier(processes)

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        await self.together.wait()
        return await super()._gateway_bot(request)


async def test_processes_started_together_take_turns_to_identify(
    postgres_url: str, tmp_path: Path
) -> None:
    """One identify at a time for the whole bot (max_concurrency 1), and Discord's 5
    seconds between them: two processes that reach IDENTIFY together spend exactly one
    session start each, however they are timed, because the second waits for the first's
    turn on the database they share."""
    standin = StartingTogether(2, session_start_limit=SessionStartLimit(max_concurrency=1))
    await standin.start()
    standin.add_guilds(4)
    db = postgres_database(postgres_url)
    await prepare_database(db, load_sample_catalog=True)
    await db.close()
    processes = []
    try:
        for shard in (0, 1):
            env = bot_environment(
                DISCORD_TOKEN=standin.token,
                DISCORD_API_BASE=standin.api_base,
                DISCORD_GATEWAY_URL=standin.gateway_url,
                DATABASE_URL=postgres_url,
                SHARD_COUNT=str(SHARDS),
                SHARD_IDS=str(shard),
                LOG_LEVEL="INFO",
            )
            processes.append(await BotProcess.spawn(f"shard {shard}", env, tmp_path))
        for process in processes:
            await process.logged("TakeTwo is up")
        assert [a.outcome for a in standin.identifies] == ["ready", "ready"]
        assert sorted(standin.connected_shards) == [(0, 2), (1, 2)]
        assert standin.session_start_limit.remaining == 998
        for process in processes:
            assert await process.stop() == 0, process.log
            assert "Traceback" not in process.log and "WARNING" not in process.log, process.log
    finally:
        for process in processes:
            await process.kill()
        await standin.close()
