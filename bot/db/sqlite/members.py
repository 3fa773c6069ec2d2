"""What concerns one member of one server: privacy choices, the moderation log, and
forgetting everything stored about them."""

from __future__ import annotations

import aiosqlite

from bot.db.sqlite.daily import SKIPPED_DETAIL
from bot.db.sqlite.quotes import QuoteQueries


class MemberQueries:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def no_quotes(self, guild_id: int, user_id: int) -> bool:
        rows = await self.conn.execute_fetchall(
            "SELECT no_quotes FROM member_settings WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        row = next(iter(rows), None)
        return bool(row and row[0])

    async def set_no_quotes(self, guild_id: int, user_id: int, value: bool) -> None:
        await self.conn.execute(
            "INSERT INTO member_settings (guild_id, user_id, no_quotes) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id, user_id) DO UPDATE SET no_quotes = excluded.no_quotes",
            (guild_id, user_id, int(value)),
        )

    async def log_removal(
        self,
        *,
        guild_id: int,
        kind: str,
        item_id: int,
        author_id: int | None,
        removed_by: int,
        reason: str | None,
        now: str,
    ) -> None:
        await self.conn.execute(
            "INSERT INTO moderation_log (guild_id, kind, item_id, author_id, removed_by, reason, "
            "removed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (guild_id, kind, item_id, author_id, removed_by, reason, now),
        )

    async def forget(self, guild_id: int, user_id: int) -> dict[str, int]:
        """Delete everything stored about a member in one server. Aggregates follow through
        the triggers (ratings, takes, agrees) and the quote slot bookkeeping."""
        counts: dict[str, int] = {}

        async def run(name: str, sql: str, params: tuple[object, ...]) -> None:
            async with self.conn.execute(sql, params) as cur:
                counts[name] = len(await cur.fetchall())

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
        async with self.conn.execute(
            "SELECT id FROM quotes WHERE guild_id = ? AND (saved_by = ? OR author_id = ?)",
            (guild_id, user_id, user_id),
        ) as cur:
            quote_ids = [int(row[0]) for row in await cur.fetchall()]
        quotes = QuoteQueries(self.conn)
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
        await self.conn.execute(
            "UPDATE moderation_log SET removed_by = 0, reason = NULL "
            "WHERE guild_id = ? AND removed_by = ?",
            (guild_id, user_id),
        )
        await run(
            "settings",
            "DELETE FROM member_settings WHERE guild_id = ? AND user_id = ? RETURNING 1",
            (guild_id, user_id),
        )
        await self.conn.execute(
            "UPDATE daily_schedules SET updated_by = NULL WHERE guild_id = ? AND updated_by = ?",
            (guild_id, user_id),
        )
        # Skips recorded before /daily skip stopped writing down who skipped.
        await self.conn.execute(
            "UPDATE daily_posts SET detail = ? "
            "WHERE guild_id = ? AND detail = 'skipped by member ' || ?",
            (SKIPPED_DETAIL, guild_id, user_id),
        )
        return counts
