from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.db import Database
from bot.db.migrations import MIGRATIONS_DIR, MigrationError


def schema(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT type, name FROM sqlite_master ORDER BY name").fetchall()


def version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


async def test_fresh_database_is_migrated_with_wal_and_foreign_keys(db: Database) -> None:
    assert db.is_new
    assert version(db.path) == len(list(MIGRATIONS_DIR.glob("*.sql")))
    async with db.read() as session:
        async with session.conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
        async with session.conn.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1
        async with session.conn.execute("PRAGMA busy_timeout") as cur:
            assert (await cur.fetchone())[0] > 0


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
        "BEGIN IMMEDIATE;\n"
        "CREATE TABLE half_done (id INTEGER PRIMARY KEY);\n"
        "ALTER TABLE videos ADD COLUMN mood TEXT;\n"
        "INSERT INTO no_such_table VALUES (1);\n"
        f"PRAGMA user_version = {broken};\nCOMMIT;\n"
    )
    db = Database(path, migrations=migrations)
    with pytest.raises(MigrationError, match="broken"):
        await db.open()
    assert schema(path) == before_schema
    assert version(path) == before_version


async def test_migration_that_forgets_its_version_is_refused(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, migrations)
    next_version = len(list(migrations.glob("*.sql"))) + 1
    (migrations / f"{next_version:04d}_no_version.sql").write_text(
        "BEGIN IMMEDIATE;\nCREATE TABLE t (id INTEGER);\nCOMMIT;\n"
    )
    with pytest.raises(MigrationError, match="user_version"):
        await Database(tmp_path / "x.sqlite3", migrations=migrations).open()


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
        assert version(path) == 4
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
