"""Sharded bots against the local stand-in, which shards as Discord documents: a process gets
the servers of its shards only and answers them; one shard for 3,000 servers is refused
(4011) and stops the bot with one line; a bot left to ask Discord shards itself, its
identifies spaced as its max_concurrency buckets allow; a start that the day's session
start budget (with a reserve for reconnects) cannot cover sends no IDENTIFY, and waits for
the reset with one line in the log."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.settings import Settings
from bot.standin.member import Member
from bot.standin.server import SessionStartLimit, StandIn, shard_for
from tests.multi_process import BotProcess
from tests.standin_harness import World
from tests.templates import sample_database
from tests.test_process import environment, spawn


class ShardProcess(World):
    """One process of a sharded TakeTwo: its own shards, on a stand-in and a database file
    that it shares with the other processes."""

    def __init__(
        self,
        tmp_path: Path,
        standin: StandIn,
        *,
        shard_count: int | None = None,
        shard_ids: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__(tmp_path)
        self.standin = standin
        self.shard_count = shard_count
        self.shard_ids = shard_ids

    def settings(self) -> Settings:
        return Settings(
            token=self.standin.token,
            database_path=self.database_path,
            api_base=self.standin.api_base,
            gateway_url=self.standin.gateway_url,
            shard_count=self.shard_count,
            shard_ids=self.shard_ids,
        )


async def started_standin(servers: int, limit: SessionStartLimit | None = None) -> StandIn:
    standin = StandIn(session_start_limit=limit)
    await standin.start()
    standin.add_guilds(servers)
    return standin


async def logged(caplog: pytest.LogCaptureFixture, text: str) -> str:
    """The first log message holding `text`, once logged (on_ready runs after READY)."""
    for _ in range(400):
        found = [r.getMessage() for r in caplog.records if text in r.getMessage()]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing logged {text!r}")


def on_shard(standin: StandIn, shard: int, count: int) -> set[int]:
    return {g for g in standin.guilds if shard_for(g, count) == shard}


async def test_a_process_gets_only_its_shards_servers_and_answers_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    standin = await started_standin(20)
    process = ShardProcess(tmp_path, standin, shard_count=2, shard_ids=(0,))
    await sample_database(process.database_path)
    mine = on_shard(standin, 0, 2)
    assert 0 < len(mine) < 20, "the stand-in spreads its servers over both shards"
    try:
        with caplog.at_level(logging.INFO, logger="bot.client"):
            bot = await process.start_bot()
            up = await logged(caplog, "TakeTwo is up")
        assert {g.id for g in bot.guilds} == mine
        assert standin.connected_shards == [(0, 2)]
        assert f"in {len(mine)} servers on shard 0 of 2;" in up

        await bot.tree.sync()  # global commands, as `python -m bot sync` publishes them
        server = standin.guilds[min(mine)]
        answer = await Member(standin, server, name="alice").run("help")
        assert answer.ephemeral
        assert answer.embed["footer"]["text"] == "This server is on shard 0 of 2."
        process.assert_discord_was_happy()
    finally:
        await process.stop_bot()
        await standin.close()


async def test_a_servers_writes_are_limited_by_the_one_process_that_gets_them(
    tmp_path: Path,
) -> None:
    """Write limits live in each process's memory: right, because all of a server's
    interactions reach the one process running its shard, so the burst allowance of a member
    there is counted in one place, while the other process never hears of it."""
    # Two buckets: the two processes may identify at the same moment.
    standin = await started_standin(20, SessionStartLimit(max_concurrency=2))
    processes = [
        ShardProcess(tmp_path, standin, shard_count=2, shard_ids=(shard,)) for shard in (0, 1)
    ]
    await sample_database(processes[0].database_path)
    try:
        bots = [await process.start_bot() for process in processes]
        await bots[0].tree.sync()
        first = standin.guilds[min(on_shard(standin, 0, 2))]
        other = standin.guilds[min(on_shard(standin, 1, 2))]
        alice = Member(standin, first, name="alice")
        # The same member in a server of the other shard.
        alice_there = Member(standin, other, user_id=alice.id, name="alice")
        for score in range(1, 11):
            saved = await alice.run("rate", video="Alright", score=score)
            assert saved.content.startswith("You rated"), saved.content
        refused = await alice.run("rate", video="Alright", score=9)
        assert refused.ephemeral and refused.content.startswith("Slow down: you can rate again")
        saved = await alice_there.run("rate", video="Alright", score=4)
        assert saved.content.startswith("You rated"), "a separate allowance in each server"
        refused = await alice.run("rate", video="Alright", score=8)
        assert refused.content.startswith("Slow down"), "still limited where she rated ten"
        for process in processes:
            process.assert_discord_was_happy()
    finally:
        for process in processes:
            await process.stop_bot()
        await standin.close()


async def test_a_bot_left_to_ask_discord_shards_itself(tmp_path: Path) -> None:
    # Three shards in two max_concurrency buckets: shard 2 waits for its bucket's turn after
    # shard 0, which the stand-in checks (it answers an early IDENTIFY with Invalid Session).
    standin = await started_standin(3000, SessionStartLimit(max_concurrency=2))
    process = ShardProcess(tmp_path, standin)
    await sample_database(process.database_path)
    try:
        bot = await process.start_bot()
        assert bot.shard_count == 3
        assert len(bot.guilds) == 3000
        assert sorted(standin.connected_shards) == [(0, 3), (1, 3), (2, 3)]
        assert [attempt.outcome for attempt in standin.identifies] == ["ready"] * 3
        assert standin.session_start_limit.remaining == 997
    finally:
        await process.stop_bot()
        await standin.close()


async def test_one_shard_for_3000_servers_stops_the_bot_with_one_line(tmp_path: Path) -> None:
    standin = await started_standin(3000)
    try:
        process = await spawn(environment(standin, tmp_path, SHARD_COUNT="1"), tmp_path)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        log = stderr.decode()
        assert process.returncode == 2, log
        assert "Traceback" not in log
        assert log.strip().splitlines()[-1] == (
            "taketwo: Discord refused the connection because a shard would hold more than "
            "2,500 servers (close code 4011, sharding required): raise SHARD_COUNT, or leave "
            "SHARD_COUNT and SHARD_IDS empty to run as many shards as Discord recommends."
        )
        assert [(a.shard, a.outcome) for a in standin.identifies] == [((0, 1), "sharding required")]
    finally:
        await standin.close()


async def test_shards_a_whole_days_budget_cannot_cover_stop_the_bot_with_one_line(
    tmp_path: Path,
) -> None:
    """Waiting would not help: even a fresh day's budget is short of the starts the process
    needs, so a person must split the shards (exit 2, not retried by the units)."""
    standin = await started_standin(20, SessionStartLimit(total=5, remaining=5))
    try:
        process = await spawn(environment(standin, tmp_path, SHARD_COUNT="3"), tmp_path)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        log = stderr.decode()
        assert process.returncode == 2, log
        assert "Traceback" not in log
        assert (
            log.strip()
            .splitlines()[-1]
            .endswith("but Discord allows 5 a day: run fewer shards in each process.")
        ), log
        assert standin.identifies == [], "no IDENTIFY was sent"
    finally:
        await standin.close()


class ResettingSoon(StandIn):
    """A stand-in whose session start budget resets a moment after the bot first asks for
    it: as a day's budget does for a process that was started late in the day."""

    def __init__(self, after: float, **options: Any) -> None:
        super().__init__(**options)
        self.after = after
        self.asked = 0

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        self.asked += 1
        if self.asked == 1:
            self.session_start_limit.resets_at = self.clock() + self.after
        return await super()._gateway_bot(request)


