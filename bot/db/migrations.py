"""Numbered SQL migrations, versioned with PRAGMA user_version.

Each file is `NNNN_name.sql` and wraps itself in `BEGIN IMMEDIATE; ... COMMIT;`, ending by
setting `PRAGMA user_version = NNNN`. A failing script is rolled back, so the database is
left exactly as it was before that migration.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(Exception):
    """A migration failed; the database is at the version before it."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


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


async def user_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection, directory: Path = MIGRATIONS_DIR) -> int:
    """Apply every migration newer than the database. Returns the version it started at."""
    start = await user_version(conn)
    for migration in discover(directory):
        if migration.version <= await user_version(conn):
            continue
        script = migration.path.read_text(encoding="utf-8")
        try:
            await conn.executescript(script)
        except Exception as exc:
            if conn.in_transaction:
                await conn.rollback()
            if await user_version(conn) >= migration.version:
                continue  # another process applied it first while we waited for the lock
            raise MigrationError(
                f"migration {migration.name} failed and was undone: {exc}"
            ) from exc
        found = await user_version(conn)
        if found != migration.version:
            raise MigrationError(
                f"migration {migration.name} must end with PRAGMA user_version = "
                f"{migration.version}; the database reports {found}"
            )
        log.info("applied migration %s", migration.name)
    return start
