from __future__ import annotations

import asyncio
import json
import shutil
import signal
import sqlite3
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.db import Database
from bot.db.sqlite.database import _connect
from bot.db.sqlite.migrations import MIGRATIONS_DIR, Migration, MigrationError, discover, migrate

REPO = Path(__file__).resolve().parent.parent
LATEST = len(discover())


def schema(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT type, name FROM sqlite_master ORDER BY name").fetchall()


def version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


async def test_fresh_database_is_migrated_with_wal_and_foreign_keys(db: Database) -> None:
    assert db.is_new
    assert version(db.path) == len(list(MIGRATIONS_DIR.glob("*.sql")))
    async with db.read() as session:
        async with session.conn.execute("PRAGMA journal_mode") as cur:
            row = await cur.fetchone()
            assert row is not None and row[0] == "wal"
        async with session.conn.execute("PRAGMA foreign_keys") as cur:
            row = await cur.fetchone()
            assert row is not None and row[0] == 1
        async with session.conn.execute("PRAGMA busy_timeout") as cur:
            row = await cur.fetchone()
            assert row is not None and row[0] > 0


async def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    first = Database(path)
    await first.open()
    await first.close()
    second = Database(path)
    await second.open()
    assert not second.is_new
    await second.close()


async def test_failing_migration_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, migrations)
    path = tmp_path / "x.sqlite3"
    db = Database(path, migrations=migrations)
    await db.open()
    await db.close()
    before_schema, before_version = schema(path), version(path)

    broken = before_version + 1
    (migrations / f"{broken:04d}_broken.sql").write_text(
        "CREATE TABLE half_done (id INTEGER PRIMARY KEY);\n"
        "ALTER TABLE videos ADD COLUMN mood TEXT;\n"
        "INSERT INTO no_such_table VALUES (1);\n"
    )
    db = Database(path, migrations=migrations)
    with pytest.raises(MigrationError, match=f"{broken:04d}_broken.sql .*no such table"):
        await db.open()
    assert schema(path) == before_schema
    assert version(path) == before_version


@pytest.mark.parametrize(
    "statement",
    [
        "COMMIT;",
        "BEGIN IMMEDIATE;",
        "end transaction;",
        "ROLLBACK;",
        "PRAGMA user_version = 9;",
        "/* set by hand */ pragma main.user_version=9;",
    ],
)
async def test_migration_that_manages_its_own_transaction_is_refused(
    tmp_path: Path, statement: str
) -> None:
    """The runner owns the transaction and the version: a file that commits, rolls back or
    sets the version itself is refused before any migration runs."""
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, migrations)
    (migrations / f"{LATEST + 1:04d}_own_commit.sql").write_text(
        f"CREATE TABLE t (id INTEGER);\n{statement}\n"
    )
    path = tmp_path / "x.sqlite3"
    with pytest.raises(MigrationError, match=r"own_commit\.sql: statement 2 .*runner"):
        await Database(path, migrations=migrations).open()
    assert version(path) == 0
    assert schema(path) == []


async def test_trigger_bodies_strings_and_comments_do_not_split_statements(
    tmp_path: Path,
) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, migrations)
    (migrations / f"{LATEST + 1:04d}_notes.sql").write_text(
        "CREATE TABLE notes (text TEXT); -- one; COMMIT; two\n"
        "/* BEGIN; */ CREATE TRIGGER notes_echo AFTER INSERT ON notes\n"
        "WHEN NEW.text NOT LIKE 'echo%' BEGIN\n"
        "    INSERT INTO notes VALUES ('echo; ' || NEW.text);\n"
        "END;\n"
        "INSERT INTO notes VALUES ('BEGIN; COMMIT;');\n"
        "-- the end; nothing follows\n"
    )
    path = tmp_path / "x.sqlite3"
    db = Database(path, migrations=migrations)
    await db.open()
    await db.close()
    assert version(path) == LATEST + 1
    with sqlite3.connect(path) as conn:
        notes = conn.execute("SELECT text FROM notes ORDER BY rowid").fetchall()
    assert notes == [("BEGIN; COMMIT;",), ("echo; BEGIN; COMMIT;",)]


async def test_two_runners_at_once_apply_each_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    applied: list[int] = []

    def record(migration: Migration, number: int) -> None:
        if number == 1:
            applied.append(migration.version)

    # Both connections are open (and the file in WAL mode) before the runners race.
    first = await _connect(path, read_only=False)
    try:
        second = await _connect(path, read_only=False)
        try:
            starts = await asyncio.gather(
                migrate(first, after_statement=record), migrate(second, after_statement=record)
            )
        finally:
            await second.close()
    finally:
        await first.close()
    assert version(path) == LATEST
    assert sorted(applied) == list(range(1, LATEST + 1))
    # Only the runner that found the file empty under the lock reports a new database.
    assert sorted(starts)[0] == 0 < sorted(starts)[1]


# Runs in a fresh process: for each (file, version, statement) it forks a child that runs
# the real runner and SIGKILLs itself right after that statement of that migration.
KILL_AT_EACH_POINT = """
import asyncio, json, os, signal, sys, traceback
from pathlib import Path
from bot.db.sqlite.database import _connect
from bot.db.sqlite.migrations import migrate

async def migrate_until_killed(path, version, number):
    def kill_here(migration, done):
        if (migration.version, done) == (version, number):
            os.kill(os.getpid(), signal.SIGKILL)
    conn = await _connect(Path(path), read_only=False)
    await migrate(conn, after_statement=kill_here)

for path, version, number in json.loads(sys.argv[1]):
    child = os.fork()
    if child == 0:
        try:
            asyncio.run(migrate_until_killed(path, version, number))
        except BaseException:
            traceback.print_exc()
        os._exit(1)  # the kill point was never reached
    _, status = os.waitpid(child, 0)
    print(os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1)
"""


