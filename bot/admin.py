"""Command-line administration: catalog import and export, backups, one server's export.

These run beside a live bot, on the database the settings choose: SQLite's WAL (or
PostgreSQL) lets them read while the bot writes, imports take the same locks as any other
writer, and the backup uses SQLite's online backup API.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bot.catalog import export_catalog, import_catalog, read_catalog_file
from bot.db.sqlite.backup import copy_database
from bot.lookups.lookup import Lookups
from bot.refresh import ProgressFile, SourceChecker, Summary, refresh_catalog
from bot.settings import Settings
from bot.startup import database_name, open_database


class BackupElsewhere(Exception):
    """The database is not a file this command can copy."""


async def catalog_import(settings: Settings, file: Path) -> int:
    """Check the whole file first (CatalogError lists every problem); write it in one go."""
    videos = read_catalog_file(file)
    db = await open_database(settings)
    try:
        async with db.transaction() as tx:
            return await import_catalog(tx, videos)
    finally:
        await db.close()


async def catalog_export(settings: Settings, file: Path) -> int:
    db = await open_database(settings)
    try:
        async with db.read() as session:
            data = await export_catalog(session)
    finally:
        await db.close()
    _write_json(file, data)
    return len(data["videos"])


def refresh_progress_file(settings: Settings) -> Path:
    """Where `catalog refresh` keeps its progress: beside a SQLite database, or in the
    current folder for PostgreSQL."""
    if settings.database_url is not None:
        return Path("taketwo-refresh.progress")
    return settings.database_path.with_name(settings.database_path.name + ".refresh")


async def catalog_refresh(
    settings: Settings, summary: Summary, *, pace: float, progress_file: Path | None = None
) -> None:
    """Fill missing thumbnails and check sources (see bot.refresh); `summary` holds what was
    done even when this is interrupted."""
    db = await open_database(settings)
    lookups = Lookups.from_settings(settings)
    checker = SourceChecker(user_agent=lookups.client.user_agent, pace=pace)
    progress = ProgressFile(
        progress_file or refresh_progress_file(settings), database_name(settings)
    )
    try:
        await refresh_catalog(db, lookups, checker, progress, sys.stderr, summary)
    finally:
        await checker.close()
        await lookups.close()
        await db.close()


def backup(settings: Settings, target: Path) -> None:
    """A consistent copy of the live SQLite database (see bot.db.sqlite.backup)."""
    if settings.database_url is not None:
        raise BackupElsewhere(
            "backup copies the SQLite file; a PostgreSQL database is backed up with its own "
            "tools (pg_dump, or the server's continuous archiving)."
        )
    copy_database(settings.database_path, target)


async def export_server(settings: Settings, guild_id: int, file: Path) -> dict[str, int]:
    """One server's ratings, takes, agrees, quotes and moderation log as JSON."""
    db = await open_database(settings)
    try:
        async with db.read() as session:
            data = await session.exports.server(guild_id)
    finally:
        await db.close()
    _write_json(file, data)
    return {key: len(value) for key, value in data.items() if isinstance(value, list)}


def json_bytes(data: Any) -> bytes:
    """An export or catalog file's bytes, the same whether written here or sent by the bot."""
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _write_json(file: Path, data: Any) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(json_bytes(data))
