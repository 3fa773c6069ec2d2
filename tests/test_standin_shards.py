"""The stand-in shards a bot's gateway sessions the way Discord documents it: each server's
events go to the session of shard `(guild_id >> 22) % shard_count`, a session may hold at most
2,500 servers, and identifies spend the session start limit and respect max_concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import discord
import pytest
from discord.errors import ConnectionClosed

from bot.settings import Settings
from bot.standin.member import Member
from bot.standin.server import SessionStartLimit, StandIn, shard_for
from bot.startup import use_endpoints

FRAME_TIMEOUT = 10.0


class Connection:
    """One raw gateway connection: what a bot's shard sees."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def frame(self) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=FRAME_TIMEOUT)
        assert msg.type == aiohttp.WSMsgType.TEXT, f"expected a frame, got {msg.type!r}"
        frame: dict[str, Any] = msg.json()
        return frame

    async def identify(self, shard: Any = None, *, token: str | None = None) -> None:
        data: dict[str, Any] = {"token": token, "properties": {}, "intents": 1}
        if shard is not None:
            data["shard"] = shard
        await self.ws.send_json({"op": 2, "d": data})

    async def ready(self) -> tuple[dict[str, Any], set[int]]:
        """READY, and the ids of the GUILD_CREATE events that follow it."""
        ready = await self.frame()
        assert ready["t"] == "READY", ready
        created = set()
        for _ in ready["d"]["guilds"]:
            frame = await self.frame()
            assert frame["t"] == "GUILD_CREATE"
            created.add(int(frame["d"]["id"]))
        return ready["d"], created

    async def close_code(self) -> int | None:
        """How the stand-in ended the connection."""
        msg = await self.ws.receive(timeout=FRAME_TIMEOUT)
        assert msg.type == aiohttp.WSMsgType.CLOSE, f"expected a close, got {msg!r}"
        return self.ws.close_code

    async def event(self) -> dict[str, Any]:
        """The next dispatched event (heartbeat answers aside)."""
        while (frame := await self.frame())["op"] != 0:
            pass
        return frame


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


MakeStandIn = Callable[..., Awaitable[StandIn]]


@pytest.fixture
async def make_standin() -> AsyncIterator[MakeStandIn]:
    """`await make_standin(servers, **options)`: a running stand-in with that many servers,
    closed at the end of the test."""
    started: list[StandIn] = []

    async def make(servers: int, **options: Any) -> StandIn:
        standin = StandIn(**options)
        started.append(standin)
        await standin.start()
        standin.add_guilds(servers)
        return standin

    yield make
    for standin in started:
        await standin.close()


async def connect(
    http: aiohttp.ClientSession, standin: StandIn, shard: Any = None, *, token: str | None = None
) -> Connection:
    """A connection that has said hello and sent IDENTIFY."""
    ws = await http.ws_connect(standin.gateway_url + "?v=10&encoding=json")
    connection = Connection(ws)
    hello = await connection.frame()
    assert hello["op"] == 10
    await connection.identify(shard, token=token or standin.token)
    return connection


async def test_each_shard_gets_ready_and_guild_create_for_its_own_servers(
    http: aiohttp.ClientSession, make_standin: MakeStandIn
) -> None:
    standin = await make_standin(20, identify_interval=0)
    first = await connect(http, standin, [0, 2])
    ready0, created0 = await first.ready()
    second = await connect(http, standin, [1, 2])
    ready1, created1 = await second.ready()

    assert ready0["shard"] == [0, 2] and ready1["shard"] == [1, 2]
    for shard_id, ready, created in ((0, ready0, created0), (1, ready1, created1)):
        expected = {g for g in standin.guilds if shard_for(g, 2) == shard_id}
        assert {int(g["id"]) for g in ready["guilds"]} == expected == created
    assert created0 and created1, "the servers are spread over both shards"
    assert created0 | created1 == set(standin.guilds)
    assert standin.connected_shards == [(0, 2), (1, 2)]
    assert standin.identify_counts == {(0, 2): 1, (1, 2): 1}


async def test_an_unsharded_identify_is_shard_0_of_1(
    http: aiohttp.ClientSession, make_standin: MakeStandIn
) -> None:
    standin = await make_standin(3)
    ready, created = await (await connect(http, standin)).ready()
    assert "shard" not in ready, "READY names a shard only when IDENTIFY sent one"
    assert created == set(standin.guilds)
    assert standin.connected_shards == [(0, 1)]


async def test_one_connection_for_3000_servers_is_told_to_shard(
    http: aiohttp.ClientSession, make_standin: MakeStandIn
) -> None:
    standin = await make_standin(3000, identify_interval=0)
    assert await (await connect(http, standin)).close_code() == 4011
    assert await (await connect(http, standin, [0, 1])).close_code() == 4011
    _, created = await (await connect(http, standin, [1, 2])).ready()
    assert 0 < len(created) <= 2500
    assert [a.outcome for a in standin.identifies] == [
        "sharding required",
        "sharding required",
        "ready",
    ]
    assert standin.session_start_limit.remaining == 999, "refused identifies start nothing"


