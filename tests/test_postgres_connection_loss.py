"""A PostgreSQL server that goes away, and comes back: members hear one plain sentence
meanwhile, never "Something went wrong"; the bot works again once the server is back; the
catalog's version keeps being heard through a listener that was cut off, ended by an
administrator or left hanging on a connection that no longer carries anything.

The tests that stop the server do it to a server of their own (the module's), not to the
one the rest of the suite shares.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from bot.catalog import import_catalog, sample_catalog
from bot.client import TakeTwoBot
from bot.db.failures import BROKEN_SENTENCE, CANNOT_READ_SENTENCE, CannotReadError
from bot.db.postgres import catalog_watch
from bot.db.postgres.catalog_watch import APPLICATION_NAME, CHANNEL
from bot.db.postgres.database import PostgresDatabase
from bot.errors import CannotSaveError
from cogs.takes import AgreeButton
from tests.fakes import invoke, make_interaction
from tests.postgres import Cluster, start_cluster
from tests.stores import Stores

GUILD = 500
# How long a test waits for what must happen soon (a listener back, a version heard): a
# bound that fails the test, not a speed it measures.
PATIENCE_S = 30.0


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[Cluster]:
    """A server the module's tests may stop and start again."""
    cluster = start_cluster()
    yield cluster
    cluster.stop()


def stop_server(cluster: Cluster) -> None:
    stopped = cluster._run("pg_ctl", "-D", str(cluster.root / "data"), "-m", "fast", "-w", "stop")
    assert stopped.returncode == 0, stopped.stderr


def start_server_again(cluster: Cluster) -> None:
    """`restart` starts a stopped server with the options it last ran with."""
    started = cluster._run(
        "pg_ctl", "-D", str(cluster.root / "data"), "-l", str(cluster.root / "server.log"),
        "-w", "restart",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE_S
    while not await check():
        assert loop.time() < deadline, f"{what}: not within {PATIENCE_S:.0f} s"
        await asyncio.sleep(0.05)


async def listeners(admin: asyncpg.Connection[asyncpg.Record]) -> list[int]:
    """The server processes of the catalog listeners on the admin connection's database."""
    rows = await admin.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name = $1",
        APPLICATION_NAME,
    )
    return [int(row["pid"]) for row in rows]


async def edit_catalog(url: str) -> None:
    """Another process edits the catalog (each of its videos moves the version)."""
    other = PostgresDatabase(url)
    await other.open()
    try:
        async with other.transaction() as tx:
            await import_catalog(tx, sample_catalog())
    finally:
        await other.close()


# The catalog listener.


async def test_a_listener_ended_by_the_server_listens_again_and_hears_edits(
    postgres_url: str,
) -> None:
    db = PostgresDatabase(postgres_url)
    await db.open()
    admin = await asyncpg.connect(postgres_url)
    try:
        before = await db.catalog_version()
        [ended] = await listeners(admin)
        await admin.execute("SELECT pg_terminate_backend($1)", ended)

        async def listening_again() -> bool:
            return bool(set(await listeners(admin)) - {ended})

        await eventually(listening_again, "no catalog listener connected again")
        await edit_catalog(postgres_url)

        async def moved() -> bool:
            return await db.catalog_version() > before

        await eventually(moved, "the edit was not seen")
        # What the process answers now is what it hears, not a statement per question: a
        # notification alone (no edit behind it) moves it.
        await admin.execute("SELECT pg_notify($1, '1000000')", CHANNEL)

        async def heard() -> bool:
            return await db.catalog_version() == 1_000_000

        await eventually(heard, "the listener does not hear the channel")
    finally:
        await admin.close()
        await db.close()


class Proxy:
    """A TCP relay to the server that can go silent on the connections open so far: they
    stay open, but nothing passes either way (a half-open connection, as a dead network
    path or a firewall that dropped its state leaves it). Connections made later pass."""

    def __init__(self, port: int) -> None:
        self.target_port = port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._open: list[tuple[bytes, asyncio.Event]] = []  # first bytes sent, silenced
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    def silence(self, sent: bytes) -> int:
        """Silence the open connections whose client's first message held `sent`."""
        found = [event for first, event in self._open if sent in first]
        for event in found:
            event.set()
        return len(found)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]
        first = await reader.read(65536)  # the startup message (no TLS asked here)
        up_writer.write(first)
        silenced = asyncio.Event()
        self._open.append((first, silenced))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(source, sink, silenced))
            self._tasks.add(task)

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, silenced: asyncio.Event
    ) -> None:
        while data := await source.read(65536):
            if silenced.is_set():
                await asyncio.Event().wait()  # holds the connection open, passing nothing
            sink.write(data)
            await sink.drain()
        sink.close()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            self._server.close()


