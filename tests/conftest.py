"""The suite's fixtures. Every test that stores anything runs once per engine: the test ids
end in `sqlite` and `postgresql`. PostgreSQL is a real server (tests/postgres.py); where it
is missing the `postgresql` runs are skipped, each with a one-line reason (and fail under
TAKETWO_REQUIRE_POSTGRES=1).

`engine` chooses the run's engine; `stores` makes databases on it (tests/stores.py), and
`db`, `catalog_db`, `bot`, `editor_bot` and `world` stand on those. A test that makes a
database or starts a bot process of its own asks `stores` for the place, so it runs on
both engines too. tests/raw.py reads what either engine holds.

Some tests check what only SQLite has, on purpose. Those that use the fixtures above run
once, with the id `sqlite`: they are marked `@pytest.mark.sqlite_only`, or their module is
in SQLITE_MODULES. The others use the non-parametrized `sqlite_db` / `sqlite_catalog_db`, or
make a SQLite file themselves (and carry the mark where it is not plain from the module).
They are:
- tests/test_migrations.py: SQLite's schema, its migration runner and its files;
- tests/test_faults.py (but for a first start that fails): damaged, unwritable and locked
  files;
- tests/test_data_layer_shape.py (SQLITE_MODULES): the SQLite data layer's own sessions,
  connections and query steps;
- test_ratings: committed rows reach the file past the write-ahead log (checkpoints);
- test_daily: SQLite's query plan for due schedules;
- test_resilience: a lock held by another SQLite program, and SQLite's size cap as a full
  disk;
- test_videos: credits kept from before a SQLite migration;
- test_admin_cli: `backup` (a copy of SQLite's file; PostgreSQL has pg_dump);
- test_privacy_marker: the deleted text's bytes in the file and its write-ahead log (every
  table of either engine is checked by the other test there).
The playground (tests/test_playground.py) keeps a throwaway SQLite file of its own.
PostgreSQL's counterparts of these are in tests/test_postgres_backend.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest

from bot.catalog import import_catalog, sample_catalog
from bot.client import TakeTwoBot
from bot.db import Database
from bot.db.sqlite.database import SQLiteDatabase
from bot.standin.server import StandIn
from bot.standin.services import ServicesStandIn
from tests.standin_harness import World
from tests.stores import ENGINES, POSTGRESQL, SQLITE, Stores

if TYPE_CHECKING:  # imported as a plugin (below), so that pytest rewrites its asserts
    from tests.postgres import Cluster

# The throwaway PostgreSQL server and a fresh database per test (tests/postgres.py).
pytest_plugins = ["tests.postgres"]

# Whole modules about SQLite alone (see above).
SQLITE_MODULES = {"tests.test_data_layer_shape"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: checks what only SQLite has (runs once, on SQLite)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each test whose fixtures stand on `engine` runs once per engine."""
    if "engine" not in metafunc.fixturenames:
        return
    alone = (
        metafunc.definition.get_closest_marker("sqlite_only") is not None
        or metafunc.module.__name__ in SQLITE_MODULES
    )
    metafunc.parametrize("engine", [SQLITE] if alone else list(ENGINES), indirect=True)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The engine of this run of the test: `sqlite` or `postgresql`."""
    return str(request.param)


@pytest.fixture
def cluster(engine: str, request: pytest.FixtureRequest) -> Cluster | None:
    """The PostgreSQL server for a `postgresql` run (started once per test process)."""
    if engine != POSTGRESQL:
        return None
    return cast("Cluster", request.getfixturevalue("postgres_cluster"))


@pytest.fixture
async def stores(tmp_path: Path, cluster: Cluster | None) -> AsyncIterator[Stores]:
    """Places for the test's databases on its engine."""
    made = Stores(tmp_path, cluster)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
async def db(stores: Stores) -> AsyncIterator[Database]:
    """A migrated, empty database."""
    database = (await stores.migrated()).database()
    await database.open()
    yield database
    await database.close()


@pytest.fixture
async def catalog_db(db: Database) -> Database:
    """The database with the sample catalog loaded."""
    await load_sample(db)
    return db


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[SQLiteDatabase]:
    """A migrated, empty database in a real SQLite file: for what only SQLite has."""
    database = SQLiteDatabase(tmp_path / "test.sqlite3")
    await database.open()
    yield database
    await database.close()


@pytest.fixture
async def sqlite_catalog_db(sqlite_db: SQLiteDatabase) -> SQLiteDatabase:
    await load_sample(sqlite_db)
    return sqlite_db


async def load_sample(db: Database) -> None:
    async with db.transaction() as tx:
        await import_catalog(tx, sample_catalog())


@pytest.fixture
async def bot(stores: Stores) -> AsyncIterator[TakeTwoBot]:
    """The real bot with every extension loaded, not connected to Discord."""
    instance = TakeTwoBot((await stores.sample()).settings())
    await instance.prepare()
    yield instance
    await instance.close()


@pytest.fixture
async def editor_bot(stores: Stores) -> AsyncIterator[TakeTwoBot]:
    """The bot with member 42 among its owners, who may edit the catalog."""
    instance = TakeTwoBot((await stores.sample()).settings(owner_ids=frozenset({42})))
    await instance.prepare()
    yield instance
    await instance.close()


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    """The local Discord stand-in on 127.0.0.1, with one server, and no bot."""
    server = StandIn()
    await server.start()
    server.add_guild()
    yield server
    await server.close()


@pytest.fixture
async def world(stores: Stores) -> AsyncIterator[World]:
    """The real bot connected to the local Discord stand-in, with one server."""
    instance = World(await stores.sample("e2e.sqlite3"))
    await instance.start()
    try:
        yield instance
        instance.assert_discord_was_happy()
    finally:
        await instance.close()


@pytest.fixture
async def lookup_services() -> AsyncIterator[ServicesStandIn]:
    """The loopback stand-in for oEmbed and Wikidata (and the source pages) that outbound
    lookups reach in tests."""
    running = ServicesStandIn()
    await running.start()
    try:
        yield running
    finally:
        await running.close()