async def test_the_servers_per_shard_limit_is_configurable(
    http: aiohttp.ClientSession, make_standin: MakeStandIn
) -> None:
    standin = await make_standin(20, max_guilds_per_shard=10, identify_interval=0)
    assert await (await connect(http, standin)).close_code() == 4011
    _, created = await (await connect(http, standin, [0, 2])).ready()
    assert created == {g for g in standin.guilds if shard_for(g, 2) == 0}


@pytest.mark.parametrize(
    "shard", [[2, 2], [-1, 2], [0, 0], [0], [0, 1, 2], "0,1", [True, 2], [0.0, 2]]
)
async def test_a_bad_shard_array_closes_with_invalid_shard(
    http: aiohttp.ClientSession, make_standin: MakeStandIn, shard: Any
) -> None:
    standin = await make_standin(2)
    ws = await http.ws_connect(standin.gateway_url)
    connection = Connection(ws)
    await connection.frame()
    await ws.send_json(
        {"op": 2, "d": {"token": standin.token, "properties": {}, "intents": 1, "shard": shard}}
    )
    assert await connection.close_code() == 4010
    assert standin.sessions == []


async def gateway_bot(http: aiohttp.ClientSession, standin: StandIn) -> dict[str, Any]:
    headers = {"Authorization": f"Bot {standin.token}"}
    async with http.get(standin.api_base + "/gateway/bot", headers=headers) as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


async def test_gateway_bot_recommends_shards_and_counts_session_starts_down(
    http: aiohttp.ClientSession, make_standin: MakeStandIn
) -> None:
    now = 1_800_000_000.0
    limit = SessionStartLimit(total=1000, remaining=5, max_concurrency=1)
    standin = await make_standin(
        2500, clock=lambda: now, session_start_limit=limit, identify_interval=0
    )
    async with http.get(standin.api_base + "/gateway") as response:  # needs no token
        assert await response.json() == {"url": standin.gateway_url}
    info = await gateway_bot(http, standin)
    assert info["url"] == standin.gateway_url
    assert info["shards"] == 3
    assert info["session_start_limit"] == {
        "total": 1000,
        "remaining": 5,
        "reset_after": 0,
        "max_concurrency": 1,
    }
    standin.add_guilds(501)
    assert (await gateway_bot(http, standin))["shards"] == 4

    await (await connect(http, standin, [0, 4])).ready()
    await (await connect(http, standin, [1, 4])).ready()
    now += 60
    after = (await gateway_bot(http, standin))["session_start_limit"]
    assert after["remaining"] == 3
    assert after["reset_after"] == (24 * 60 * 60 - 60) * 1000
    # A refused identify starts no session and costs nothing.
    assert await (await connect(http, standin, [4, 4])).close_code() == 4010
    assert (await gateway_bot(http, standin))["session_start_limit"]["remaining"] == 3
    now += 24 * 60 * 60
    assert (await gateway_bot(http, standin))["session_start_limit"]["remaining"] == 1000


async def test_identifying_beyond_the_session_start_limit_resets_the_token(
    http: aiohttp.ClientSession, make_standin: MakeStandIn
) -> None:
    limit = SessionStartLimit(total=1000, remaining=1)
    standin = await make_standin(4, session_start_limit=limit, identify_interval=0)
    old_token = standin.token
    running = await connect(http, standin, [0, 2])
    await running.ready()
    late = await connect(http, standin, [1, 2])
    assert await late.close_code() == 4004
    assert await running.close_code() == 4004, "every session is ended"
    assert standin.token_resets == 1 and standin.token != old_token
    headers = {"Authorization": f"Bot {old_token}"}
    async with http.get(standin.api_base + "/users/@me", headers=headers) as response:
        assert response.status == 401
    assert await (await connect(http, standin, [1, 2], token=old_token)).close_code() == 4004


async def test_identifies_of_one_bucket_closer_than_the_interval_get_invalid_session(
    http: aiohttp.ClientSession, make_standin: MakeStandIn
) -> None:
    now = 1_800_000_000.0
    limit = SessionStartLimit(remaining=10, max_concurrency=2)
    standin = await make_standin(
        8, clock=lambda: now, session_start_limit=limit, identify_interval=5
    )
    # Shards 0 and 1 are in buckets 0 and 1: they may start together.
    started = [await connect(http, standin, [shard_id, 4]) for shard_id in (0, 1)]
    for connection in started:
        await connection.ready()
    # Shard 2 is in bucket 0 again, too soon.
    third = await connect(http, standin, [2, 4])
    assert await third.frame() == {"op": 9, "d": False}
    assert standin.connected_shards == [(0, 4), (1, 4)]
    assert standin.session_start_limit.remaining == 7, "the refused identify was spent"
    now += 4.9
    await third.identify([2, 4], token=standin.token)
    assert await third.frame() == {"op": 9, "d": False}
    now += 5
    await third.identify([2, 4], token=standin.token)
    ready, _ = await third.ready()
    assert ready["shard"] == [2, 4]
    outcomes = [(a.shard, a.outcome) for a in standin.identifies]
    assert outcomes == [
        ((0, 4), "ready"),
        ((1, 4), "ready"),
        ((2, 4), "invalid session"),
        ((2, 4), "invalid session"),
        ((2, 4), "ready"),
    ]


