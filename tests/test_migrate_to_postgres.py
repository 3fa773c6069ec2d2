"""`python -m bot migrate --to postgresql://...`: a SQLite database copied whole into an empty
PostgreSQL database (a real server), checked row by row through plain SELECTs on both sides
and through the bot itself; refused into a database that holds anything; all or nothing
when killed, interrupted or cut off halfway.
"""

from __future__ import annotations

import asyncio
import random
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bench.generate import Scale, generate
from bot.db.models import PressReview
from bot.db.postgres import from_sqlite
from bot.db.postgres.database import PostgresDatabase
from bot.db.sqlite.database import SQLiteDatabase
from bot.settings import Settings
from bot.startup import prepare_database
from tests.processes import bot_environment, ctrl_c_as_at_a_terminal, run_main
from tests.standin_harness import World
from tests.test_migrations import migrations_upto
from tests.test_postgres_backend import act, observe, video_id, with_sample

MANAGE_GUILD = 1 << 5
Rows = dict[str, list[tuple[Any, ...]]]


def sqlite_rows(path: Path) -> Rows:
    """Every row of every table the file holds (the search index aside), in a fixed order."""
    with closing(sqlite3.connect(path)) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite%' AND name NOT LIKE 'video_search%'"
            )
        ]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}


async def postgres_rows(url: str) -> Rows:
    """The same of a PostgreSQL database, with truth values as SQLite keeps them (0 or 1)."""
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT table_name::text FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name <> 'schema_version'"
        )
        found: Rows = {}
        for (table,) in tables:
            rows = [
                tuple(int(v) if isinstance(v, bool) else v for v in row)
                for row in await conn.fetch(f"SELECT * FROM {table}")
            ]
            found[table] = sorted(rows, key=repr)
        return found
    finally:
        await conn.close()


