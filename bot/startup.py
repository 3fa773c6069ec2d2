"""Opening the database the same way from the bot and from the command line.

Whoever creates the database file (the bot's first start, or any CLI command run before it)
decides once whether it gets the sample catalog, so `catalog export` or `backup` run on a
fresh machine does not leave the bot with an empty catalog for good.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.catalog import import_catalog, sample_catalog
from bot.db import Database

log = logging.getLogger(__name__)


async def load_sample_if_new(db: Database, *, load_sample_catalog: bool) -> None:
    """Fill a database this process just created with the sample catalog, if wanted."""
    if db.is_new and load_sample_catalog:
        async with db.transaction() as tx:
            count = await import_catalog(tx, sample_catalog())
        log.info("new database: loaded %d sample videos", count)


async def open_database(path: Path, *, load_sample_catalog: bool) -> Database:
    db = Database(path)
    await db.open()
    try:
        await load_sample_if_new(db, load_sample_catalog=load_sample_catalog)
    except BaseException:
        await db.close()
        raise
    return db
