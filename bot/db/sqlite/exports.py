"""The server and member exports, read from SQLite (the format is in bot/db/exports.py)."""

from __future__ import annotations

from typing import Any

from bot.clock import now
from bot.db.exports import MEMBER_FORMAT, SERVER_FORMAT, VERSION, clean, utc_iso
from bot.db.sqlite.connections import Fetches
from bot.db.suggestions import EXPORTED


class SQLiteExportReads:
    def __init__(self, conn: Fetches) -> None:
        self._conn = conn

    async def _rows(self, sql: str, params: tuple[object, ...]) -> list[dict[str, Any]]:
        rows = await self._conn.fetchall(sql, params)
        return [clean({name: row[name] for name in row.keys()}) for row in rows]  # noqa: SIM118

    async def server(self, guild_id: int) -> dict[str, Any]:
        """Everything members wrote in one server: ratings, takes, agrees, quotes, the
        moderation log and video suggestions."""
        g = (guild_id,)
        return {
            "format": SERVER_FORMAT,
            "version": VERSION,
            "guild_id": str(guild_id),
            "exported_at": utc_iso(now()),
            "ratings": await self._rows(
                "SELECT r.user_id, v.slug AS video, r.score, r.rated_at "
                "FROM ratings AS r JOIN videos AS v ON v.id = r.video_id WHERE r.guild_id = ? "
                "ORDER BY r.rated_at, r.user_id, r.video_id",
                g,
            ),
            "takes": await self._rows(
                "SELECT t.id, t.user_id, v.slug AS video, t.score, t.text, t.agree_count, "
                "t.created_at, t.updated_at FROM takes AS t JOIN videos AS v ON v.id = t.video_id "
                "WHERE t.guild_id = ? ORDER BY t.id",
                g,
            ),
            "agrees": await self._rows(
                "SELECT take_id, user_id FROM take_agrees WHERE guild_id = ? "
                "ORDER BY take_id, user_id",
                g,
            ),
            "quotes": await self._rows(
                "SELECT q.id, q.text, q.said_by, q.source_url, q.saved_by, q.author_id, "
                "v.slug AS video, q.created_at FROM quotes AS q "
                "LEFT JOIN videos AS v ON v.id = q.video_id WHERE q.guild_id = ? ORDER BY q.id",
                g,
            ),
            "moderation_log": await self._rows(
                "SELECT id, kind, item_id, author_id, removed_by, reason, removed_at "
                "FROM moderation_log WHERE guild_id = ? ORDER BY id",
                g,
            ),
            "video_suggestions": await self._rows(
                f"{EXPORTED} WHERE m.guild_id = ? ORDER BY s.id, m.user_id", g
            ),
        }

    async def member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        """What TakeTwo keeps about one member in one server: what /privacy forget-me
        deletes."""
        gu = (guild_id, user_id)
        settings = await self._rows(
            "SELECT no_quotes, hide_ratings FROM member_settings "
            "WHERE guild_id = ? AND user_id = ?",
            gu,
        )
        return {
            "format": MEMBER_FORMAT,
            "version": VERSION,
            "guild_id": str(guild_id),
            "user_id": str(user_id),
            "exported_at": utc_iso(now()),
            "settings": {
                "no_quotes": bool(settings and settings[0]["no_quotes"]),
                "hide_ratings": bool(settings and settings[0]["hide_ratings"]),
            },
            "ratings": await self._rows(
                "SELECT v.slug AS video, r.score, r.rated_at FROM ratings AS r "
                "JOIN videos AS v ON v.id = r.video_id WHERE r.guild_id = ? AND r.user_id = ? "
                "ORDER BY r.rated_at, r.video_id",
                gu,
            ),
            "takes": await self._rows(
                "SELECT t.id, v.slug AS video, t.score, t.text, t.agree_count, t.created_at, "
                "t.updated_at FROM takes AS t JOIN videos AS v ON v.id = t.video_id "
                "WHERE t.guild_id = ? AND t.user_id = ? ORDER BY t.id",
                gu,
            ),
            "agrees": await self._rows(
                "SELECT take_id FROM take_agrees WHERE guild_id = ? AND user_id = ? "
                "ORDER BY take_id",
                gu,
            ),
            "quotes_saved": await self._rows(
                "SELECT q.id, q.text, q.said_by, q.source_url, v.slug AS video, q.created_at "
                "FROM quotes AS q LEFT JOIN videos AS v ON v.id = q.video_id "
                "WHERE q.guild_id = ? AND q.saved_by = ? ORDER BY q.id",
                gu,
            ),
            "quotes_of_you": await self._rows(
                "SELECT q.id, q.text, q.said_by, q.source_url, v.slug AS video, q.created_at "
                "FROM quotes AS q LEFT JOIN videos AS v ON v.id = q.video_id "
                "WHERE q.guild_id = ? AND q.author_id = ? ORDER BY q.id",
                gu,
            ),
            "removals_of_yours": await self._rows(
                "SELECT kind, item_id, reason, removed_at FROM moderation_log "
                "WHERE guild_id = ? AND author_id = ? ORDER BY id",
                gu,
            ),
            "removals_by_you": await self._rows(
                "SELECT kind, item_id, author_id, reason, removed_at FROM moderation_log "
                "WHERE guild_id = ? AND removed_by = ? ORDER BY id",
                gu,
            ),
            "video_suggestions": await self._rows(
                f"{EXPORTED} WHERE m.guild_id = ? AND m.user_id = ? ORDER BY s.id", gu
            ),
        }