async def column_order(url: str, path: Path) -> dict[str, list[int]]:
    """For each table, where each of SQLite's columns sits among PostgreSQL's."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT table_name::text, column_name::text FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
    finally:
        await conn.close()
    theirs: dict[str, list[str]] = {}
    for table, column in rows:
        theirs.setdefault(table, []).append(column)
    with closing(sqlite3.connect(path)) as sqlite:
        return {
            table: [
                columns.index(name)
                for (name,) in sqlite.execute("SELECT name FROM pragma_table_info(?)", (table,))
            ]
            for table, columns in theirs.items()
            if table != "schema_version"
        }


async def copied_rows(url: str, path: Path) -> Rows:
    """PostgreSQL's rows, with their columns in the order of the SQLite file's."""
    order = await column_order(url, path)
    return {
        table: sorted((tuple(row[i] for i in order[table]) for row in rows), key=repr)
        for table, rows in (await postgres_rows(url)).items()
    }


async def assert_same_rows(path: Path, url: str) -> Rows:
    """Every table of the SQLite file is in PostgreSQL with the same rows, and nothing else."""
    expected = sqlite_rows(path)
    found = await copied_rows(url, path)
    assert sorted(found) == sorted(expected)
    differ = [t for t in expected if found[t] != expected[t]]
    assert differ == [], {t: (found[t][:3], expected[t][:3]) for t in differ}
    return expected


async def assert_empty(url: str) -> None:
    """What a new database holds, and nothing more."""
    rows = await postgres_rows(url)
    assert {t: r for t, r in rows.items() if r} == {"catalog_version": [(1, 0)]}


def migrate(cwd: Path, source: Path, url: str) -> tuple[int, list[str], list[str]]:
    result = run_main(cwd, "migrate", "--to", url, DATABASE_PATH=str(source))
    return result.returncode, result.stdout.splitlines(), result.stderr.splitlines()


async def bench_database(path: Path, *, scale: float = 0.01) -> Path:
    """A bench database (at 1%: 20,000 ratings in 10 servers, takes with their agrees)."""
    # The generator runs its own event loop.
    await asyncio.to_thread(generate, path, Scale().scaled(scale))
    return path


# A round trip: everything arrives, and the bot answers on PostgreSQL as it did on SQLite.


async def test_a_busy_sample_database_arrives_whole_and_answers_the_same(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "taketwo.sqlite3"
    source = SQLiteDatabase(path)
    await source.open()
    try:
        await with_sample(source, monkeypatch)
        await act(source)
        async with source.transaction() as tx:  # act's one removal went with forget-me
            await tx.members.log_removal(
                guild_id=500, kind="quote", item_id=4, author_id=3, removed_by=9,
                reason="off topic", now=3000,
            )  # fmt: skip
        # The bot may run beside the copy: it reads one snapshot of the file.
        code, out, err = migrate(tmp_path, path, postgres_url)
        assert (code, err) == (0, [])
        assert out[-1].startswith("Done: ")
        rows = await assert_same_rows(path, postgres_url)
        assert [table for table, found in rows.items() if not found] == []

        target = PostgresDatabase(postgres_url)
        # The catalog's decision came along: no second sample catalog.
        await prepare_database(target, load_sample_catalog=True)
        try:
            expected, found = await observe(source), await observe(target)
            assert found.keys() == expected.keys()
            assert {k: found[k] for k in expected if found[k] != expected[k]} == {}
            # New rows continue after the copied ones, with the ids SQLite would give them.
            assert await more_writes(target) == await more_writes(source)
        finally:
            await target.close()
    finally:
        await source.close()


async def more_writes(db: SQLiteDatabase | PostgresDatabase) -> list[Any]:
    alright = await video_id(db, "kendrick-lamar-alright")
    async with db.transaction() as tx:
        video = await tx.videos.upsert(
            slug="new-one", title="New One", artist="Band", album=None, year=2026, url=None
        )
        quote = await tx.quotes.add(guild_id=500, text="Later words", created_at=9, video_id=video)
        await tx.videos.add_review(video, PressReview("Later", "A later review.", "Mag"))
        await tx.members.log_removal(
            guild_id=500, kind="take", item_id=1, author_id=1, removed_by=2, reason=None, now=9
        )
    take = await db.save_take(guild_id=500, video_id=alright, user_id=77, score=3, text="Hm", now=9)
    async with db.read() as session:
        reviews = await session.videos.reviews(video)
        export = await session.exports.server(500)
    del export["exported_at"]
    return [video, quote, take, reviews, export]


async def test_a_one_percent_bench_database_arrives_whole(
    tmp_path: Path, postgres_url: str
) -> None:
    path = await bench_database(tmp_path / "bench.sqlite3")
    code, out, err = migrate(tmp_path, path, postgres_url)
    assert (code, err) == (0, [])
    # 20,000 in the servers, and 20 members rating 200 videos each in the power raters' one.
    assert "  ratings                   24,000" in out
    assert [line for line in out if line.endswith("DIFFER")] == []
    rows = await assert_same_rows(path, postgres_url)
    assert len(rows["ratings"]) == 24_000 and len(rows["take_agrees"]) > 5_000
    # Ready to read at once: statistics gathered and pages marked visible by VACUUM, not
    # left to autovacuum while the bot's first reads run.
    conn = await asyncpg.connect(postgres_url)
    try:
        unvacuumed = await conn.fetch(
            "SELECT relname FROM pg_stat_user_tables WHERE relname <> 'schema_version' "
            "AND (last_vacuum IS NULL "
            "OR last_analyze IS NULL)"
        )
    finally:
        await conn.close()
    assert [row["relname"] for row in unvacuumed] == []

    source, target = SQLiteDatabase(path), PostgresDatabase(postgres_url)
    await source.open()
    await target.open()
    try:
        assert await bench_answers(target) == await bench_answers(source)
    finally:
        await target.close()
        await source.close()


async def bench_answers(db: SQLiteDatabase | PostgresDatabase) -> list[Any]:
    """/top (of videos, directors and artists) in every server, /review pages, quotes and
    takes, as the bot reads them."""
    answers: list[Any] = []
    rng = random.Random(3)
    async with db.read() as session:
        for guild in range(1, 11):
            top = await session.ratings.top(guild, 10)
            answers.append([(e.video, e.count, e.mean, round(e.weighted, 12)) for e in top.entries])
            answers.append(await session.takes.page(guild, 1, sort="highest", page=0, page_size=5))
            for role in ("directors", "artists"):
                people = await session.people.top(guild, role, 10)
                answers.append(
                    [(p.name, p.videos, p.count, round(p.weighted, 12)) for p in people.entries]
                )
    async with db.lookup() as lookup:
        for guild in range(1, 11):
            answers.append(await lookup.ratings.server_mean(guild))
            answers.append([await lookup.quotes.random(guild, rng=rng) for _ in range(5)])
            for video in (1, 2, 50, 199):
                answers.append(await lookup.videos.page(guild, video, guild * 100_000 + 1))
    return answers


class PostgresLater(World):
    """The bot on SQLite, then, once migrated, on PostgreSQL (`database_url`)."""

    database_url: str | None = None

    def settings(self) -> Settings:
        return replace(super().settings(), database_url=self.database_url)


@pytest.fixture
async def world_then_postgres(tmp_path: Path) -> AsyncIterator[PostgresLater]:
    instance = PostgresLater(tmp_path)
    await instance.start()
    try:
        yield instance
        instance.assert_discord_was_happy()
    finally:
        await instance.close()


async def test_the_bot_answers_through_discord_on_postgresql_as_it_did_on_sqlite(
    world_then_postgres: PostgresLater, postgres_url: str, tmp_path: Path
) -> None:
    world = world_then_postgres
    members = [world.member(name) for name in ("alice", "bob", "carol")]
    admin = world.member("admin", permissions=MANAGE_GUILD)
    for member, (humble, alright) in zip(members, [(9, 7), (8, 6), (10, 4)], strict=True):
        await member.use("rate", video="HUMBLE.", score=humble)
        await member.use("rate", video="Alright", score=alright)
    opened = await members[0].use("take", video="HUMBLE.")
    score_id, text_id = [
        c["custom_id"] for row in opened.modal["components"] for c in row["components"]
    ]
    await members[0].submit(opened.modal, {score_id: "9", text_id: "Short and loud."})
    await members[1].use("quote add", text="Sit down. Be humble.", video="HUMBLE.")
    channel_id = next(iter(world.guild.channels))
    await admin.run("daily set", channel=str(channel_id), time="09:00", timezone="Europe/Paris")

    async def seen() -> list[tuple[str, list[dict[str, Any]]]]:
        replies = [
            await members[2].use("review", video="HUMBLE."),
            await members[2].use("top"),
            await members[2].use("quote random"),
            await members[2].use("takes", video="HUMBLE."),
            await admin.run("daily preview"),  # the next post's quote, chosen once
            await admin.run("daily status"),
        ]
        return [(r.content, r.embeds) for r in replies]

    on_sqlite = await seen()
    await world.stop_bot()
    await world.standin.disconnect_bot()
    code, _, err = migrate(tmp_path, world.database_path, postgres_url)
    assert (code, err) == (0, [])
    world.database_url = postgres_url
    await world.start_bot()
    assert isinstance(world.running_bot.db, PostgresDatabase)
    assert await seen() == on_sqlite
    # And it goes on from there: a fourth rating counts with the three copied ones.
    rated = await world.member("dave").use("rate", video="HUMBLE.", score=5)
    assert "from 4 ratings" in rated.content


async def test_another_applications_tables_in_the_target_are_left_alone(
    tmp_path: Path, postgres_url: str
) -> None:
    """A database shared with another program: its tables, their keys and their next ids
    are not TakeTwo's to change."""
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute(
            "CREATE TABLE customers (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY);"
            "CREATE TABLE orders (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
            "customer bigint REFERENCES customers (id));"
            "INSERT INTO customers DEFAULT VALUES;"
            "SELECT setval(pg_get_serial_sequence('orders', 'id'), 50)"
        )
    finally:
        await conn.close()
    path = await bench_database(tmp_path / "bench.sqlite3")
    code, _, err = migrate(tmp_path, path, postgres_url)
    assert (code, err) == (0, [])
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await conn.fetchval("SELECT nextval(pg_get_serial_sequence('orders', 'id'))") == 51
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM pg_constraint WHERE conrelid = 'orders'::regclass "
                "AND contype = 'f'"
            )
            == 1
        )
    finally:
        await conn.close()


