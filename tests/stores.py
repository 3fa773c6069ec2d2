"""Where a test's database lives, on either engine TakeTwo runs on.

A `Store` is the place of one database: a SQLite file in the test's folder, or a database
of its own on the test process's throwaway PostgreSQL server (tests/postgres.py). The bot,
a CLI command or a bot process finds it through the same settings an operator sets.
`Stores` makes them for one test, on the engine that run of the test uses, and drops the
PostgreSQL databases when the test ends.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

from bot.db import Database
from bot.settings import Settings
from bot.startup import database_name, new_database
from tests.templates import postgres_copy, sample_database

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
ENGINES = (SQLITE, POSTGRESQL)

if TYPE_CHECKING:  # importing it here would keep pytest from rewriting its asserts
    from tests.postgres import Cluster


@dataclass(frozen=True)
class Store:
    # SQLite's file; on PostgreSQL where DATABASE_PATH points, unused.
    path: Path
    url: str | None = None

    @property
    def engine(self) -> str:
        return SQLITE if self.url is None else POSTGRESQL

    def settings(self, *, token: str = "unused", **others: Any) -> Settings:
        return Settings(token=token, database_path=self.path, database_url=self.url, **others)

    def environment(self) -> dict[str, str]:
        """The settings a process reads. DATABASE_URL is always set (empty means SQLite), so
        that one in a developer's own shell never takes the test's place."""
        return {"DATABASE_PATH": str(self.path), "DATABASE_URL": self.url or ""}

    def database(self) -> Database:
        """The database here, not yet opened: as the bot builds it from its settings."""
        return new_database(self.settings())

    @property
    def name(self) -> str:
        """The database as the bot's own lines name it."""
        return database_name(self.settings())


_names = itertools.count()


class Stores:
    """Makes a test's Stores: SQLite files in `folder`, or, given a cluster, databases on
    it (dropped by close())."""

    def __init__(self, folder: Path, cluster: Cluster | None) -> None:
        self.folder = folder
        self.cluster = cluster
        self._made: list[str] = []
        # A connection to the server's own database, for CREATE and DROP DATABASE.
        self._admin: asyncpg.Connection[asyncpg.Record] | None = None

    @property
    def engine(self) -> str:
        return SQLITE if self.cluster is None else POSTGRESQL

    async def empty(self, file: str = "test.sqlite3") -> Store:
        """A place no database was made in yet: the first open creates its tables."""
        path = self.folder / file
        if self.cluster is None:
            return Store(path)
        admin, name = await self._new_database()
        await admin.execute(f'CREATE DATABASE "{name}"')
        return Store(path, self.cluster.url(name))

    async def migrated(self, file: str = "test.sqlite3") -> Store:
        """A place whose first open finds an empty, migrated database. On SQLite a new file,
        which that open migrates (as quick as copying one); on PostgreSQL a copy of a
        migrated template."""
        path = self.folder / file
        if self.cluster is None:
            return Store(path)
        admin, name = await self._new_database()
        return Store(path, await postgres_copy(admin, self.cluster, name, sample=False))

    async def sample(self, file: str = "bot.sqlite3") -> Store:
        """A database as the bot's first start leaves it: migrated, with the sample catalog."""
        path = self.folder / file
        if self.cluster is None:
            return Store(await sample_database(path))
        admin, name = await self._new_database()
        return Store(path, await postgres_copy(admin, self.cluster, name, sample=True))

    async def _new_database(self) -> tuple[asyncpg.Connection[asyncpg.Record], str]:
        """The admin connection, and a name for a new database (dropped at close)."""
        assert self.cluster is not None
        if self._admin is None:
            self._admin = await asyncpg.connect(self.cluster.url())
        name = f"store_{os.getpid()}_{next(_names)}"
        self._made.append(name)
        return self._admin, name

    async def close(self) -> None:
        if self._admin is None:
            return
        try:
            for name in self._made:
                # FORCE: a bot process the test killed may have left its sessions behind.
                await self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await self._admin.close()
