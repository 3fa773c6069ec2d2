"""SQLite's schema and its migration runner, on SQLite files: SQLite alone (PostgreSQL's
migrations are tested in tests/test_postgres_backend.py)."""

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

from bot.db.failures import MigrationError
from bot.db.sqlite.connections import connect_on_thread
from bot.db.sqlite.database import SQLiteDatabase
from bot.db.sqlite.migrations import MIGRATIONS_DIR, Migration, discover, migrate

REPO = Path(__file__).resolve().parent.parent
LATEST = len(discover())


def schema(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT type, name FROM sqlite_master ORDER BY name").fetchall()


def version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrations_upto(tmp_path: Path, version_n: int) -> Path:
    """A copy of the migrations directory holding only migrations 1..version_n."""
    directory = tmp_path / f"upto{version_n}"
    directory.mkdir()
    for migration in discover()[:version_n]:
        shutil.copy(migration.path, directory)
    return directory


async def test_fresh_database_is_migrated_with_wal_and_foreign_keys(
    sqlite_db: SQLiteDatabase,
) -> None:
    db = sqlite_db
    assert db.is_new
    assert version(db.path) == len(list(MIGRATIONS_DIR.glob("*.sql")))
    async with db.read() as session:
        conn = session.videos._conn  # the reader's own connection
        assert (await conn.fetchall("PRAGMA journal_mode"))[0][0] == "wal"
        assert (await conn.fetchall("PRAGMA foreign_keys"))[0][0] == 1
        assert (await conn.fetchall("PRAGMA busy_timeout"))[0][0] > 0


async def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    first = SQLiteDatabase(path)
    await first.open()
    await first.close()
    second = SQLiteDatabase(path)
    await second.open()
    assert not second.is_new
    await second.close()


async def test_failing_migration_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, migrations)
    path = tmp_path / "x.sqlite3"
    db = SQLiteDatabase(path, migrations=migrations)
    await db.open()
    await db.close()
    before_schema, before_version = schema(path), version(path)

    broken = before_version + 1
    (migrations / f"{broken:04d}_broken.sql").write_text(
        "CREATE TABLE half_done (id INTEGER PRIMARY KEY);\n"
        "ALTER TABLE videos ADD COLUMN mood TEXT;\n"
        "INSERT INTO no_such_table VALUES (1);\n"
    )
    db = SQLiteDatabase(path, migrations=migrations)
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
        await SQLiteDatabase(path, migrations=migrations).open()
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
    db = SQLiteDatabase(path, migrations=migrations)
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
    first = (await connect_on_thread(path, read_only=False)).raw
    try:
        second = (await connect_on_thread(path, read_only=False)).raw
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
from bot.db.sqlite.connections import connect_on_thread
from bot.db.sqlite.migrations import migrate

async def migrate_until_killed(path, version, number):
    def kill_here(migration, done):
        if (migration.version, done) == (version, number):
            os.kill(os.getpid(), signal.SIGKILL)
    conn = (await connect_on_thread(Path(path), read_only=False)).raw
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
    conn = (await connect_on_thread(path, read_only=False)).raw
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
        path = before[migration.version] = tmp_path / f"at{migration.version - 1}.sqlite3"
        await migrate_file(path, migrations_upto(tmp_path, migration.version - 1))
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
    path = tmp_path / "x.sqlite3"
    db = SQLiteDatabase(path, migrations=migrations_upto(tmp_path, 3))
    await db.open()
    await db.close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "INSERT INTO videos (id, slug, title, artist, search_title, search_text) "
            "VALUES (1, 'one', 'One', 'Someone', 'one', 'one someone')"
        )
        conn.executemany(
            "INSERT INTO ratings (guild_id, video_id, user_id, score, rated_at) "
            "VALUES (?, 1, ?, ?, '2026-11-20T10:00:00+00:00')",
            [(7, user, user % 10 + 1) for user in range(30)],
        )

    db = SQLiteDatabase(path)
    await db.open()
    try:
        assert version(path) == LATEST
        await db.rate(guild_id=7, video_id=1, user_id=3, score=10, rated_at=1_795_219_200)
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


async def test_lookup_connection_sees_commits_at_once_and_cannot_write(
    sqlite_db: SQLiteDatabase,
) -> None:
    """The hot reads run on a connection used from the event loop's thread: it must see
    each commit as soon as it is made, and refuse any write."""
    db = sqlite_db
    async with db.transaction() as tx:
        await tx.quotes.add(guild_id=9, text="Seen at once", saved_by=1, created_at=1_795_219_200)
    async with db.lookup() as session:
        quote = await session.quotes.random(9)
        assert quote is not None and quote.text == "Seen at once"
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await session.videos._conn.fetchall("DELETE FROM quotes")
    async with db.read() as session:
        assert await session.quotes.count(9) == 1