WAITING = "not starting yet: this process runs "


async def test_a_start_the_session_budget_cannot_cover_waits_without_identifying(
    tmp_path: Path,
) -> None:
    """Three session starts left for two shards would connect both and leave no reconnect:
    the process waits for the reset, saying so once, and a supervisor's SIGTERM meanwhile
    stops it cleanly (exit 0, not a failure to restart in a loop)."""
    standin = ResettingSoon(3 * 3600, session_start_limit=SessionStartLimit(remaining=3))
    await standin.start()
    standin.add_guilds(20)
    process = await BotProcess.spawn(
        "shards 0-1", environment(standin, tmp_path, SHARD_COUNT="2"), tmp_path
    )
    try:
        line = await process.logged(WAITING)
        assert (
            "shards 0-1 of 2 and needs a session start (an IDENTIFY) for each shard, with as "
            "many kept in reserve for reconnects (4 in all), but Discord allows 3 more until "
        ) in line
        assert line.rstrip().endswith(
            " UTC (in 3 h). Waiting until then, without connecting; stopping it meanwhile is safe."
        )
        assert await process.stop() == 0, process.log
        assert "closed cleanly" in process.log and "Traceback" not in process.log
        assert process.log.count(WAITING) == 1
        assert standin.identifies == [], "no IDENTIFY was sent"
        assert standin.session_start_limit.remaining == 3
    finally:
        await process.kill()
        await standin.close()


async def test_a_process_waiting_for_the_budget_starts_when_it_resets(tmp_path: Path) -> None:
    standin = ResettingSoon(1.0, session_start_limit=SessionStartLimit(remaining=1))
    await standin.start()
    standin.add_guilds(5)
    process = await BotProcess.spawn("one shard", environment(standin, tmp_path), tmp_path)
    try:
        await process.logged(WAITING)
        await process.logged("TakeTwo is up")
        assert process.log.count(WAITING) == 1, process.log
        assert [(a.shard, a.outcome) for a in standin.identifies] == [((0, 1), "ready")]
        assert standin.session_start_limit.remaining == 999, "a new day's budget, less one"
        assert await process.stop() == 0, process.log
    finally:
        await process.kill()
        await standin.close()
