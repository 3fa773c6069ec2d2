"""What a database holds, read straight from its engine past the bot's interface: for tests
that check what is stored (every table, every row), not what the bot answers.

Simple SELECTs read the same on SQLite and PostgreSQL; parameters are written `?`, as
SQLite takes them, and numbered for PostgreSQL. Each call opens its own connection, as
another program reading the database would.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import asyncpg

from bot.db import Database
from bot.db.postgres.database import PostgresDatabase
from bot.db.sqlite.database import SQLiteDatabase
from bot.settings import Settings
from tests.stores import POSTGRESQL, SQLITE, Store

Where = Store | Settings | Database
# Column names, and the rows.
Table = tuple[list[str], list[tuple[Any, ...]]]

_TABLES = {
    # Every table SELECT * can read, FTS5's own among them.
    SQLITE: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    POSTGRESQL: "SELECT table_name FROM information_schema.tables "
    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
}


def _address(where: Where) -> Path | str:
    """SQLite's file, or PostgreSQL's URL."""
    if isinstance(where, Store):
        where = where.settings()
    if isinstance(where, Settings):
        return where.database_path if where.database_url is None else where.database_url
    if isinstance(where, SQLiteDatabase):
        return where.path
    if isinstance(where, PostgresDatabase):
        return where.url
    raise TypeError(f"not a database: {where!r}")


def _numbered(sql: str) -> str:
    numbers = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(numbers)}", sql)


async def _query(where: Where, sql: str, args: tuple[object, ...]) -> Table:
    address = _address(where)
    if isinstance(address, Path):
        # closing(): sqlite3's own context manager commits but leaves the connection open.
        with closing(sqlite3.connect(address)) as file:
            cursor = file.execute(sql, args)
            return [d[0] for d in cursor.description], [tuple(row) for row in cursor]
    server = await asyncpg.connect(address)
    try:
        statement = await server.prepare(_numbered(sql))
        columns = [attribute.name for attribute in statement.get_attributes()]
        return columns, [tuple(row) for row in await statement.fetch(*args)]
    finally:
        await server.close()


async def rows(where: Where, sql: str, *args: object) -> list[tuple[Any, ...]]:
    return (await _query(where, sql, args))[1]


async def value(where: Where, sql: str, *args: object) -> Any:
    """The one value the query selects."""
    [[found]] = await rows(where, sql, *args)
    return found


async def tables(where: Where) -> list[str]:
    engine = SQLITE if isinstance(_address(where), Path) else POSTGRESQL
    return [name for (name,) in await rows(where, _TABLES[engine])]


async def table(where: Where, name: str) -> Table:
    """A table's column names and every one of its rows."""
    return await _query(where, f'SELECT * FROM "{name}"', ())
