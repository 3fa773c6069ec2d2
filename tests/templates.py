"""A migrated database holding the sample catalog, built once per test process and copied
for each test that starts the bot: migrating and importing the sample anew every time cost
about 40 ms a test, for the same file each time."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bot.db.sqlite.database import SQLiteDatabase
from bot.startup import load_sample_if_new

_template: Path | None = None


async def sample_database(target: Path) -> Path:
    """Put a copy of the template at `target` (the bot opens it as an existing database)."""
    global _template
    if _template is None:
        path = Path(tempfile.mkdtemp(prefix="taketwo-template-")) / "template.sqlite3"
        db = SQLiteDatabase(path)
        await db.open()
        await load_sample_if_new(db, load_sample_catalog=True)
        await db.close()  # the last connection folds the write-ahead log into the file
        _template = path
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_template, target)
    return target
