from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.catalog import import_catalog, sample_catalog
from bot.client import TakeTwoBot
from bot.db.sqlite.database import SQLiteDatabase
from bot.settings import Settings
from bot.standin.server import StandIn
from tests.standin_harness import World
from tests.templates import sample_database

# The throwaway PostgreSQL server and a fresh database per test (tests/postgres.py).
pytest_plugins = ["tests.postgres"]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SQLiteDatabase]:
    """A migrated, empty database in a real SQLite file."""
    database = SQLiteDatabase(tmp_path / "test.sqlite3")
    await database.open()
    yield database
    await database.close()


@pytest.fixture
async def catalog_db(db: SQLiteDatabase) -> SQLiteDatabase:
    """The database with the sample catalog loaded."""
    async with db.transaction() as tx:
        await import_catalog(tx, sample_catalog())
    return db


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[TakeTwoBot]:
    """The real bot with every extension loaded, not connected to Discord."""
    settings = Settings(
        token="unused", database_path=await sample_database(tmp_path / "bot.sqlite3")
    )
    instance = TakeTwoBot(settings)
    await instance.prepare()
    yield instance
    await instance.close()


@pytest.fixture
async def editor_bot(tmp_path: Path) -> AsyncIterator[TakeTwoBot]:
    """The bot with member 42 among its owners, who may edit the catalog."""
    settings = Settings(
        token="t",
        database_path=await sample_database(tmp_path / "e.sqlite3"),
        owner_ids=frozenset({42}),
    )
    instance = TakeTwoBot(settings)
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
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """The real bot connected to the local Discord stand-in, with one server."""
    instance = World(tmp_path)
    await instance.start()
    try:
        yield instance
        instance.assert_discord_was_happy()
    finally:
        await instance.close()
