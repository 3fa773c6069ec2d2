"""Numbered SQL migrations, versioned with PRAGMA user_version.

Each file is `NNNN_name.sql` and holds only its schema statements. The runner owns the
transaction and the version: for each migration it takes the write lock (BEGIN IMMEDIATE, so
two processes starting at once take turns), reads user_version under that lock, skips the
migration if the database already has it, else runs the statements one by one, sets
`PRAGMA user_version = NNNN` and commits. Any failure rolls the migration back whole and
raises MigrationError, so the database stays at the version before it.

A file may ask the runner for more in its header (the comments before its first statement),
one `-- runner: <directive>` line each; an unknown directive, or one below the header, is
refused. The only directive is

    -- runner: foreign keys off

for a migration that rebuilds a table other tables reference, following SQLite's procedure
for schema changes ALTER TABLE cannot make (sqlite.org/lang_altertable.html): with foreign
keys on, dropping the old table would delete its rows first and run every ON DELETE action.
PRAGMA foreign_keys cannot change inside a transaction (a file that sets it is refused, as it
would do nothing), so the runner turns foreign keys off before BEGIN, runs
`PRAGMA foreign_key_check` after the migration's last statement and rolls the migration back
if any row breaks a foreign key, and in every case, applied, skipped or failed, sets
foreign_keys back to what it was before.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from bot.db.failures import MigrationError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LEADING_COMMENTS = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)
# Top-level statements that would end or replace the runner's transaction, set the version
# behind its back, or try to switch foreign keys (which does nothing inside a transaction).
# A trigger's BEGIN...END is inside a CREATE TRIGGER statement.
_RUNNERS_JOB = re.compile(
    r"(?:BEGIN|COMMIT|END|ROLLBACK)\b|PRAGMA\s+(?:\w+\s*\.\s*)?(?:user_version|foreign_keys)\b",
    re.IGNORECASE,
)
_DIRECTIVE = re.compile(r"^[ \t]*--[ \t]*runner:(.*)$", re.MULTILINE | re.IGNORECASE)
FOREIGN_KEYS_OFF = "foreign keys off"

# Called after each statement of a migration, inside its transaction (with the migration
# and the statement's 1-based number): for progress reports, or to stop at a chosen point.
AfterStatement = Callable[["Migration", int], None]


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    def statements(self) -> list[str]:
        """The file's statements in order, each complete on its own. A file that manages
        the transaction or the version itself is refused: the runner does both."""
        *pieces, tail = self.path.read_text(encoding="utf-8").split(";")
        found: list[str] = []
        pending = ""
        for piece in pieces:
            pending += piece + ";"
            # A ';' inside a string, a comment or a trigger body does not end the statement.
            if not sqlite3.complete_statement(pending):
                continue
            body = _LEADING_COMMENTS.sub("", pending)
            if body != ";":
                if _RUNNERS_JOB.match(body):
                    raise MigrationError(
                        f"{self.name}: statement {len(found) + 1} ({body.splitlines()[0]}) "
                        "manages the transaction, user_version or foreign_keys, which the "
                        "runner does itself: remove it (for foreign keys off, see the "
                        "migrations module's docstring)"
                    )
                found.append(pending.strip())
            pending = ""
        if _LEADING_COMMENTS.sub("", pending + tail):
            raise MigrationError(f"{self.name}: the last statement is incomplete")
        return found

    def needs_foreign_keys_off(self) -> bool:
        """Whether the header says `-- runner: foreign keys off`."""
        text = self.path.read_text(encoding="utf-8")
        found = _LEADING_COMMENTS.match(text)  # matches any text (an empty header at least)
        header = found.group() if found else ""
        if _DIRECTIVE.search(text, len(header)):
            raise MigrationError(
                f"{self.name}: a `-- runner:` line below the first statement; directives "
                "belong in the header"
            )
        directives = {" ".join(d.lower().split()) for d in _DIRECTIVE.findall(header)}
        unknown = directives - {FOREIGN_KEYS_OFF}
        if unknown:
            raise MigrationError(
                f"{self.name}: unknown runner directive {sorted(unknown)[0]!r} "
                f"(the runner knows {FOREIGN_KEYS_OFF!r})"
            )
        return FOREIGN_KEYS_OFF in directives


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


async def _pragma(conn: aiosqlite.Connection, name: str) -> int:
    async with conn.execute(f"PRAGMA {name}") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def user_version(conn: aiosqlite.Connection) -> int:
    return await _pragma(conn, "user_version")


async def migrate(
    conn: aiosqlite.Connection,
    directory: Path = MIGRATIONS_DIR,
    *,
    after_statement: AfterStatement | None = None,
) -> int:
    """Apply every migration newer than the database, each in a transaction of its own.

    Returns the version found before this call changed anything (0: a new file). `conn`
    must be in autocommit mode (isolation_level=None): the runner issues BEGIN and COMMIT.
    """
    # Every file is checked before any runs, so a refused file changes nothing.
    plan = [
        (migration, migration.statements(), migration.needs_foreign_keys_off())
        for migration in discover(directory)
    ]
    # Versions only grow, so a migration at or below this reading is applied for good;
    # whether any other one runs is decided again under the write lock.
    current = await user_version(conn)
    start: int | None = None
    for migration, statements, foreign_keys_off in plan:
        if migration.version <= current:
            continue
        async with _foreign_keys_off(conn, migration) if foreign_keys_off else nullcontext():
            found = await _apply(conn, migration, statements, foreign_keys_off, after_statement)
        if start is None:
            start = found
        current = max(found, migration.version)
    return current if start is None else start


@asynccontextmanager
async def _foreign_keys_off(
    conn: aiosqlite.Connection, migration: Migration
) -> AsyncIterator[None]:
    """Foreign keys off for the block, then back to what they were, whatever happens."""
    were_on = await _pragma(conn, "foreign_keys")
    try:
        await conn.execute("PRAGMA foreign_keys = OFF")
        # Inside a transaction the pragma does nothing: refuse rather than run with them on.
        if await _pragma(conn, "foreign_keys"):
            raise MigrationError(
                f"migration {migration.name} needs foreign keys off and they stayed on "
                "(was a transaction open?); nothing was changed"
            )
        yield
    finally:
        await conn.execute(f"PRAGMA foreign_keys = {'ON' if were_on else 'OFF'}")
        if await _pragma(conn, "foreign_keys") != were_on:
            raise MigrationError(
                f"after migration {migration.name} foreign keys could not be set back "
                f"{'on' if were_on else 'off'}"
            )


async def _refuse_broken_foreign_keys(conn: aiosqlite.Connection) -> None:
    async with conn.execute("PRAGMA foreign_key_check") as cursor:
        broken = Counter((table, parent) for table, _, parent, _ in await cursor.fetchall())
    if broken:
        listed = ", ".join(f"{table} -> {parent} ({n})" for (table, parent), n in broken.items())
        raise MigrationError(
            f"{broken.total()} row(s) would break a foreign key (child -> parent): {listed}"
        )


async def _apply(
    conn: aiosqlite.Connection,
    migration: Migration,
    statements: list[str],
    check_foreign_keys: bool,
    after_statement: AfterStatement | None,
) -> int:
    """Run one migration unless the database has it; return the version found under the lock."""
    try:
        await conn.execute("BEGIN IMMEDIATE")  # a second process waits here for the first
        found = await user_version(conn)
        if found < migration.version:
            for number, statement in enumerate(statements, 1):
                await conn.execute(statement)
                if after_statement is not None:
                    after_statement(migration, number)
            if check_foreign_keys:  # they were off, so nothing has checked them yet
                await _refuse_broken_foreign_keys(conn)
            await conn.execute(f"PRAGMA user_version = {migration.version}")
        await conn.execute("COMMIT")
    except BaseException as exc:
        # Some errors (a full disk, for one) have already rolled the transaction back.
        if conn.in_transaction:
            await conn.execute("ROLLBACK")
        if isinstance(exc, Exception):
            raise MigrationError(
                f"migration {migration.name} failed and was rolled back: {exc}"
            ) from exc
        raise
    if found < migration.version:
        log.info("applied migration %s", migration.name)
    return found