# Refusals: nothing is copied, nothing changes.


async def test_a_database_that_holds_anything_is_refused_and_left_as_it_was(
    tmp_path: Path, postgres_url: str
) -> None:
    path = await bench_database(tmp_path / "bench.sqlite3")
    target = PostgresDatabase(postgres_url)
    await prepare_database(target, load_sample_catalog=True)  # a bot started on it once
    await target.close()
    before = await postgres_rows(postgres_url)
    code, out, err = migrate(tmp_path, path, postgres_url)
    assert code == 2
    assert len(err) == 1 and "is not empty" in err[0] and "Nothing was copied" in err[0]
    assert not any(line.startswith("Done") for line in out)
    assert await postgres_rows(postgres_url) == before


async def test_a_source_whose_counts_disagree_with_its_rows_is_refused(
    tmp_path: Path, postgres_url: str
) -> None:
    # An agree count with no agrees behind it.
    path = await bench_database(tmp_path / "edited.sqlite3")
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE takes SET agree_count = agree_count + 3 WHERE id = 1")
    code, out, err = migrate(tmp_path, path, postgres_url)
    assert code == 4
    assert len(err) == 1 and "takes.agree_count" in err[0] and "Nothing was copied" in err[0]
    assert not any(line.startswith("Done") for line in out)
    await assert_empty(postgres_url)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (
            "INSERT INTO ratings (guild_id, user_id, video_id, score, rated_at) "
            "VALUES (1, 5, 999999, 5, 0)",
            'table ratings (insert or update on table "ratings" violates foreign key',
        ),
        ("UPDATE videos SET year = 'soon' WHERE id = 3", "table videos ("),
        ("UPDATE videos SET title = 'a' || char(0) || 'b' WHERE id = 4", '"UTF8": 0x00'),
        ("UPDATE quotes SET is_sample = 7 WHERE id = 4", "7 is not a truth value (0 or 1)"),
    ],
)
async def test_a_row_postgresql_cannot_take_is_named_and_nothing_is_copied(
    tmp_path: Path, postgres_url: str, edit: str, words: str
) -> None:
    # SQLite keeps what it is given (foreign keys are off on a plain connection, and a column
    # takes any type); PostgreSQL does not.
    path = await bench_database(tmp_path / "edited.sqlite3")
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(edit)
    code, out, err = migrate(tmp_path, path, postgres_url)
    assert (code, len(err)) == (4, 1)
    assert words in err[0] and "nothing was copied" in err[0]
    assert not any(line.startswith("Done") for line in out)
    await assert_empty(postgres_url)