TIMES_MIGRATION = next(m for m in discover() if m.name == "0008_times_as_unix_seconds.sql")

# The form the bot writes (now_iso), the other forms datetime.isoformat() and SQLite write,
# and the bench's bare date, each with its Unix second (no offset means UTC; a fraction of a
# second is cut off, never rounded up).
ISO_TIMES = {
    "2026-01-15T09:00:00+00:00": 1768467600,
    "2026-01-15T09:00:00.999999+00:00": 1768467600,
    "2026-01-15T09:00:00.123456": 1768467600,
    "2026-01-15T09:00:00Z": 1768467600,
    "2026-01-15T11:30:00+02:00": 1768469400,
    "2026-01-15 09:00:01": 1768467601,
    "2026-01-01": 1767225600,
}


async def database_before_times_migration(tmp_path: Path, times: list[str]) -> Path:
    """A database at version 7 with takes (agreed with), quotes the daily tables point at,
    and moderation-log rows, whose times cycle through `times`."""
    path = tmp_path / "at7.sqlite3"
    await migrate_file(path, migrations_upto(tmp_path, TIMES_MIGRATION.version - 1))
    assert version(path) == TIMES_MIGRATION.version - 1
    moment = (times[n % len(times)] for n in range(1000))
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.executemany(
            "INSERT INTO videos (id, slug, title, artist, search_title, search_text) "
            "VALUES (?, ?, 'T', 'A', 't', 't a')",
            [(1, "one"), (2, "two")],
        )
        for user in range(1, 9):
            conn.execute(
                "INSERT INTO takes (guild_id, video_id, user_id, score, text, created_at, "
                "updated_at) VALUES (7, ?, ?, ?, ?, ?, ?)",
                (user % 2 + 1, user, user, f"take {user}", next(moment), next(moment)),
            )
        conn.executemany(
            "INSERT INTO take_agrees (take_id, user_id, guild_id) VALUES (?, ?, 7)",
            [(take, fan) for take in range(1, 9) for fan in range(100, 100 + take % 4)],
        )
        for slot in range(1, 8):
            video = 1 if slot % 2 else None
            conn.execute(
                "INSERT INTO quotes (guild_id, video_id, text, saved_by, created_at, slot, "
                "video_slot) VALUES (7, ?, ?, 5, ?, ?, ?)",
                (video, f"quote {slot}", next(moment), slot, (slot + 1) // 2 if video else None),
            )
        conn.execute(
            "INSERT INTO daily_schedules (guild_id, channel_id, post_time, timezone, "
            "next_local_date, due_at, next_quote_id, updated_at) "
            "VALUES (7, 70, '09:00', 'UTC', '2026-01-16', 1768554000, 3, 1768467600)"
        )
        conn.execute(
            "INSERT INTO daily_posts (guild_id, local_date, status, quote_id, nonce, updated_at) "
            "VALUES (7, '2026-01-15', 'sent', 2, 'n', 1768467600)"
        )
        conn.executemany("INSERT INTO daily_cycle (guild_id, quote_id) VALUES (7, ?)", [(1,), (2,)])
        conn.executemany(
            "INSERT INTO moderation_log (guild_id, kind, item_id, author_id, removed_by, "
            "reason, removed_at) VALUES (7, ?, ?, 3, 9, 'spam', ?)",
            [(kind, item, next(moment)) for kind in ("quote", "take") for item in (40, 41, 42)],
        )
    return path


def rows(conn: sqlite3.Connection, sql: str) -> list[tuple[object, ...]]:
    return conn.execute(sql).fetchall()


# What 0008 must leave exactly as it was (every column but the times, the aggregates, the
# rows pointing at the rebuilt tables, and the indexes and triggers, word for word).
UNCHANGED = (
    "SELECT id, guild_id, video_id, user_id, score, text, agree_count FROM takes ORDER BY id",
    "SELECT id, guild_id, video_id, text, saved_by, is_sample, slot, video_slot FROM quotes "
    "ORDER BY id",
    "SELECT id, guild_id, kind, item_id, author_id, removed_by, reason FROM moderation_log "
    "ORDER BY id",
    "SELECT * FROM take_agrees ORDER BY take_id, user_id",
    "SELECT * FROM video_take_counts ORDER BY guild_id, video_id",
    "SELECT * FROM daily_schedules",
    "SELECT * FROM daily_posts",
    "SELECT * FROM daily_cycle ORDER BY quote_id",
    "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
    "ORDER BY name",
)
TIME_COLUMNS = (
    ("takes", "created_at"),
    ("takes", "updated_at"),
    ("quotes", "created_at"),
    ("moderation_log", "removed_at"),
)


async def test_times_become_unix_seconds_keeping_rows_indexes_triggers_and_aggregates(
    tmp_path: Path,
) -> None:
    """0008 rebuilds takes, quotes and moderation_log: every row stays, each ISO time becomes
    its Unix second stored as an integer, agrees and the rows the daily tables point at
    survive the rebuild, and the indexes and triggers are the same and keep working."""
    path = await database_before_times_migration(tmp_path, list(ISO_TIMES))
    with closing(sqlite3.connect(path)) as conn:
        before = [rows(conn, sql) for sql in UNCHANGED]
        iso_before = [rows(conn, f"SELECT {c} FROM {t} ORDER BY id") for t, c in TIME_COLUMNS]
        columns_before = {t: rows(conn, f"PRAGMA table_info({t})") for t, _ in TIME_COLUMNS}

    upto_times = migrations_upto(tmp_path, TIMES_MIGRATION.version)
    assert await migrate_file(path, upto_times) == TIMES_MIGRATION.version - 1
    assert version(path) == TIMES_MIGRATION.version
    with closing(sqlite3.connect(path)) as conn:
        assert [rows(conn, sql) for sql in UNCHANGED] == before
        for (table, column), iso in zip(TIME_COLUMNS, iso_before, strict=True):
            seconds = rows(conn, f"SELECT {column} FROM {table} ORDER BY id")
            assert seconds == [(ISO_TIMES[str(text)],) for (text,) in iso], (table, column)
            assert rows(conn, f"SELECT DISTINCT typeof({column}) FROM {table}") == [("integer",)]
        # The table definitions differ only in those columns' type.
        for table, columns in columns_before.items():
            assert rows(conn, f"PRAGMA table_info({table})") == [
                (*c[:2], "INTEGER" if (table, c[1]) in TIME_COLUMNS else c[2], *c[3:])
                for c in columns
            ]
        agrees = "SELECT take_id, count(*) FROM take_agrees GROUP BY take_id ORDER BY take_id"
        agree_counts = "SELECT id, agree_count FROM takes WHERE agree_count > 0 ORDER BY id"
        assert rows(conn, agrees) == rows(conn, agree_counts)
        assert rows(conn, "PRAGMA foreign_key_check") == []
        assert rows(conn, "PRAGMA integrity_check") == [("ok",)]
        plan = rows(
            conn,
            "EXPLAIN QUERY PLAN SELECT id FROM takes WHERE guild_id = 7 AND video_id = 1 "
            "ORDER BY updated_at DESC, id DESC",
        )
        assert "takes_newest" in str(plan[0][3])

    # The triggers and the cascade still work on the rebuilt table.
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("PRAGMA foreign_keys = ON")
        counts = "SELECT video_id, count FROM video_take_counts WHERE guild_id = 7 ORDER BY 1"
        assert rows(conn, counts) == [(1, 4), (2, 4)]
        conn.execute(
            "INSERT INTO takes (id, guild_id, video_id, user_id, score, text, created_at, "
            "updated_at) VALUES (9, 7, 2, 50, 6, 'late', 1768500000, 1768500000)"
        )
        conn.execute("INSERT INTO take_agrees (take_id, user_id, guild_id) VALUES (9, 1, 7)")
        assert rows(conn, "SELECT agree_count FROM takes WHERE id = 9") == [(1,)]
        assert rows(conn, counts) == [(1, 4), (2, 5)]
        conn.execute("DELETE FROM takes WHERE id = 3")
        assert rows(conn, "SELECT count(*) FROM take_agrees WHERE take_id = 3") == [(0,)]
        assert rows(conn, counts) == [(1, 4), (2, 4)]


@pytest.mark.parametrize(
    "unreadable",
    ["yesterday", "2026-01-15T09:00:00+0000", "20260115T090000Z", "09:00:00", "2461055.875", ""],
)
async def test_a_time_0008_cannot_read_stops_it_and_changes_nothing(
    tmp_path: Path, unreadable: str
) -> None:
    """A stored time that is not ISO 8601 text SQLite reads (or only reads as something else:
    a time of day alone, a Julian day number) is not turned into 0 or NULL: the migration
    stops, says why, and leaves the database at version 7 with foreign keys enforced."""
    path = await database_before_times_migration(
        tmp_path, ["2026-01-15T09:00:00+00:00"] * 20 + [unreadable]
    )
    before = contents(path)
    conn = (await connect_on_thread(path, read_only=False)).raw
    try:
        with pytest.raises(MigrationError, match=r"0008_times_as_unix_seconds\.sql .*not ISO"):
            await migrate(conn)
        assert [tuple(r) for r in await conn.execute_fetchall("PRAGMA foreign_keys")] == [(1,)]
    finally:
        await conn.close()
    assert contents(path) == before


async def test_failure_in_the_middle_of_0008_leaves_version_7_with_foreign_keys_on(
    tmp_path: Path,
) -> None:
    path = await database_before_times_migration(tmp_path, list(ISO_TIMES))
    before = contents(path)
    # Stop right after the old takes table is gone, with foreign keys off.
    stop_at = TIMES_MIGRATION.statements().index("DROP TABLE takes;") + 1

    def fail_there(migration: Migration, number: int) -> None:
        if (migration.version, number) == (TIMES_MIGRATION.version, stop_at):
            raise OSError("disk gone")

    conn = (await connect_on_thread(path, read_only=False)).raw
    try:
        with pytest.raises(MigrationError, match=r"0008.*rolled back: disk gone"):
            await migrate(conn, after_statement=fail_there)
        assert [tuple(r) for r in await conn.execute_fetchall("PRAGMA foreign_keys")] == [(1,)]
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            await conn.execute(
                "INSERT INTO take_agrees (take_id, user_id, guild_id) VALUES (99, 1, 7)"
            )
    finally:
        await conn.close()
    assert contents(path) == before
    assert await migrate_file(path) == TIMES_MIGRATION.version - 1
    assert version(path) == LATEST


async def test_foreign_keys_off_migration_that_breaks_a_foreign_key_is_rolled_back(
    tmp_path: Path,
) -> None:
    """With foreign keys off nothing checks them while the migration runs: the runner checks
    them all before committing, refuses a migration that leaves a row pointing nowhere, and
    turns them back on."""
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, migrations)
    path = tmp_path / "x.sqlite3"
    await migrate_file(path, migrations)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "INSERT INTO videos (id, slug, title, artist, search_title, search_text) "
            "VALUES (1, 'one', 'One', 'Someone', 'one', 'one someone')"
        )
        conn.execute(
            "INSERT INTO quotes (guild_id, video_id, text, created_at, slot, video_slot) "
            "VALUES (7, 1, 'q', 1768467600, 1, 1)"
        )
    before = contents(path)
    (migrations / f"{LATEST + 1:04d}_drop_a_video.sql").write_text(
        "-- Loses a video its quote points at.\n-- runner: foreign keys off\n\n"
        "DELETE FROM videos WHERE id = 1;\n"
    )
    runner = (await connect_on_thread(path, read_only=False)).raw
    try:
        with pytest.raises(
            MigrationError, match=r"drop_a_video\.sql .*rolled back: 1 row.*quotes -> videos"
        ):
            await migrate(runner, migrations)
        assert [tuple(r) for r in await runner.execute_fetchall("PRAGMA foreign_keys")] == [(1,)]
    finally:
        await runner.close()
    assert contents(path) == before


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("-- runner: foreign keys of\nCREATE TABLE t (id INTEGER);\n", "unknown runner directive"),
        ("CREATE TABLE t (id INTEGER);\n-- runner: foreign keys off\n", "belong in the header"),
        ("CREATE TABLE t (id INTEGER);\nPRAGMA foreign_keys = OFF;\n", "statement 2 .*runner"),
    ],
)
async def test_runner_directives_are_read_from_the_header_only(
    tmp_path: Path, text: str, refusal: str
) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, migrations)
    (migrations / f"{LATEST + 1:04d}_directive.sql").write_text(text)
    path = tmp_path / "x.sqlite3"
    with pytest.raises(MigrationError, match=rf"directive\.sql: .*{refusal}"):
        await SQLiteDatabase(path, migrations=migrations).open()
    assert version(path) == 0


async def test_foreign_keys_off_migration_refuses_to_run_inside_a_transaction(
    tmp_path: Path,
) -> None:
    """PRAGMA foreign_keys does nothing inside a transaction: rather than rebuild tables with
    foreign keys on (cascading deletes), the runner stops before changing anything."""
    path = tmp_path / "x.sqlite3"
    await migrate_file(path, migrations_upto(tmp_path, TIMES_MIGRATION.version - 1))
    conn = (await connect_on_thread(path, read_only=False)).raw
    try:
        await conn.execute("BEGIN")
        with pytest.raises(MigrationError, match=r"0008.*stayed on"):
            await migrate(conn)
        await conn.execute("ROLLBACK")
        assert [tuple(r) for r in await conn.execute_fetchall("PRAGMA foreign_keys")] == [(1,)]
    finally:
        await conn.close()
    assert version(path) == TIMES_MIGRATION.version - 1
