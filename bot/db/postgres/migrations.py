"""Numbered PostgreSQL migrations, each applied once in a transaction of its own.

Each file is `NNNN_name.sql`, numbered 1, 2, 3... without gaps, and holds only schema
statements (functions with `$$` bodies too). The runner owns the transaction and the
version: for each migration newer than the database it begins a transaction, takes an
advisory lock (so a second process starting at the same moment waits for the first, then
finds the migration applied and skips it), reads the version under that lock from
`schema_version`, runs the file, records the version and commits. Any failure rolls the
migration back whole and raises MigrationError: the database stays at the version before.
A file that would end or replace the runner's transaction, or write `schema_version`
itself, is refused before anything runs.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.db.failures import MigrationError

if TYPE_CHECKING:
    from bot.db.postgres.connections import Connection

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# One lock for every migration of this database (advisory locks are per database).
MIGRATION_LOCK = 0x7461_6B65_7477_6F00  # "taketwo\0"
# A second process waits this long for the first one's migration before giving up.
MIGRATION_LOCK_TIMEOUT = "60s"
VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, "
    "name text NOT NULL, applied_at bigint NOT NULL)"
)
# What is not a statement's own words: comments, quoted text, quoted names and $$ bodies.
_QUOTED = re.compile(
    r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\$([A-Za-z_]\w*|)\$.*?\$\1\$",
    re.DOTALL,
)
_RUNNERS_JOB = re.compile(
    r"^(?:BEGIN|COMMIT|END|ROLLBACK|ABORT|START\s+TRANSACTION|SAVEPOINT|RELEASE|PREPARE\s+"
    r"TRANSACTION)\b|\bschema_version\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    def sql(self) -> str:
        """The file's text, once checked: it must leave the transaction and the version
        to the runner."""
        text = self.path.read_text(encoding="utf-8")
        bare = _QUOTED.sub(" ", text)
        for number, statement in enumerate(bare.split(";"), 1):
            if _RUNNERS_JOB.search(statement.strip()):
                raise MigrationError(
                    f"{self.name}: statement {number} ({statement.strip().splitlines()[0]}) "
                    "manages the transaction or schema_version, which the runner does itself"
                )
        return text


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        migrations.append(Migration(int(match.group(1)), path))
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(
            f"migrations must be numbered 1, 2, 3... without gaps; found {versions}"
        )
    return migrations


async def schema_version(conn: Connection) -> int:
    """The database's version: 0 before any migration."""
    if await conn.fetchval("SELECT to_regclass('schema_version') IS NULL"):
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version"))


async def migrate(conn: Connection, directory: Path = MIGRATIONS_DIR) -> int:
    """Apply every migration newer than the database. Returns the version found before this
    call changed anything (0: a new database)."""
    plan = [(migration, migration.sql()) for migration in discover(directory)]
    # Versions only grow, so a migration at or below this reading is applied for good;
    # whether any other one runs is decided again under the lock.
    current = await schema_version(conn)
    start: int | None = None
    for migration, sql in plan:
        if migration.version <= current:
            continue
        found = await _apply(conn, migration, sql)
        if start is None:
            start = found
        current = max(found, migration.version)
    return current if start is None else start


async def _apply(conn: Connection, migration: Migration, sql: str) -> int:
    """Run one migration unless the database has it; return the version found under the lock."""
    try:
        async with conn.transaction():
            await conn.execute(f"SET LOCAL lock_timeout = '{MIGRATION_LOCK_TIMEOUT}'")
            await conn.execute("SELECT pg_advisory_xact_lock($1::bigint)", MIGRATION_LOCK)
            await conn.execute(VERSION_TABLE)
            found = await schema_version(conn)
            if found < migration.version:
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    int(time.time()),
                )
    except Exception as exc:
        raise MigrationError(
            f"migration {migration.name} failed and was rolled back: {exc}"
        ) from exc
    if found < migration.version:
        log.info("applied migration %s", migration.name)
    return found
