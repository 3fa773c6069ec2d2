"""A database file that cannot be used stops the bot and every CLI command at once, with one
line that names the file and says what to do, and a non-zero exit.

SQLite's file alone (damaged, unwritable, locked): PostgreSQL's counterparts (a server that
refuses, a lock held too long, a full disk) are in tests/test_postgres_backend.py."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bot import startup
from bot.__main__ import main
from bot.db import DatabaseUnusable
from bot.db.sqlite import connections as database_module
from bot.db.sqlite.database import SQLiteDatabase
from bot.errors import CannotSaveError
from tests.processes import ROOT, run_bot, run_main
from tests.stores import Stores

COMMANDS = [
    (),
    ("catalog", "export", "out.json"),
    ("catalog", "import", "catalog.json"),
    ("backup", "copy.sqlite3"),
    ("export-server", "1", "server.json"),
]


def _random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(16384))


def _malformed(path: Path) -> None:
    """A real database whose schema page is overwritten: "database disk image is malformed"."""
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
    conn.close()
    with path.open("r+b") as file:
        file.seek(100)
        file.write(b"\xa5" * 400)


def _check_one_line(stderr: str, database: Path) -> None:
    assert "Traceback" not in stderr
    [line] = stderr.strip().splitlines()
    assert line.startswith(f"taketwo: the database file {database} is damaged")
    assert "restore your latest backup" in line


@pytest.mark.parametrize("damage", [_random_bytes, _malformed])
def test_a_damaged_file_stops_the_bot_process_at_once(tmp_path: Path, damage: object) -> None:
    """As a process: a connection left open by a failed PRAGMA once kept it alive for
    minutes after the error; run_bot's timeout would catch that."""
    database = tmp_path / "bot.sqlite3"
    damage(database)  # type: ignore[operator]
    before = database.read_bytes()
    result = run_bot(
        tmp_path, DISCORD_TOKEN="unused", DATABASE_PATH=str(database), LOG_LEVEL="INFO"
    )
    assert result.returncode == 4, result.stderr
    _check_one_line(result.stderr, database)
    assert database.read_bytes() == before


@pytest.mark.parametrize("damage", [_random_bytes, _malformed])
@pytest.mark.parametrize("command", COMMANDS[1:], ids=" ".join)
def test_a_damaged_file_stops_every_cli_command_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    damage: object,
    command: tuple[str, ...],
) -> None:
    database = tmp_path / "bot.sqlite3"
    damage(database)  # type: ignore[operator]
    shutil.copy(ROOT / "bot" / "data" / "sample_catalog.json", tmp_path / "catalog.json")
    before = database.read_bytes()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(database))
    threads = set(threading.enumerate())
    assert main(list(command)) == 4
    _check_one_line(capsys.readouterr().err, database)
    assert database.read_bytes() == before
    # No connection's thread outlives the failure (one would keep a process alive). A
    # closed connection's thread may take a moment to end; a leaked one never does.
    for thread in set(threading.enumerate()) - threads:
        thread.join(timeout=5)
        assert thread.daemon or not thread.is_alive(), f"{thread.name} outlived the command"


def test_a_table_damaged_inside_a_good_file_stops_a_cli_command_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The file opens and migrates (its first pages are fine); the damage is met only when
    a command reads the broken table."""
    database = tmp_path / "bot.sqlite3"
    made = run_bot(tmp_path, "catalog", "export", "x.json", DATABASE_PATH=str(database))
    assert made.returncode == 0, made.stderr
    with closing(sqlite3.connect(database)) as conn:
        [[page]] = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'ratings'")
        [[size]] = conn.execute("PRAGMA page_size")
    with database.open("r+b") as file:
        file.seek((page - 1) * size)
        file.write(b"\xa5" * size)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(database))
    assert main(["export-server", "1", "server.json"]) == 4
    _check_one_line(capsys.readouterr().err, database)
    assert not (tmp_path / "server.json").exists()


@pytest.fixture
def read_only_database(tmp_path: Path) -> Iterator[Path]:
    """A migrated database the bot's user may not write. Root writes anything, so as root the
    file is made immutable instead (chattr +i, as an operator's mistake could leave it)."""
    database = tmp_path / "bot.sqlite3"
    made = run_bot(tmp_path, "catalog", "export", "x.json", DATABASE_PATH=str(database))
    assert made.returncode == 0, made.stderr
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: cannot make a file unwritable")
        subprocess.run(["chattr", "+i", str(database)], check=True)
        try:
            yield database
        finally:
            subprocess.run(["chattr", "-i", str(database)], check=True)
    else:
        database.chmod(0o444)
        yield database


def test_a_read_only_file_is_refused_at_start(read_only_database: Path, tmp_path: Path) -> None:
    result = run_bot(
        tmp_path, DISCORD_TOKEN="unused", DATABASE_PATH=str(read_only_database), LOG_LEVEL="INFO"
    )
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"taketwo: the database file {read_only_database} cannot be written")


async def test_a_file_locked_by_another_program_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "bot.sqlite3"
    made = SQLiteDatabase(database)
    await made.open()
    await made.close()
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseUnusable) as refused:
            await SQLiteDatabase(database).open()
    finally:
        holder.close()
    assert str(refused.value).startswith(f"the database file {database} stayed locked")
    assert "\n" not in str(refused.value)


async def test_a_start_that_fails_loading_the_sample_says_so_and_decides_again(
    tmp_path: Path, stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On either engine (the others here are about SQLite's file)."""
    database = await stores.empty()

    async def disk_full(*args: object) -> int:
        raise CannotSaveError("TakeTwo can't save right now: the disk it saves to is full.")

    with monkeypatch.context() as patched:
        patched.setattr(startup, "import_catalog", disk_full)
        threads = set(threading.enumerate())
        started = run_main(tmp_path, DISCORD_TOKEN="unused", **database.environment())
        assert started.returncode == 4
        [line] = started.stderr.strip().splitlines()
        assert line.startswith(f"taketwo: {database.name}: TakeTwo can't save right now")
        for thread in set(threading.enumerate()) - threads:
            thread.join(timeout=5)
            assert thread.daemon or not thread.is_alive(), "the database was left open"
    # The migrated but empty database still gets its sample from whoever opens it next.
    exported = run_main(tmp_path, "catalog", "export", "out.json", **database.environment())
    assert exported.returncode == 0, exported.stderr
    titles = {v["title"] for v in json.loads((tmp_path / "out.json").read_text())["videos"]}
    assert "We Cry Together" in titles
