"""What concerns one member of one server: privacy choices, the moderation log, and
forgetting everything stored about them."""

from __future__ import annotations

import json
from typing import Literal

from bot.db.models import SKIPPED_DETAIL
from bot.db.sqlite.connections import Executes, Fetches
from bot.db.sqlite.quotes import SQLiteQuoteWrites

# A member's on/off choices: columns of member_settings, off until set.
Setting = Literal["no_quotes", "hide_ratings"]


class SQLiteMemberLookups:
    def __init__(self, conn: Fetches) -> None:
        self._conn = conn

    async def _setting(self, setting: Setting, guild_id: int, user_id: int) -> bool:
        rows = await self._conn.fetchall(
            f"SELECT {setting} FROM member_settings WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        return bool(rows and rows[0][setting])

    async def no_quotes(self, guild_id: int, user_id: int) -> bool:
        return await self._setting("no_quotes", guild_id, user_id)

    async def hides_ratings(self, guild_id: int, user_id: int) -> bool:
        return await self._setting("hide_ratings", guild_id, user_id)


class SQLiteMemberWrites(SQLiteMemberLookups):
    def __init__(self, conn: Executes) -> None:
        super().__init__(conn)
        self._writer = conn

    async def _set(self, setting: Setting, guild_id: int, user_id: int, value: bool) -> None:
        await self._writer.execute(
            f"INSERT INTO member_settings (guild_id, user_id, {setting}) VALUES (?, ?, ?) "
            f"ON CONFLICT (guild_id, user_id) DO UPDATE SET {setting} = excluded.{setting}",
            (guild_id, user_id, int(value)),
        )

    async def set_no_quotes(self, guild_id: int, user_id: int, value: bool) -> None:
        await self._set("no_quotes", guild_id, user_id, value)

    async def set_hide_ratings(self, guild_id: int, user_id: int, value: bool) -> None:
        await self._set("hide_ratings", guild_id, user_id, value)

    async def log_removal(
        self,
        *,
        guild_id: int,
        kind: str,
        item_id: int,
        author_id: int | None,
        removed_by: int,
        reason: str | None,
        now: int,
    ) -> None:
        await self._writer.execute(
            "INSERT INTO moderation_log (guild_id, kind, item_id, author_id, removed_by, reason, "
            "removed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (guild_id, kind, item_id, author_id, removed_by, reason, now),
        )

    async def forget(self, guild_id: int, user_id: int) -> dict[str, int]:
        """Delete everything stored about a member in one server. Aggregates follow through
        the triggers (ratings, takes, agrees) and the quote slot bookkeeping."""
        counts: dict[str, int] = {}

        async def run(name: str, sql: str, params: tuple[object, ...]) -> None:
            counts[name] = len(await self._writer.fetchall(sql, params))

        await run(
            "ratings",
            "DELETE FROM ratings WHERE guild_id = ? AND user_id = ? RETURNING 1",
            (guild_id, user_id),
        )
        await run(
            "agrees",
            "DELETE FROM take_agrees WHERE guild_id = ? AND user_id = ? RETURNING 1",
            (guild_id, user_id),
        )
        await run(
            "takes",
            "DELETE FROM takes WHERE guild_id = ? AND user_id = ? RETURNING 1",
            (guild_id, user_id),
        )
        rows = await self._writer.fetchall(
            "SELECT id FROM quotes WHERE guild_id = ? AND (saved_by = ? OR author_id = ?)",
            (guild_id, user_id, user_id),
        )
        quote_ids = [int(row["id"]) for row in rows]
        quotes = SQLiteQuoteWrites(self._writer)
        for quote_id in quote_ids:
            await quotes.remove(quote_id)
        counts["quotes"] = len(quote_ids)
        await run(
            "moderation log entries",
            "DELETE FROM moderation_log WHERE guild_id = ? AND author_id = ? RETURNING 1",
            (guild_id, user_id),
        )
        # A moderator's own actions stay on record, without saying who took them or keeping
        # the reason they wrote (their words, which may well name them).
        await self._writer.execute(
            "UPDATE moderation_log SET removed_by = 0, reason = NULL "
            "WHERE guild_id = ? AND removed_by = ?",
            (guild_id, user_id),
        )
        await run(
            "settings",
            "DELETE FROM member_settings WHERE guild_id = ? AND user_id = ? RETURNING 1",
            (guild_id, user_id),
        )
        # Their suggestions, with their notes; a suggestion no one else made goes with them.
        gone = await self._writer.fetchall(
            "DELETE FROM video_suggesters WHERE guild_id = ? AND user_id = ? "
            "RETURNING suggestion_id",
            (guild_id, user_id),
        )
        await self._writer.execute(
            "DELETE FROM video_suggestions WHERE id IN (SELECT value FROM json_each(?)) "
            "AND NOT EXISTS (SELECT 1 FROM video_suggesters AS m "
            "WHERE m.suggestion_id = video_suggestions.id)",
            (json.dumps([row[0] for row in gone]),),
        )
        counts["video suggestions"] = len(gone)
        await self._writer.execute(
            "UPDATE daily_schedules SET updated_by = NULL WHERE guild_id = ? AND updated_by = ?",
            (guild_id, user_id),
        )
        # Skips recorded before /daily skip stopped writing down who skipped.
        await self._writer.execute(
            "UPDATE daily_posts SET detail = ? "
            "WHERE guild_id = ? AND detail = 'skipped by member ' || ?",
            (SKIPPED_DETAIL, guild_id, user_id),
        )
        return counts
