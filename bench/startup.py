"""The bot as its own process against the stand-in: its environment, its peak memory, and
the start of one process that runs every shard of a bot in many servers."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from pathlib import Path

from bot.standin.server import Session, SessionStartLimit, StandIn

ROOT = Path(__file__).resolve().parent.parent
SHARDS = 4
SERVERS = 10_000  # at full scale
# The bot's line once discord.py has called on_ready (bot/client.py).
UP_LINE = re.compile(rb"TakeTwo is up as .* in (\d+) servers? on (.*?);")
READY_TIMEOUT = 120.0


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def bot_environment(
    standin: StandIn, database: Path, postgres_url: str | None = None, **settings: str
) -> dict[str, str]:
    """This process's environment, without its own Discord settings, pointed at the stand-in
    and the database (the SQLite file, or PostgreSQL holding its copy), plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCORD_")}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DISCORD_TOKEN": standin.token,
            "DISCORD_API_BASE": standin.api_base,
            "DISCORD_GATEWAY_URL": standin.gateway_url,
            "DATABASE_PATH": str(database),
            "DATABASE_URL": postgres_url or "",
            "LOAD_SAMPLE_CATALOG": "false",
            "LOOKUP_CONTACT": "bench@taketwo.invalid",
            **settings,
        }
    )
    return env


class DeliveringStandIn(StandIn):
    """The stand-in, noting for each shard how many servers it sent and when the last of
    their GUILD_CREATEs was written to the socket."""

    def __init__(self, servers: int, max_concurrency: int) -> None:
        super().__init__(
            validate=False, session_start_limit=SessionStartLimit(max_concurrency=max_concurrency)
        )
        self.add_guilds(servers)
        self.delivered: dict[int, tuple[int, float]] = {}  # shard -> (servers, perf_counter)

    async def _ready(self, session: Session, guild_ids: list[int]) -> None:
        await super()._ready(session, guild_ids)
        self.delivered[session.shard_id] = (len(guild_ids), time.perf_counter())


async def sharded_start(
    database: Path,
    servers: int,
    shards: int = SHARDS,
    max_concurrency: int = SHARDS,
    postgres_url: str | None = None,
) -> dict[str, float | None]:
    """Start `python -m bot` with SHARD_COUNT=`shards` and every shard id, against a stand-in
    holding `servers` servers; READY is the bot's "TakeTwo is up" line, which discord.py
    allows only after every shard's READY and the GUILD_CREATEs that follow it.

    By default the stand-in grants max_concurrency = `shards`, as Discord does for large bots
    (16 and more): every shard identifies at once, each in its own bucket. With 1, what most
    bots have, each identify after the first waits its 5.5 s turn (bot/sharding.py)."""
    standin = DeliveringStandIn(servers, max_concurrency)
    await standin.start()
    env = bot_environment(
        standin,
        database,
        postgres_url,
        SHARD_COUNT=str(shards),
        SHARD_IDS=f"0-{shards - 1}",
        LOG_LEVEL="INFO",
    )
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    label = f"{servers:,} servers on {shards} shards"
    try:
        up = await asyncio.wait_for(_up_line(process.stderr), READY_TIMEOUT)
        ready = time.perf_counter() - started
        memory = peak_rss_mb(process.pid)
        _check_delivery(standin, up, servers, shards)
        last_sent = max(at for _, at in standin.delivered.values()) - started
    finally:
        if process.returncode is None:
            process.terminate()
        await process.communicate()  # reads what is left of its log so it can exit
        await standin.close()
    return {
        f"{label}: start to READY (s)": ready,
        f"{label}: start to last GUILD_CREATE sent (s)": last_sent,
        f"{label}: peak memory (MB)": memory,
    }


def sharded_limits(servers: int, shards: int = SHARDS) -> dict[str, float]:
    """The issue's targets for the sharded start: READY within 10 s, at most 200 MB."""
    label = f"{servers:,} servers on {shards} shards"
    return {f"{label}: start to READY (s)": 10.0, f"{label}: peak memory (MB)": 200.0}


async def _up_line(log: asyncio.StreamReader) -> re.Match[bytes]:
    tail: list[bytes] = []
    while line := await log.readline():
        if found := UP_LINE.search(line):
            return found
        tail = [*tail[-9:], line]
    lines = b"".join(tail).decode(errors="replace")
    raise RuntimeError(f"the sharded bot stopped before READY; its last lines:\n{lines}")


def _check_delivery(
    standin: DeliveringStandIn, up: re.Match[bytes], servers: int, shards: int
) -> None:
    """READY counts only when every shard identified once, at its first try, and received
    all of its servers, and the bot says it is in all of them."""
    sent = sum(count for count, _ in standin.delivered.values())
    refused = [a for a in standin.identifies if a.outcome != "ready"]
    phrase = f"shards 0-{shards - 1} of {shards}"
    if sorted(standin.delivered) != list(range(shards)) or sent != servers or refused:
        raise RuntimeError(
            f"the sharded start was not clean: shards {sorted(standin.delivered)} got {sent} "
            f"of {servers} servers; identifies refused: {refused}"
        )
    if int(up.group(1)) != servers or up.group(2).decode() != phrase:
        raise RuntimeError(f"the bot came up in the wrong shape: {up.group(0).decode()!r}")
