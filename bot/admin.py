"""Command-line administration: catalog import and export, backups, one server's export.

These run beside a live bot: SQLite's WAL lets them read while the bot writes, imports take
the same write lock as any other writer, and the backup uses SQLite's online backup API.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from bot.catalog import export_catalog, import_catalog, read_catalog_file
from bot.db.failures import damaged
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
    """A consistent copy of the live database, taken page by page with SQLite's backup API."""
    if not database.is_file():
        raise FileNotFoundError(f"no database at {database}")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    # A copy of a damaged file would pass for a good backup until the day it is needed.
    problems = [row[0] for row in source.execute("PRAGMA quick_check(1)").fetchall()]
    if problems != ["ok"]:
        source.close()
        raise damaged(database, problems[0] if problems else "no answer to quick_check")
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy, pages=1024)
    finally:
        copy.close()
        source.close()


async def export_server(
    database: Path, guild_id: int, file: Path, load_sample_catalog: bool = True
) -> dict[str, int]:
    """One server's ratings, takes and quotes as JSON."""
    db = await open_database(database, load_sample_catalog=load_sample_catalog)
    try:
        async with db.read() as session:
            data = await _server_data(session.conn, guild_id)
    finally:
        await db.close()
    _write_json(file, data)
    return {key: len(value) for key, value in data.items() if isinstance(value, list)}


async def _server_data(conn: Any, guild_id: int) -> dict[str, Any]:
    async def rows(sql: str) -> list[dict[str, Any]]:
        async with conn.execute(sql, (guild_id,)) as cur:
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in await cur.fetchall()]

    return {
        "format": "taketwo-server-export",
        "version": 1,
        "guild_id": guild_id,
        "ratings": await rows(
            "SELECT r.user_id, v.slug AS video, r.score, "
            "strftime('%Y-%m-%dT%H:%M:%SZ', r.rated_at, 'unixepoch') AS rated_at "
            "FROM ratings AS r JOIN videos AS v ON v.id = r.video_id WHERE r.guild_id = ? "
            "ORDER BY r.rated_at, r.user_id, r.video_id"
        ),
        "takes": await rows(
            "SELECT t.id, t.user_id, v.slug AS video, t.score, t.text, t.agree_count, "
            "t.created_at, t.updated_at FROM takes AS t JOIN videos AS v ON v.id = t.video_id "
            "WHERE t.guild_id = ? ORDER BY t.id"
        ),
        "quotes": await rows(
            "SELECT q.id, q.text, q.said_by, q.source_url, q.saved_by, q.author_id, "
            "v.slug AS video, q.created_at FROM quotes AS q "
            "LEFT JOIN videos AS v ON v.id = q.video_id WHERE q.guild_id = ? ORDER BY q.id"
        ),
    }


def _write_json(file: Path, data: Any) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