@pytest.fixture
async def proxy(postgres_cluster: Cluster) -> AsyncIterator[Proxy]:
    relay = Proxy(postgres_cluster.port)
    await relay.start()
    yield relay
    await relay.close()


async def test_a_listener_that_went_silent_is_replaced_and_the_edit_is_seen(
    postgres_url: str, proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The production check (every 10 s, 5 s to answer) made short for the test.
    monkeypatch.setattr(catalog_watch, "CHECK_EVERY_S", 0.2)
    monkeypatch.setattr(catalog_watch, "CHECK_TIMEOUT_S", 0.5)
    # Without TLS, whose request would come before the startup message the proxy reads.
    database = postgres_url.rsplit("/", 1)[1]
    through_proxy = f"postgresql://postgres@127.0.0.1:{proxy.port}/{database}?sslmode=disable"
    db = PostgresDatabase(through_proxy)
    await db.open()
    try:
        before = await db.catalog_version()
        assert proxy.silence(APPLICATION_NAME.encode()) == 1
        await edit_catalog(postgres_url)

        async def moved() -> bool:
            return await db.catalog_version() > before

        await eventually(moved, "an edit made while the listener was silent was never seen")
    finally:
        await db.close()


# Members while the server is away.


@pytest.fixture
async def bot_on_own_server(tmp_path: Path, own_cluster: Cluster) -> AsyncIterator[TakeTwoBot]:
    stores = Stores(tmp_path, own_cluster)
    try:
        instance = TakeTwoBot((await stores.sample()).settings())
        await instance.prepare()
        try:
            yield instance
        finally:
            await instance.close()
    finally:
        # The restart ended the admin connection too: the module's server goes whole.
        with contextlib.suppress(asyncpg.InterfaceError):
            await stores.close()


@contextlib.contextmanager
def server_away(cluster: Cluster) -> Iterator[None]:
    stop_server(cluster)
    try:
        yield
    finally:
        start_server_again(cluster)


async def test_members_hear_a_sentence_while_the_server_is_away_and_are_served_after(
    bot_on_own_server: TakeTwoBot, own_cluster: Cluster
) -> None:
    bot = bot_on_own_server
    async with bot.db.read() as session:
        formation = await session.videos.get_by_slug("beyonce-formation")
    assert formation is not None
    take = await bot.db.save_take(
        guild_id=GUILD,
        video_id=formation.id,
        user_id=1,
        score=9,
        text="A masterclass in staging.",
        now=1,
    )
    with server_away(own_cluster):
        [review] = await invoke(bot, "review", make_interaction(bot), video="Formation")
        assert (review.content, review.ephemeral) == (CANNOT_READ_SENTENCE, True)
        pressed = make_interaction(bot, user_id=2)
        await AgreeButton(take.id).callback(pressed)
        assert (pressed.sent[0].content, pressed.sent[0].ephemeral) == (BROKEN_SENTENCE, True)
        with pytest.raises(CannotSaveError) as refused:
            await bot.db.rate(guild_id=GUILD, video_id=formation.id, user_id=3, score=4, rated_at=1)
        assert refused.value.message == BROKEN_SENTENCE
    # The pool connects again on its own: the same members are served.
    [review] = await invoke(bot, "review", make_interaction(bot), video="Formation")
    assert review.embed.title and "Formation" in review.embed.title
    pressed = make_interaction(bot, user_id=2)
    await AgreeButton(take.id).callback(pressed)
    assert f"You agree with take #{take.id}" in (pressed.sent[0].content or "")
    summary = await bot.db.rate(
        guild_id=GUILD, video_id=formation.id, user_id=3, score=4, rated_at=1
    )
    assert summary.count == 2


async def test_a_read_under_way_as_the_pool_closes_is_a_sentence(postgres_url: str) -> None:
    db = PostgresDatabase(postgres_url)
    await db.open()
    with pytest.raises(CannotReadError):
        async with db.lookup() as lookup:
            await db.close()
            await lookup.quotes.count(GUILD)
