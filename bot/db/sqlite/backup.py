"""A consistent copy of a live database, taken page by page with SQLite's backup API, so
that it can run beside the bot: the copy holds only committed transactions."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from bot.db.failures import damaged
from bot.db.sqlite.failures import unusable


def copy_database(database: Path, target: Path) -> None:
    """A consistent copy of the live database. DatabaseUnusable (one line for the operator)
    when the source is damaged or cannot be read."""
    if not database.is_file():
        raise FileNotFoundError(f"no database at {database}")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as source:
            # A copy of a damaged file would pass for a good backup until the day it is needed.
            problems = [row[0] for row in source.execute("PRAGMA quick_check(1)").fetchall()]
            if problems != ["ok"]:
                raise damaged(database, problems[0] if problems else "no answer to quick_check")
            with closing(sqlite3.connect(target)) as copy, copy:
                source.backup(copy, pages=1024)
    except sqlite3.Error as exc:
        if (reason := unusable(database, exc)) is not None:
            raise reason from exc
        raise
