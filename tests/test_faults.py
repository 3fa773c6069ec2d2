"""A database file that cannot be used stops the bot and every CLI command at once, with one
line that names the file and says what to do, and a non-zero exit."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.db import Database, DatabaseUnusable
from bot.db import database as database_module
from tests.processes import ROOT, run_bot

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


@pytest.mark.parametrize("damage", [_random_bytes, _malformed])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "run")
def test_a_damaged_file_stops_everything_with_one_line(
    tmp_path: Path, damage: object, command: tuple[str, ...]
) -> None:
    database = tmp_path / "bot.sqlite3"
    damage(database)  # type: ignore[operator]
    shutil.copy(ROOT / "bot" / "data" / "sample_catalog.json", tmp_path / "catalog.json")
    before = database.read_bytes()
    result = run_bot(
        tmp_path, *command, DISCORD_TOKEN="unused", DATABASE_PATH=str(database), LOG_LEVEL="INFO"
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"taketwo: the database file {database} is damaged")
    assert "restore your latest backup" in line
    assert database.read_bytes() == before


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
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"taketwo: the database file {read_only_database} cannot be written")


async def test_a_file_locked_by_another_program_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "bot.sqlite3"
    made = Database(database)
    await made.open()
    await made.close()
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseUnusable) as refused:
            await Database(database).open()
    finally:
        holder.close()
    assert str(refused.value).startswith(f"the database file {database} stayed locked")
    assert "\n" not in str(refused.value)