async def test_a_copy_that_differs_from_its_source_is_rolled_back(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bug that loses a row on the way is caught by the verification, before COMMIT.
    path = await bench_database(tmp_path / "bench.sqlite3")
    rows = from_sqlite.Source.rows

    def one_rating_lost(
        self: from_sqlite.Source, table: str, columns: list[from_sqlite.Column]
    ) -> Iterator[tuple[Any, ...]]:
        found = rows(self, table, columns)
        if table == "ratings":
            next(found)
        return found

    monkeypatch.setattr(from_sqlite.Source, "rows", one_rating_lost)
    code, out, err = migrate(tmp_path, path, postgres_url)
    assert (code, len(err)) == (1, 1)
    assert "rolled back, as the copy of ratings differs from the SQLite database" in err[0]
    assert [line.split()[0] for line in out if line.endswith("DIFFER")] == ["ratings"]
    await assert_empty(postgres_url)


async def test_a_database_from_before_the_catalog_decision_keeps_its_catalog_alone(
    tmp_path: Path, postgres_url: str
) -> None:
    # A file made by an old TakeTwo decided about the sample catalog without recording it;
    # PostgreSQL must not decide again and add the sample to its catalog.
    path = tmp_path / "old.sqlite3"
    old = SQLiteDatabase(path, migrations=migrations_upto(tmp_path, 6))
    await old.open()
    await old.close()
    # Written as that version wrote it: today's upsert writes columns it did not have.
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "INSERT INTO videos (slug, title, artist, search_title, search_text) "
            "VALUES ('mine', 'Mine', 'Me', 'mine', 'mine me')"
        )
    code, _, err = migrate(tmp_path, path, postgres_url)
    assert (code, err) == (0, [])
    target = PostgresDatabase(postgres_url)
    await prepare_database(target, load_sample_catalog=True)
    try:
        async with target.read() as session:
            assert [v.slug for v in await session.videos.all()] == ["mine"]
    finally:
        await target.close()


