"""Sharding without a gateway: the settings that choose a process's shards (and that a
developer's shell does not choose them for a test), how many session starts a process wants
left before it connects and the sentence it logs while it waits, /help naming the server's
shard, and daily schedulers that each post only for the servers of their shards. What the
stand-in receives is checked in tests/test_sharding_e2e.py and tests/test_scale_out.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.client import TakeTwoBot
from bot.daily import DailyScheduler
from bot.db.models import ShardSlice
from bot.db.sqlite.database import SQLiteDatabase
from bot.settings import Settings, SettingsError, load_settings
from bot.sharding import StartRefused, shards_phrase, start_budget_wait
from tests.fakes import invoke, make_interaction
from tests.processes import run_bot
from tests.templates import sample_database
from tests.test_daily import Clock, FakeDiscord, add_quotes, no_sleep, utc

if TYPE_CHECKING:
    from discord.types.gateway import SessionStartLimit


def guild_on_shard(shard: int, count: int, n: int = 0) -> int:
    """A server id that Discord delivers to `shard` of `count` (its timestamp bits decide)."""
    return ((1_000 + n * count + shard) << 22) | 12345


def settings_from(tmp_path: Path, **values: str) -> Settings:
    return load_settings(
        {"DISCORD_TOKEN": "t", "DATABASE_PATH": str(tmp_path / "x.sqlite3"), **values},
        env_file=None,
    )


@pytest.mark.parametrize(
    ("count", "ids", "expected"),
    [
        ("4", "0-3", (0, 1, 2, 3)),
        ("4", "0,2", (0, 2)),
        ("8", " 6, 0-1 ,3- 4, 1 ", (0, 1, 3, 4, 6)),
        ("1", "0", (0,)),
    ],
)
def test_shard_ids_take_numbers_and_ranges(
    tmp_path: Path, count: str, ids: str, expected: tuple[int, ...]
) -> None:
    settings = settings_from(tmp_path, SHARD_COUNT=count, SHARD_IDS=ids)
    assert settings.shard_count == int(count)
    assert settings.shard_ids == expected


def test_unset_shards_leave_the_choice_to_discord(tmp_path: Path) -> None:
    settings = settings_from(tmp_path)
    assert (settings.shard_count, settings.shard_ids) == (None, None)
    settings = settings_from(tmp_path, SHARD_COUNT="3")
    assert (settings.shard_count, settings.shard_ids) == (3, None)


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"SHARD_IDS": "0-1"}, "SHARD_IDS is '0-1' but SHARD_COUNT is not set"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT must be a whole number of shards, 1 or more"),
        ({"SHARD_COUNT": "four"}, "SHARD_COUNT must be a whole number of shards"),
        ({"SHARD_COUNT": "-2"}, "SHARD_COUNT must be a whole number of shards"),
        (
            {"SHARD_COUNT": "4", "SHARD_IDS": "2-4"},
            "SHARD_IDS lists shard 4, but with SHARD_COUNT=4 the shards are numbered 0 to 3",
        ),
        (
            # Checked before the range is expanded: no million-element set is built.
            {"SHARD_COUNT": "2", "SHARD_IDS": "0-999999"},
            "SHARD_IDS lists shard 999999",
        ),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "3-1"}, "the range '3-1' runs backwards"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0;2"}, "like 0-3 or 0,2; got '0;2'"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0,,2"}, "like 0-3 or 0,2; got '0,,2'"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "1-2-3"}, "like 0-3 or 0,2"),
    ],
)
def test_bad_shard_settings_are_named(tmp_path: Path, values: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from(tmp_path, **values)
    assert says in str(raised.value)


def test_shard_ids_without_count_stop_the_bot_with_one_line(tmp_path: Path) -> None:
    result = run_bot(
        tmp_path, DISCORD_TOKEN="t", DATABASE_PATH=str(tmp_path / "x.sqlite3"), SHARD_IDS="1"
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("taketwo: SHARD_IDS is '1' but SHARD_COUNT is not set")
    assert not (tmp_path / "x.sqlite3").exists(), "nothing started"


def test_shard_settings_in_the_shell_do_not_reach_a_tests_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A developer who runs a sharded bot from their shell may still hold its settings when
    they run the tests: a test's bot process runs the shards the test chooses, or all."""
    monkeypatch.setenv("SHARD_IDS", "1")
    monkeypatch.setenv("SHARD_COUNT", "1")  # with SHARD_IDS=1, a setting the bot refuses
    database = str(tmp_path / "x.sqlite3")
    result = run_bot(tmp_path, "catalog", "export", "out.json", DATABASE_PATH=database)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Exported "), result.stdout


@pytest.mark.parametrize(
    ("ids", "count", "phrase"),
    [
        ([0], 1, "one shard"),
        ([2], 4, "shard 2 of 4"),
        ([0, 1], 4, "shards 0-1 of 4"),
        ([5, 0, 1, 2, 7, 8], 10, "shards 0-2, 5, 7-8 of 10"),
    ],
)
def test_shards_phrase(ids: list[int], count: int, phrase: str) -> None:
    assert shards_phrase(ids, count) == phrase


def budget(remaining: int, *, total: int = 1000) -> SessionStartLimit:
    return {
        "total": total,
        "remaining": remaining,
        "reset_after": 11_520_000,
        "max_concurrency": 1,
    }


