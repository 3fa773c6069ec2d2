"""The bot as a process, started the way a person starts it, against the local stand-in."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import pytest

from bot.standin.server import StandIn
from tests import raw
from tests.processes import bot_environment
from tests.stores import Store, Stores


async def first_start(stores: Stores) -> Store:
    """Where a bot process starting for the first time makes its database: a SQLite file in
    a folder that does not exist yet, or an empty PostgreSQL database."""
    return await stores.empty("db/bot.sqlite3")


def environment(standin: StandIn, database: Store | Path, **extra: str) -> dict[str, str]:
    """A bot process's settings, on the stand-in; given a folder instead of a Store
    (tests/test_sharding_e2e.py), the database is SQLite at db/bot.sqlite3 in it."""
    if isinstance(database, Path):
        database = Store(database / "db" / "bot.sqlite3")
    settings = {
        "DISCORD_TOKEN": standin.token,
        "DISCORD_API_BASE": standin.api_base,
        "DISCORD_GATEWAY_URL": standin.gateway_url,
        **database.environment(),
        "LOG_LEVEL": "INFO",
    }
    return bot_environment(**{**settings, **extra})


async def spawn(env: dict[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_bot_starts_and_closes_cleanly_on_signal(
    standin: StandIn, stores: Stores, tmp_path: Path, signum: signal.Signals
) -> None:
    database = await first_start(stores)
    # Python logs every import it makes to stderr, beside the bot's own log.
    env = environment(standin, database, PYTHONPROFILEIMPORTTIME="1")
    process = await spawn(env, tmp_path)
    up, up_log = "", ""
    try:
        if signum == signal.SIGTERM:
            # Stopped once up: the log has said so, in one line at INFO.
            up_log = await read_until(process, "TakeTwo is up")
            up = up_log.strip().splitlines()[-1]
        else:
            await asyncio.wait_for(standin.identified.wait(), 30)  # stopped while starting
    finally:
        if process.returncode is None:
            process.send_signal(signum)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    log = up_log + stderr.decode()
    assert process.returncode == 0, log
    assert "closed cleanly" in log
    assert standin.token not in log
    # The database was made (its folder too, for SQLite), with the sample catalog.
    assert await raw.value(database, "SELECT count(*) FROM videos") > 0
    assert database.path.is_file() == (database.engine == "sqlite")
    # No global sync on start: only `python -m bot sync` does that.
    assert standin.global_commands == []
    if up:
        assert "INFO" in up and "as TakeTwo" in up and "in 1 server on one shard;" in up
        assert "run `python -m bot sync`" in up  # nothing was published globally yet
    # The stand-in's schema checks are a test extra: the bot never imports them.
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in log.splitlines()
        if line.startswith("import time:")
    }
    assert {"discord", "aiosqlite", "cogs"} <= imported, "the imports were not logged"
    assert not {"openapi_client", "discordopenapi", "pydantic"} & imported


async def test_rejected_token_exits_2_with_one_line(
    standin: StandIn, stores: Stores, tmp_path: Path
) -> None:
    env = environment(standin, await first_start(stores), DISCORD_TOKEN="not-the-token")
    process = await spawn(env, tmp_path)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    last = stderr.decode().strip().splitlines()[-1]
    assert last.startswith("taketwo: DISCORD_TOKEN was rejected")
    assert "not-the-token" not in stderr.decode()


async def test_sync_commands_globally_and_to_one_server(
    standin: StandIn, stores: Stores, tmp_path: Path
) -> None:
    guild_id = next(iter(standin.guilds))
    env = environment(standin, await first_start(stores))
    process = await spawn(env, tmp_path, "sync", "--guild", str(guild_id))
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    names = {c["name"] for c in standin.guild_commands[guild_id]}
    assert {"review", "credits", "quote", "rate", "top", "Save as quote"} <= names
    assert standin.global_commands == []
    assert f"to server {guild_id}" in stdout.decode()

    process = await spawn(env, tmp_path, "sync")
    stdout, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    assert {c["name"] for c in standin.global_commands} == names
    assert standin.invalid == []


@pytest.mark.parametrize("command", [(), ("sync",)], ids=["run", "sync"])
async def test_discord_unreachable_is_one_line(
    stores: Stores, tmp_path: Path, command: tuple[str, ...]
) -> None:
    # A port on this machine that nothing listens on: the connection is refused at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = bot_environment(
        DISCORD_TOKEN="unused",
        DISCORD_API_BASE=f"http://127.0.0.1:{port}/api/v10",
        DISCORD_GATEWAY_URL=f"ws://127.0.0.1:{port}/",
        **(await stores.empty()).environment(),
    )
    process = await spawn(env, tmp_path, *command)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    log = stderr.decode()
    assert process.returncode == 3, log
    assert "Traceback" not in log
    last = log.strip().splitlines()[-1]
    assert last.startswith(f"taketwo: cannot reach Discord at http://127.0.0.1:{port}/api/v10")


async def read_until(process: asyncio.subprocess.Process, text: str) -> str:
    """The log lines up to and including the first that holds `text`."""
    assert process.stderr is not None
    lines: list[str] = []
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
        assert line, "the bot exited before logging " + text + "\n" + "".join(lines)
        lines.append(line)
        if text in line:
            return "".join(lines)