async def migrate_file(path: Path, directory: Path = MIGRATIONS_DIR) -> int:
    conn = await _connect(path, read_only=False)
    try:
        return await migrate(conn, directory)
    finally:
        await conn.close()


def contents(path: Path) -> tuple[int, list[tuple[str, str, str, str]], list[str]]:
    """The version, the schema and every row (as SQL), after checking the file's integrity."""
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        master = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        return conn.execute("PRAGMA user_version").fetchone()[0], master, list(conn.iterdump())


async def test_kill_between_any_two_statements_keeps_the_previous_version(
    tmp_path: Path,
) -> None:
    """A process killed anywhere inside migration N leaves the file exactly at N-1 (schema
    and rows), and the next start migrates it to the latest version."""
    migrations = discover()
    # The file as each migration finds it: migrated to N-1, with a rated video in it.
    before: dict[int, Path] = {}
    for migration in migrations:
        older = tmp_path / f"upto{migration.version - 1}"
        older.mkdir()
        for earlier in migrations[: migration.version - 1]:
            shutil.copy(earlier.path, older)
        path = before[migration.version] = tmp_path / f"at{migration.version - 1}.sqlite3"
        await migrate_file(path, older)
        if migration.version > 1:
            with closing(sqlite3.connect(path)) as conn, conn:
                conn.execute(
                    "INSERT INTO videos (id, slug, title, artist, search_title, search_text) "
                    "VALUES (1, 'one', 'One', 'Someone', 'one', 'one someone')"
                )
                conn.execute(
                    "INSERT INTO ratings (guild_id, video_id, user_id, score, rated_at) "
                    "VALUES (7, 1, 3, 8, '2026-11-20T10:00:00+00:00')"
                )

    points = []
    for migration in migrations:
        for number in range(1, len(migration.statements()) + 1):
            copy = tmp_path / f"killed_{migration.version}_{number}.sqlite3"
            shutil.copy(before[migration.version], copy)
            points.append((str(copy), migration.version, number))
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        KILL_AT_EACH_POINT,
        json.dumps(points),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await child.communicate()
    assert out.decode().split() == [str(int(signal.SIGKILL))] * len(points), err.decode()

    await migrate_file(tmp_path / "fresh.sqlite3")
    latest_schema = contents(tmp_path / "fresh.sqlite3")[1]
    for killed, version_n, number in points:
        assert contents(Path(killed)) == contents(before[version_n]), (version_n, number)
        assert await migrate_file(Path(killed)) == version_n - 1
        assert contents(Path(killed))[:2] == (LATEST, latest_schema)
        if version_n > 1:
            with closing(sqlite3.connect(killed)) as conn:
                ratings = conn.execute("SELECT guild_id, user_id, video_id, score FROM ratings")
                assert ratings.fetchall() == [(7, 3, 1, 8)]


async def test_ratings_move_to_the_member_first_table_with_their_aggregates(
    tmp_path: Path,
) -> None:
    """0004 rebuilds the ratings table: every rating survives, its time becomes Unix
    seconds, the aggregates stay right, and the triggers keep them right afterwards."""
    before = tmp_path / "migrations"
    before.mkdir()
    for script in sorted(MIGRATIONS_DIR.glob("*.sql"))[:3]:
        shutil.copy(script, before)
    path = tmp_path / "x.sqlite3"
    db = Database(path, migrations=before)
    await db.open()
    async with db.transaction() as tx:
        await tx.conn.execute(
            "INSERT INTO videos (id, slug, title, artist, search_title, search_text) "
            "VALUES (1, 'one', 'One', 'Someone', 'one', 'one someone')"
        )
        await tx.conn.executemany(
            "INSERT INTO ratings (guild_id, video_id, user_id, score, rated_at) "
            "VALUES (?, 1, ?, ?, '2026-11-20T10:00:00+00:00')",
            [(7, user, user % 10 + 1) for user in range(30)],
        )
    await db.close()

    db = Database(path)
    await db.open()
    try:
        assert version(path) == LATEST
        await db.rate(guild_id=7, video_id=1, user_id=3, score=10, rated_at="2026-11-21T00:00:00Z")
        async with db.read() as session:
            summary = await session.ratings.summary(7, 1)
    finally:
        await db.close()
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT user_id, score, rated_at FROM ratings ORDER BY user_id"
        ).fetchall()
        indexes = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    assert len(rows) == 30
    assert rows[0] == (0, 1, datetime(2026, 11, 20, 10, tzinfo=UTC).timestamp())
    assert rows[3] == (3, 10, datetime(2026, 11, 21, tzinfo=UTC).timestamp())
    scores = [score for _, score, _ in rows]
    assert (summary.count, summary.total) == (30, sum(scores))
    assert list(summary.histogram) == [scores.count(k) for k in range(1, 11)]
    assert ("ratings_by_member",) not in indexes


async def test_lookup_connection_sees_commits_at_once_and_cannot_write(db: Database) -> None:
    """The hot reads run on a connection used from the event loop's thread: it must see
    each commit as soon as it is made, and refuse any write."""
    async with db.transaction() as tx:
        await tx.quotes.add(guild_id=9, text="Seen at once", saved_by=1, created_at="t")
    async with db.lookup() as session:
        quote = await session.quotes.random(9)
        assert quote is not None and quote.text == "Seen at once"
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await session.conn.execute_fetchall("DELETE FROM quotes")
    async with db.read() as session:
        assert await session.quotes.count(9) == 1