@pytest.mark.parametrize(
    ("to", "code", "words"),
    [
        ("mysql://root@localhost/taketwo", 2, "--to must be a PostgreSQL address"),
        ("postgresql://postgres@127.0.0.1:{closed}/taketwo", 3, "cannot be reached"),
        ("postgresql://postgres@127.0.0.1:{port}/no_such_database", 4, "refused TakeTwo"),
    ],
)
async def test_a_target_that_cannot_be_used_gets_one_line(
    tmp_path: Path, postgres_cluster: Any, to: str, code: int, words: str
) -> None:
    path = await bench_database(tmp_path / "bench.sqlite3")
    closed = free_port()
    url = to.format(port=postgres_cluster.port, closed=closed)
    found, out, err = migrate(tmp_path, path, url)
    assert (found, len(err), out) == (code, 1, [])
    assert words in err[0]


async def test_no_sqlite_database_gets_one_line(tmp_path: Path, postgres_url: str) -> None:
    code, out, err = migrate(tmp_path, tmp_path / "nothing.sqlite3", postgres_url)
    assert (code, out, len(err)) == (2, [], 1)
    assert "no SQLite database at" in err[0]
    assert not (tmp_path / "nothing.sqlite3").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Under way: what happens beside the copy, or to it, halfway.

# Big enough (100,000 ratings) that the copy is still under way for a few hundred
# milliseconds after it reports the ratings, while the test acts within a few.
UNDER_WAY_SCALE = 0.05


async def migrate_until_ratings_copied(
    cwd: Path, source: Path, url: str
) -> asyncio.subprocess.Process:
    """`python -m bot migrate` as its own process, once it has said the ratings are copied."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate", "--to", url,
        preexec_fn=ctrl_c_as_at_a_terminal,
        cwd=cwd, env=bot_environment(DATABASE_PATH=str(source)),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    printed: list[str] = []
    while not (line := (await process.stdout.readline()).decode()).startswith("  ratings"):
        assert line, f"migrate ended before copying the ratings: {printed}"
        printed.append(line)
    return process


async def test_what_the_bot_writes_beside_the_copy_is_not_half_copied(
    tmp_path: Path, postgres_url: str
) -> None:
    path = await bench_database(tmp_path / "bench.sqlite3", scale=UNDER_WAY_SCALE)
    before = sqlite_rows(path)
    bot_db = SQLiteDatabase(path)
    await bot_db.open()
    try:
        process = await migrate_until_ratings_copied(tmp_path, path, postgres_url)
        # A rating and its aggregates, saved while migrate still reads (and then sums) them.
        await bot_db.rate(guild_id=1, video_id=1, user_id=1, score=2, rated_at=5)
        out, err = await process.communicate()
    finally:
        await bot_db.close()
    assert (process.returncode, err) == (0, b"")
    assert "changed while it was copied (is the bot running?)" in out.decode()
    # The copy is the file as it was when migrate began: the rating is in SQLite only.
    assert await copied_rows(postgres_url, path) == before
    assert sqlite_rows(path)["ratings"] != before["ratings"]


async def cut_off(url: str, how: str, process: asyncio.subprocess.Process) -> None:
    if how == "kill -9":
        process.send_signal(signal.SIGKILL)
    elif how == "Ctrl-C":
        process.send_signal(signal.SIGINT)
    else:  # the server drops the connection
        conn = await asyncpg.connect(url)
        try:
            ended = await conn.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = 'taketwo'"
            )
        finally:
            await conn.close()
        assert [tuple(row) for row in ended] == [(True,)]


@pytest.mark.parametrize(
    ("how", "code", "words"),
    [
        ("kill -9", -signal.SIGKILL, None),
        ("Ctrl-C", 3, "interrupted before it was done: nothing was copied"),
        ("lost connection", 3, "stopped (the connection was lost); nothing of it was kept"),
    ],
)
async def test_a_copy_cut_off_halfway_leaves_the_target_empty(
    tmp_path: Path, postgres_url: str, how: str, code: int, words: str | None
) -> None:
    path = await bench_database(tmp_path / "bench.sqlite3", scale=UNDER_WAY_SCALE)
    process = await migrate_until_ratings_copied(tmp_path, path, postgres_url)
    await cut_off(postgres_url, how, process)
    rest, err = await process.communicate()
    assert process.returncode == code, (rest, err)
    assert b"Done" not in rest, "the copy finished before it was cut off"
    if words is not None:
        [line] = err.decode().splitlines()
        assert words in line
    await assert_empty(postgres_url)

    code, _, err_again = migrate(tmp_path, path, postgres_url)
    assert (code, err_again) == (0, [])
    await assert_same_rows(path, postgres_url)
