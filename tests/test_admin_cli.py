"""python -m bot catalog import|export, backup and export-server, run as a person would."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from bot import admin
from bot.catalog import import_catalog, sample_catalog
from bot.client import TakeTwoBot
from bot.db.sqlite.database import SQLiteDatabase
from bot.settings import Settings
from tests import raw
from tests.processes import ROOT, run_main
from tests.stores import Store, Stores
from tests.test_catalog import _bad_file, _one_video_text


def cli(tmp_path: Path, database: Store, *args: str) -> subprocess.CompletedProcess[str]:
    # In process: tests/test_faults.py and tests/test_process.py run the CLI as a process.
    return run_main(tmp_path, *args, **database.environment())


async def dump(database: Store) -> list[tuple[object, ...]]:
    return [
        row
        for table in ("videos", "credits", "press_reviews", "quotes")
        for row in await raw.rows(database, f"SELECT * FROM {table} ORDER BY 1, 2")
    ]


async def test_import_with_ten_mistakes_writes_nothing(tmp_path: Path, stores: Stores) -> None:
    database = await stores.empty()
    good = tmp_path / "good.json"
    good.write_text((ROOT / "bot" / "data" / "sample_catalog.json").read_text())
    assert cli(tmp_path, database, "catalog", "import", str(good)).returncode == 0
    before = await dump(database)

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_bad_file()))
    result = cli(tmp_path, database, "catalog", "import", str(bad))
    assert result.returncode == 1
    problems = [line.strip() for line in result.stderr.splitlines()[1:]]
    assert len(problems) == 10
    assert problems[0].startswith("catalog.videos[5].slug:")
    assert "nothing was written" in result.stderr.splitlines()[0]
    assert await dump(database) == before


async def test_hostile_file_gets_one_line_per_problem_and_writes_nothing(
    tmp_path: Path, stores: Stores
) -> None:
    database = await stores.empty()
    sample = ROOT / "bot" / "data" / "sample_catalog.json"
    assert cli(tmp_path, database, "catalog", "import", str(sample)).returncode == 0
    before = await dump(database)

    hostile = tmp_path / "hostile.json"
    hostile.write_text(
        _one_video_text('"title": "Again", "album": "\\ud800", "year": ' + "9" * 5000)
    )
    result = cli(tmp_path, database, "catalog", "import", str(hostile))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"taketwo: {hostile} was not imported; nothing was written:",
        "  catalog.videos[0].title: appears more than once in this object",
        "  catalog.videos[0].album: contains \\ud800, half of a UTF-16 pair, not a character",
        "  catalog.videos[0].year: must be a whole year between 1900 and 2100",
    ]
    assert await dump(database) == before


async def test_import_twice_changes_nothing_and_export_round_trips(
    tmp_path: Path, stores: Stores
) -> None:
    database, other = await stores.empty("a.sqlite3"), await stores.empty("b.sqlite3")
    sample = ROOT / "bot" / "data" / "sample_catalog.json"
    assert cli(tmp_path, database, "catalog", "import", str(sample)).returncode == 0
    once = await dump(database)
    result = cli(tmp_path, database, "catalog", "import", str(sample))
    assert result.returncode == 0 and result.stdout.startswith("Imported 5 videos")
    assert await dump(database) == once

    exported = tmp_path / "export.json"
    assert cli(tmp_path, database, "catalog", "export", str(exported)).returncode == 0
    assert cli(tmp_path, other, "catalog", "import", str(exported)).returncode == 0
    again = tmp_path / "again.json"
    assert cli(tmp_path, other, "catalog", "export", str(again)).returncode == 0
    assert exported.read_text() == again.read_text()
    assert json.loads(exported.read_text())["videos"][0]["title"] == "We Cry Together"


@pytest.mark.sqlite_only  # backup copies SQLite's file; PostgreSQL has its own tools
async def test_backup_is_consistent_while_the_bot_writes(tmp_path: Path) -> None:
    database = tmp_path / "live.sqlite3"
    db = SQLiteDatabase(database)
    await db.open()
    try:
        async with db.transaction() as tx:
            await import_catalog(tx, sample_catalog())
        for user in range(50):
            await db.rate(guild_id=1, video_id=1, user_id=user, score=7, rated_at=1_795_219_200)
        async with db.transaction() as tx:  # a write in progress during the backup
            await tx.quotes.add(guild_id=1, text="Not committed yet", created_at=1_795_219_200)
            settings = Settings(token="", database_path=database)
            await asyncio.to_thread(admin.backup, settings, tmp_path / "copy.sqlite3")
        with sqlite3.connect(tmp_path / "copy.sqlite3") as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert copy.execute("SELECT count(*) FROM ratings").fetchone()[0] == 50
            assert copy.execute("SELECT count, total FROM video_scores").fetchone() == (50, 350)
            assert copy.execute("SELECT count(*) FROM quotes WHERE guild_id = 1").fetchone() == (0,)
    finally:
        await db.close()


async def test_export_server_holds_only_that_server(tmp_path: Path, stores: Stores) -> None:
    database = await stores.empty()
    db = database.database()
    await db.open()
    try:
        async with db.transaction() as tx:
            await import_catalog(tx, sample_catalog())
        await db.rate(guild_id=1, video_id=1, user_id=5, score=9, rated_at=1_795_168_800)
        await db.rate(guild_id=2, video_id=1, user_id=6, score=2, rated_at=1_795_219_200)
        await db.save_take(
            guild_id=1, video_id=2, user_id=5, score=8, text="Good", now=1_795_249_800
        )
        async with db.transaction() as tx:
            await tx.quotes.add(guild_id=1, text="ours", saved_by=5, created_at=1_795_219_200)
            await tx.quotes.add(guild_id=2, text="theirs", saved_by=6, created_at=1_795_219_200)
    finally:
        await db.close()
    out = tmp_path / "server.json"
    result = cli(tmp_path, database, "export-server", "1", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    # Ids as strings, times in one format (ISO 8601, UTC).
    assert data["guild_id"] == "1"
    assert [(r["user_id"], r["score"], r["rated_at"]) for r in data["ratings"]] == [
        ("5", 9, "2026-11-20T10:00:00Z"),
        ("5", 8, "2026-11-21T08:30:00Z"),
    ]
    assert [(t["user_id"], t["created_at"]) for t in data["takes"]] == [
        ("5", "2026-11-21T08:30:00Z")
    ]
    assert [t["text"] for t in data["takes"]] == ["Good"]
    assert [q["text"] for q in data["quotes"]] == ["ours"]


async def bot_finds_the_sample(tmp_path: Path, database: Store) -> None:
    """A CLI command and the bot, each the first to open the database, find the sample."""
    exported = cli(tmp_path, database, "catalog", "export", "catalog.json")
    assert exported.returncode == 0, exported.stderr
    titles = {v["title"] for v in json.loads((tmp_path / "catalog.json").read_text())["videos"]}
    assert "We Cry Together" in titles
    bot = TakeTwoBot(database.settings())
    await bot.prepare()
    try:
        async with bot.db.read() as session:
            video = await session.videos.resolve("We Cry Together")
        assert video.title == "We Cry Together"
    finally:
        await bot.close()


async def test_export_server_before_the_first_start_leaves_the_sample_for_the_bot(
    tmp_path: Path, stores: Stores
) -> None:
    database = await stores.empty("fresh.sqlite3")
    result = cli(tmp_path, database, "export-server", "1", "s.json")
    assert result.returncode == 0, result.stderr
    await bot_finds_the_sample(tmp_path, database)


@pytest.mark.sqlite_only  # backup copies SQLite's file
async def test_a_backup_before_the_first_start_creates_nothing(
    tmp_path: Path, stores: Stores
) -> None:
    database = await stores.empty("fresh.sqlite3")
    assert cli(tmp_path, database, "backup", "b.sqlite3").returncode == 1
    assert not database.path.exists()
    await bot_finds_the_sample(tmp_path, database)


async def test_load_sample_catalog_false_is_respected_by_the_cli(
    tmp_path: Path, stores: Stores
) -> None:
    result = run_main(
        tmp_path,
        "catalog",
        "export",
        "catalog.json",
        **(await stores.empty()).environment(),
        LOAD_SAMPLE_CATALOG="false",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "catalog.json").read_text())["videos"] == []