def test_a_start_keeps_a_session_start_in_reserve_for_each_shard() -> None:
    """A process wants one session start per shard and one more each, so that every shard
    can identify again after a disconnect on the same day; short of that, it waits for the
    reset and says until when."""
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert start_budget_wait(budget(6), range(3), 4, now) is None  # exactly enough: starts
    wait = start_budget_wait(budget(5), range(3), 4, now)
    assert wait is not None, "3 left for 3 shards would leave no reconnect"
    assert wait.seconds == 11_520 + 1  # a second past the reset, when the budget is back
    assert wait.sentence == (
        "not starting yet: this process runs shards 0-2 of 4 and needs a session start (an "
        "IDENTIFY) for each shard, with as many kept in reserve for reconnects (6 in all), "
        "but Discord allows 5 more until 2026-11-23 11:12 UTC (in 3 h 12 min). Waiting until "
        "then, without connecting; stopping it meanwhile is safe."
    )
    assert start_budget_wait(budget(2), [0], 1, now) is None
    assert start_budget_wait(budget(1), [0], 1, now) is not None


def test_a_day_too_small_for_the_shards_refuses_instead_of_waiting() -> None:
    with pytest.raises(StartRefused) as raised:
        start_budget_wait(budget(3, total=5), range(3), 3)
    assert str(raised.value) == (
        "not starting: this process runs shards 0-2 of 3 and wants 6 session starts (an "
        "IDENTIFY for each shard and one more each in reserve for reconnects), but Discord "
        "allows 5 a day: run fewer shards in each process."
    )


async def test_help_names_the_shard_only_when_sharded(tmp_path: Path) -> None:
    database = await sample_database(tmp_path / "help.sqlite3")
    sharded = TakeTwoBot(
        Settings(token="t", database_path=database, shard_count=4, shard_ids=(2, 3))
    )
    unsharded = TakeTwoBot(Settings(token="t", database_path=database, shard_count=1))
    try:
        for bot in (sharded, unsharded):
            await bot.prepare()
        server = guild_on_shard(2, 4)
        [answer] = await invoke(sharded, "help", make_interaction(sharded, guild_id=server))
        assert answer.embed.footer.text == "This server is on shard 2 of 4."
        [answer] = await invoke(unsharded, "help", make_interaction(unsharded, guild_id=server))
        assert answer.embed.footer.text is None
    finally:
        for bot in (sharded, unsharded):
            await bot.close()


def test_every_server_belongs_to_exactly_one_shard_of_a_split() -> None:
    """However the shards are split over processes, a server's interactions (and its
    limits, and its daily post) belong to one process."""
    splits = [
        [ShardSlice(frozenset({0, 1}), 4), ShardSlice(frozenset({2, 3}), 4)],
        [ShardSlice(frozenset({0}), 3), ShardSlice(frozenset({1, 2}), 3)],
    ]
    servers = [(n << 22) | 999 for n in range(0, 400, 7)] + [guild_on_shard(3, 4)]
    for split in splits:
        for server in servers:
            owners = [s for s in split if s.owns(server)]
            assert len(owners) == 1, (server, split)
            assert (server >> 22) % split[0].count in owners[0].ids


async def test_each_scheduler_posts_for_its_own_shards(tmp_path: Path) -> None:
    """Two processes on one database, shards 0 and 1 of 2; then, as in a rolling deploy,
    two processes both running shard 0: every server gets exactly one post."""
    clock = Clock(utc(2026, 1, 15, 0, 0))
    discord_fake = FakeDiscord(clock)
    path = tmp_path / "shared.sqlite3"
    databases = [SQLiteDatabase(path) for _ in range(3)]
    for database in databases:
        await database.open()
    try:
        servers = [guild_on_shard(shard, 2, n) for n in range(5) for shard in (0, 1)]
        for server in servers:
            await add_quotes(databases[0], server, 2)
            await DailyScheduler(databases[0], discord_fake, clock=clock).configure(
                guild_id=server, channel_id=server + 1, post_time="09:00", timezone="UTC", user_id=7
            )

        def scheduler(db: SQLiteDatabase, *ids: int) -> DailyScheduler:
            slice_ = ShardSlice(frozenset(ids), 2)
            return DailyScheduler(db, discord_fake, clock=clock, sleep=no_sleep, shards=slice_)

        shard0, shard1 = scheduler(databases[0], 0), scheduler(databases[1], 1)
        clock.now = utc(2026, 1, 15, 9, 0)
        assert await shard0.run_due() == {"sent": 5}
        assert {p.guild_id for p in discord_fake.posts()} == set(servers[0::2])
        assert await shard0.seconds_until_next() == 300.0, "shard 0 has nothing more today"
        assert await shard1.seconds_until_next() == 0.0, "shard 1's posts are due"
        assert await shard1.run_due() == {"sent": 5}
        assert sorted(p.guild_id for p in discord_fake.posts()) == sorted(servers)

        # The next day, a deploy: the new process runs shard 0 beside the old one.
        deploy = scheduler(databases[2], 0)
        clock.now = utc(2026, 1, 16, 9, 0)
        await asyncio.gather(shard0.run_due(), deploy.run_due(), shard0.run_due())
        day_two = [p.guild_id for p in discord_fake.posts() if p.local_date == "2026-01-16"]
        assert sorted(day_two) == sorted(servers[0::2])
        assert discord_fake.calls == 15, "no post of shard 0 was even attempted twice"
    finally:
        for database in databases:
            await database.close()
