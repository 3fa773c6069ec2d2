"""The server and member exports, read from PostgreSQL (the format is in bot/db/exports.py)."""

from __future__ import annotations

from typing import Any

from bot.clock import now
from bot.db.exports import MEMBER_FORMAT, SERVER_FORMAT, VERSION, clean, utc_iso
from bot.db.postgres.connections import Queries
from bot.db.suggestions import EXPORTED


class PostgresExportReads:
    def __init__(self, conn: Queries) -> None:
        self.conn = conn

    async def _rows(self, sql: str, *args: object) -> list[dict[str, Any]]:
        return [clean(dict(row.items())) for row in await self.conn.fetch(sql, *args)]

    async def server(self, guild_id: int) -> dict[str, Any]:
        """Everything members wrote in one server: ratings, takes, agrees, quotes, the
        moderation log and video suggestions."""
        return {
            "format": SERVER_FORMAT,
            "version": VERSION,
            "guild_id": str(guild_id),
            "exported_at": utc_iso(now()),
            "ratings": await self._rows(
                "SELECT r.user_id, v.slug AS video, r.score, r.rated_at "
                "FROM ratings AS r JOIN videos AS v ON v.id = r.video_id WHERE r.guild_id = $1 "
                "ORDER BY r.rated_at, r.user_id, r.video_id",
                guild_id,
            ),
            "takes": await self._rows(
                "SELECT t.id, t.user_id, v.slug AS video, t.score, t.text, t.agree_count, "
                "t.created_at, t.updated_at FROM takes AS t JOIN videos AS v ON v.id = t.video_id "
                "WHERE t.guild_id = $1 ORDER BY t.id",
                guild_id,
            ),
            "agrees": await self._rows(
                "SELECT take_id, user_id FROM take_agrees WHERE guild_id = $1 "
                "ORDER BY take_id, user_id",
                guild_id,
            ),
            "quotes": await self._rows(
                "SELECT q.id, q.text, q.said_by, q.source_url, q.saved_by, q.author_id, "
                "v.slug AS video, q.created_at FROM quotes AS q "
                "LEFT JOIN videos AS v ON v.id = q.video_id WHERE q.guild_id = $1 ORDER BY q.id",
                guild_id,
            ),
            "moderation_log": await self._rows(
                "SELECT id, kind, item_id, author_id, removed_by, reason, removed_at "
                "FROM moderation_log WHERE guild_id = $1 ORDER BY id",
                guild_id,
            ),
            "video_suggestions": await self._rows(
                f"{EXPORTED} WHERE m.guild_id = $1 ORDER BY s.id, m.user_id", guild_id
            ),
        }

    async def member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        """What TakeTwo keeps about one member in one server: what /privacy forget-me
        deletes."""
        gu = (guild_id, user_id)
        settings = await self.conn.fetchrow(
            "SELECT no_quotes, hide_ratings FROM member_settings "
            "WHERE guild_id = $1 AND user_id = $2",
            *gu,
        )
        return {
            "format": MEMBER_FORMAT,
            "version": VERSION,
            "guild_id": str(guild_id),
            "user_id": str(user_id),
            "exported_at": utc_iso(now()),
            "settings": {
                "no_quotes": bool(settings and settings["no_quotes"]),
                "hide_ratings": bool(settings and settings["hide_ratings"]),
            },
            "ratings": await self._rows(
                "SELECT v.slug AS video, r.score, r.rated_at FROM ratings AS r "
                "JOIN videos AS v ON v.id = r.video_id WHERE r.guild_id = $1 AND r.user_id = $2 "
                "ORDER BY r.rated_at, r.video_id",
                *gu,
            ),
            "takes": await self._rows(
                "SELECT t.id, v.slug AS video, t.score, t.text, t.agree_count, t.created_at, "
                "t.updated_at FROM takes AS t JOIN videos AS v ON v.id = t.video_id "
                "WHERE t.guild_id = $1 AND t.user_id = $2 ORDER BY t.id",
                *gu,
            ),
            "agrees": await self._rows(
                "SELECT take_id FROM take_agrees WHERE guild_id = $1 AND user_id = $2 "
                "ORDER BY take_id",
                *gu,
            ),
            "quotes_saved": await self._rows(
                "SELECT q.id, q.text, q.said_by, q.source_url, v.slug AS video, q.created_at "
                "FROM quotes AS q LEFT JOIN videos AS v ON v.id = q.video_id "
                "WHERE q.guild_id = $1 AND q.saved_by = $2 ORDER BY q.id",
                *gu,
            ),
            "quotes_of_you": await self._rows(
                "SELECT q.id, q.text, q.said_by, q.source_url, v.slug AS video, q.created_at "
                "FROM quotes AS q LEFT JOIN videos AS v ON v.id = q.video_id "
                "WHERE q.guild_id = $1 AND q.author_id = $2 ORDER BY q.id",
                *gu,
            ),
            "removals_of_yours": await self._rows(
                "SELECT kind, item_id, reason, removed_at FROM moderation_log "
                "WHERE guild_id = $1 AND author_id = $2 ORDER BY id",
                *gu,
            ),
            "removals_by_you": await self._rows(
                "SELECT kind, item_id, author_id, reason, removed_at FROM moderation_log "
                "WHERE guild_id = $1 AND removed_by = $2 ORDER BY id",
                *gu,
            ),
            "video_suggestions": await self._rows(
                f"{EXPORTED} WHERE m.guild_id = $1 AND m.user_id = $2 ORDER BY s.id", *gu
            ),
        }