def guild_on(standin: StandIn, shard_id: int, shard_count: int) -> Any:
    return next(g for g in standin.guilds.values() if shard_for(g.id, shard_count) == shard_id)


async def fire(standin: StandIn, guild: Any) -> int:
    """A member's slash command in that server; the interaction's id."""
    payload = Member(standin, guild)._base()
    record = standin.new_interaction(2, payload, int(payload["channel_id"]))
    payload["data"] = {"id": "1", "name": "help", "type": 1}
    await standin.send_event("INTERACTION_CREATE", payload)
    return record.id


async def test_an_interaction_arrives_on_the_shard_of_its_server_only(
    http: aiohttp.ClientSession, make_standin: MakeStandIn
) -> None:
    standin = await make_standin(20, identify_interval=0)
    shard0 = await connect(http, standin, [0, 2])
    await shard0.ready()
    shard1 = await connect(http, standin, [1, 2])
    await shard1.ready()
    on_shard1 = await fire(standin, guild_on(standin, 1, 2))
    on_shard0 = await fire(standin, guild_on(standin, 0, 2))
    # Each connection's next event is its own server's interaction, not the other one.
    assert int((await shard1.event())["d"]["id"]) == on_shard1
    assert int((await shard0.event())["d"]["id"]) == on_shard0


async def test_two_sessions_on_one_shard_one_receives_the_newest(
    http: aiohttp.ClientSession, make_standin: MakeStandIn
) -> None:
    standin = await make_standin(20, identify_interval=0)
    old = await connect(http, standin, [0, 2])
    await old.ready()
    new = await connect(http, standin, [0, 2])  # a rolling deploy starts shard 0 again
    await new.ready()
    guild = guild_on(standin, 0, 2)
    to_new = await fire(standin, guild)
    assert int((await new.event())["d"]["id"]) == to_new
    # The old session gets the shard back once the new one is gone, and had nothing before.
    await new.ws.close()
    for _ in range(200):
        if standin.connected_shards == [(0, 2)]:
            break
        await asyncio.sleep(0.01)
    to_old = await fire(standin, guild)
    assert int((await old.event())["d"]["id"]) == to_old
    assert standin.identify_counts == {(0, 2): 2}


class PacedClient(discord.AutoShardedClient):
    """discord.py waits 5 s between shards' identifies; this one waits what the stand-in
    asks (the test's own identify interval), so it still never identifies too soon."""

    identify_interval = 0.05

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if not initial:
            await asyncio.sleep(2 * self.identify_interval)


async def run_until_ready(client: discord.Client, token: str) -> None:
    running = asyncio.create_task(client.start(token))
    ready = asyncio.create_task(client.wait_until_ready())
    done, _ = await asyncio.wait({running, ready}, timeout=60, return_when="FIRST_COMPLETED")
    if running in done:
        ready.cancel()
        running.result()
    assert ready in done, "the client did not become ready"


def point_discord_py_at(standin: StandIn) -> None:
    use_endpoints(
        Settings(token=standin.token, api_base=standin.api_base, gateway_url=standin.gateway_url)
    )


async def test_discord_py_autosharded_client_asks_and_shards_itself_for_3000_servers(
    make_standin: MakeStandIn,
) -> None:
    standin = await make_standin(3000, identify_interval=PacedClient.identify_interval)
    point_discord_py_at(standin)
    client = PacedClient(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    try:
        await run_until_ready(client, standin.token)
        assert ("GET", "/api/v10/gateway/bot", None) in standin.requests
        assert client.shard_count == 3
        assert sorted(standin.connected_shards) == [(0, 3), (1, 3), (2, 3)]
        assert len(client.guilds) == 3000
        assert all(g.shard_id == shard_for(g.id, 3) for g in client.guilds)
        assert [a.outcome for a in standin.identifies] == ["ready"] * 3
    finally:
        await client.close()


async def test_discord_py_told_to_run_one_shard_for_3000_servers_is_refused(
    make_standin: MakeStandIn,
) -> None:
    standin = await make_standin(3000)
    point_discord_py_at(standin)
    client = discord.AutoShardedClient(intents=discord.Intents.default(), shard_count=1)
    try:
        with pytest.raises(ConnectionClosed) as refused:
            await asyncio.wait_for(client.start(standin.token), 30)
        assert refused.value.code == 4011
    finally:
        await client.close()
