"""Databases holding the sample catalog, made from a template built once per test process:
migrating and importing the sample anew every time cost about 40 ms a test (over 100 ms on
PostgreSQL), for the same data each time.

SQLite's template is a file, copied for each test. PostgreSQL's are databases on the test
process's server, from which `CREATE DATABASE ... TEMPLATE` makes each test's copy: one with
the sample, and one migrated and empty (for the `db` fixture: migrating costs PostgreSQL
more than copying).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg

from bot.db.postgres.database import PostgresDatabase
from bot.db.sqlite.database import SQLiteDatabase
from bot.startup import load_sample_if_new

_template: Path | None = None
# Each server's template databases, by the server's address and whether they hold the sample.
_postgres_templates: dict[tuple[str, bool], str] = {}

if TYPE_CHECKING:  # importing it here would keep pytest from rewriting its asserts
    from tests.postgres import Cluster


async def sample_database(target: Path) -> Path:
    """Put a copy of the template at `target` (the bot opens it as an existing database)."""
    global _template
    if _template is None:
        path = Path(tempfile.mkdtemp(prefix="taketwo-template-")) / "template.sqlite3"
        db = SQLiteDatabase(path)
        await db.open()
        await load_sample_if_new(db, load_sample_catalog=True)
        await db.close()  # the last connection folds the write-ahead log into the file
        _template = path
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_template, target)
    return target


async def postgres_copy(
    admin: asyncpg.Connection[asyncpg.Record], cluster: Cluster, name: str, *, sample: bool
) -> str:
    """Create the database `name` on the cluster as a copy of a template, made on first use:
    migrated, and with the sample catalog as the bot's first start loads it if `sample`.
    Returns its URL. `admin` is a connection to the cluster's own database."""
    key = (cluster.url(), sample)
    template = _postgres_templates.get(key)
    if template is None:
        template = f"{'sample' if sample else 'migrated'}_template_{os.getpid()}"
        await admin.execute(f'CREATE DATABASE "{template}"')
        db = PostgresDatabase(cluster.url(template))
        await db.open()
        if sample:
            await load_sample_if_new(db, load_sample_catalog=True)
        await db.close()  # a template with a session open cannot be copied
        _postgres_templates[key] = template
    # FILE_COPY copies the files whole: with fsync off, quicker than logging every block.
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    return cluster.url(name)
