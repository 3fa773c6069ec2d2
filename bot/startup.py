"""What starting TakeTwo sets up besides the bot object: the process and the database.

Process-wide settings (where discord.py connects, the GIL switch interval, freezing what
start-up loaded out of the garbage collector's scans) are made here, by whoever starts the
bot (`python -m bot`, the playground, the test harness), never as a side effect of
constructing the client or opening the data layer.

Whoever creates the database file (the bot's first start, or any CLI command run before it)
decides once whether it gets the sample catalog, so `catalog export` or `backup` run on a
fresh machine does not leave the bot with an empty catalog for good.
"""

from __future__ import annotations

import gc
import logging
import sys
from dataclasses import dataclass

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.catalog import import_catalog, sample_catalog
from bot.db import Database
from bot.db.postgres.connections import redacted
from bot.db.postgres.database import postgres_database
from bot.db.sqlite.database import SQLiteDatabase
from bot.errors import NotFoundError
from bot.links import canonical_or_as_given
from bot.settings import Settings

log = logging.getLogger(__name__)

# aiosqlite runs each connection on its own thread, which needs the GIL to hand a result
# back. With Python's default 5 ms switch interval a busy event loop makes every database
# round trip wait up to 5 ms; at 0.5 ms the threads get their turn promptly.
GIL_SWITCH_INTERVAL = 0.0005


def use_endpoints(settings: Settings) -> None:
    """Point discord.py's REST and gateway connections where the settings say. discord.py
    keeps both as class attributes, so this is process-wide; Discord's own are the
    defaults."""
    Route.BASE = settings.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def configure_process(settings: Settings) -> None:
    """Everything process-wide a running bot needs, before it is built."""
    use_endpoints(settings)
    sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL))


def freeze_what_start_up_loaded() -> None:
    """Everything loaded so far (modules, commands, the catalog's objects) lives as long as
    the process: keep it out of the garbage collector's scans, which otherwise add pauses to
    every interaction."""
    gc.freeze()


async def load_sample_if_new(db: Database, *, load_sample_catalog: bool) -> None:
    """Decide, once per database, whether it gets the sample catalog: loaded (if wanted)
    and recorded in one transaction, so a start that fails halfway decides again."""
    # Almost every start finds the decision made: a read, not the write lock (which a CLI
    # command run beside the bot would otherwise wait for).
    async with db.read() as session:
        if await session.setup.catalog_decided():
            return
    async with db.transaction() as tx:
        if await tx.setup.catalog_decided():  # another process decided meanwhile
            return
        # A database from before the decision was recorded decided when it was created.
        load = load_sample_catalog and not db.predates_catalog_decisions
        count = await import_catalog(tx, sample_catalog()) if load else 0
        await tx.setup.record_catalog_decision(sample_loaded=load)
    if load:
        log.info("new database: loaded %d sample videos", count)


# What start-up does, once per database, to a catalog saved by an older version: 1 keeps
# YouTube and Vimeo links in one form, 2 folds credited names for /person's search. Every
# step is safe to run again; the version done is recorded, so later starts read one number.
CATALOG_UPKEEP = 2


@dataclass(frozen=True)
class UpkeepDone:
    links: int  # rewritten to their canonical form
    names: int  # credits' names and videos' artists folded


async def catalog_upkeep(db: Database) -> UpkeepDone:
    """Bring a catalog saved by an older version up to date (after the catalog decision).

    Links typed before links were kept in one form (by hand into /video add or /video edit)
    are rewritten, so /video add url: and /video suggest find those videos by their link;
    names saved before /person are folded, so its search finds them."""
    async with db.read() as session:
        if await session.setup.upkeep_version() >= CATALOG_UPKEEP:
            return UpkeepDone(links=0, names=0)
        stale = [
            video_id
            for video_id, url in (await session.videos.links()).items()
            if canonical_or_as_given(url) != url
        ]
    async with db.transaction() as tx:
        for video_id in stale:
            try:
                video = await tx.videos.get(video_id)
            except NotFoundError:  # removed meanwhile
                continue
            await tx.videos.upsert(
                slug=video.slug,
                title=video.title,
                artist=video.artist,
                album=video.album,
                year=video.year,
                url=canonical_or_as_given(video.url) if video.url else None,
            )
        names = await tx.videos.fold_names()
        await tx.setup.record_upkeep(CATALOG_UPKEEP)
    if stale or names:
        log.info(
            "brought the catalog up to date: %d links rewritten, %d names folded",
            len(stale),
            names,
        )
    return UpkeepDone(links=len(stale), names=names)


async def prepare_database(db: Database, *, load_sample_catalog: bool) -> None:
    """Open the database and settle the sample catalog; on any failure close it again (its
    threads would otherwise keep the process alive)."""
    await db.open()
    try:
        await load_sample_if_new(db, load_sample_catalog=load_sample_catalog)
        await catalog_upkeep(db)
    except BaseException:
        await db.close()
        raise


def new_database(settings: Settings) -> Database:
    """The database the settings choose, not yet opened: PostgreSQL at DATABASE_URL when it
    is set, else SQLite at DATABASE_PATH."""
    if settings.database_url is not None:
        return postgres_database(settings.database_url, max_connections=settings.database_pool_size)
    return SQLiteDatabase(settings.database_path)


def database_name(settings: Settings) -> str:
    """Where the data is, as an operator reads it in a line: no password."""
    if settings.database_url is not None:
        return redacted(settings.database_url)
    return str(settings.database_path)


async def open_database(settings: Settings) -> Database:
    db = new_database(settings)
    await prepare_database(db, load_sample_catalog=settings.load_sample_catalog)
    return db
