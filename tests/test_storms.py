"""The bot as its own process in a storm of ratings, stopped by SIGTERM or killed with
SIGKILL: nothing a member was told is saved goes missing, and no member whose rating was
saved is left without an answer.

Run on their own with `pytest tests/test_storms.py`."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.standin.member import Member
from bot.standin.server import Guild, Interaction, StandIn
from tests import raw
from tests.stores import Store, Stores
from tests.storm import answers, fire, seen
from tests.test_process import environment, first_start, spawn

MEMBERS = 300


@dataclass
class RunningBot:
    process: asyncio.subprocess.Process
    database: Store
    guild: Guild
    video: int

    async def ratings(self) -> dict[int, int]:
        """Member id -> stored score, read straight from the database after the process
        ended."""
        rows = await raw.rows(
            self.database,
            "SELECT user_id, score FROM ratings WHERE guild_id = ? AND video_id = ?",
            self.guild.id,
            self.video,
        )
        return dict(rows)


@pytest.fixture
async def running_bot(
    standin: StandIn, stores: Stores, tmp_path: Path
) -> AsyncIterator[RunningBot]:
    guild = next(iter(standin.guilds.values()))
    database = await first_start(stores)
    env = environment(standin, database, DEV_GUILD_ID=str(guild.id))
    process = await spawn(env, tmp_path)
    try:
        for _ in range(600):  # the bot syncs its commands to the server once it is ready
            if standin.guild_commands.get(guild.id) and standin.identified.is_set():
                break
            await asyncio.sleep(0.05)
        assert standin.guild_commands.get(guild.id), "the bot did not start within 30 s"
        video = await raw.value(database, "SELECT id FROM videos WHERE title = 'Alright'")
        yield RunningBot(process, database, guild, video)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def storm(bot: RunningBot, standin: StandIn) -> list[tuple[Member, Interaction, int]]:
    """Every member rates the video once, all at once."""
    fired = []
    for n in range(MEMBERS):
        member = Member(standin, bot.guild, name=f"m{n}")
        score = n % 10 + 1
        fired.append(
            (member, await fire(member, "rate", video=f"id:{bot.video}", score=score), score)
        )
    return fired


async def test_sigterm_in_a_storm_answers_every_member_it_saved(
    standin: StandIn, running_bot: RunningBot
) -> None:
    fired = await storm(running_bot, standin)
    running_bot.process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(running_bot.process.communicate(), 60)
    log = stderr.decode()
    assert running_bot.process.returncode == 0, log
    assert "closed cleanly" in log and "Traceback" not in log, log
    assert "still unanswered" not in log, log
    stored = await running_bot.ratings()
    seen_texts = await answers(standin, [record for _, record, _ in fired], within=1)
    for (member, _, score), text in zip(fired, seen_texts, strict=True):
        # Every interaction reached the bot before the signal: each gets an answer.
        assert text is not None, "a member was told nothing"
        assert "Something went wrong" not in text, text
        if text.startswith("You rated"):
            assert stored.get(member.id) == score
        else:
            assert "restarting" in text and "Nothing was saved" in text, text
            assert member.id not in stored
    assert standin.late == [] and standin.invalid == []


async def test_kill_9_in_a_storm_keeps_every_acknowledged_rating(
    standin: StandIn, running_bot: RunningBot
) -> None:
    fired = await storm(running_bot, standin)
    # Kill the bot while answers are still going out.
    for _ in range(1000):  # at most 10 s: a loaded machine answers slower
        if sum(seen(standin, record) is not None for _, record, _ in fired) >= MEMBERS // 3:
            break
        await asyncio.sleep(0.01)
    running_bot.process.kill()
    await running_bot.process.wait()
    stored = await running_bot.ratings()
    acknowledged = 0
    for member, record, score in fired:
        text = seen(standin, record)
        if text is not None and text.startswith("You rated"):
            acknowledged += 1
            assert stored.get(member.id) == score, "an acknowledged rating was lost"
    assert acknowledged > 0
