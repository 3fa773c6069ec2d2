"""Command-line administration: catalog import and export, backups, one server's export.

These run beside a live bot: SQLite's WAL lets them read while the bot writes, imports take
the same write lock as any other writer, and the backup uses SQLite's online backup API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.catalog import export_catalog, import_catalog, read_catalog_file
from bot.db.sqlite.backup import copy_database
from bot.startup import open_database


async def catalog_import(database: Path, file: Path, load_sample_catalog: bool = True) -> int:
    """Check the whole file first (CatalogError lists every problem); write it in one go."""
    videos = read_catalog_file(file)
    db = await open_database(database, load_sample_catalog=load_sample_catalog)
    try:
        async with db.transaction() as tx:
            return await import_catalog(tx, videos)
    finally:
        await db.close()


async def catalog_export(database: Path, file: Path, load_sample_catalog: bool = True) -> int:
    db = await open_database(database, load_sample_catalog=load_sample_catalog)
    try:
        async with db.read() as session:
            data = await export_catalog(session)
    finally:
        await db.close()
    _write_json(file, data)
    return len(data["videos"])


def backup(database: Path, target: Path) -> None:
    """A consistent copy of the live database (see bot.db.sqlite.backup)."""
    copy_database(database, target)


async def export_server(
    database: Path, guild_id: int, file: Path, load_sample_catalog: bool = True
) -> dict[str, int]:
    """One server's ratings, takes, agrees, quotes and moderation log as JSON."""
    db = await open_database(database, load_sample_catalog=load_sample_catalog)
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
