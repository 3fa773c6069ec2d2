"""What concerns one member of one server: privacy choices, the moderation log, and
forgetting everything stored about them."""

from __future__ import annotations

from typing import Literal

from bot.db.models import SKIPPED_DETAIL
from bot.db.postgres.connections import Executes, Queries
from bot.db.postgres.locks import Kind, Locks
from bot.db.postgres.quotes import PostgresQuoteWrites

# A member's on/off choices: columns of member_settings, off until set.
Setting = Literal["no_quotes", "hide_ratings"]


class PostgresMemberLookups:
    def __init__(self, conn: Queries) -> None:
        self.conn = conn

    async def _setting(self, setting: Setting, guild_id: int, user_id: int) -> bool:
        value = await self.conn.fetchval(
            f"SELECT {setting} FROM member_settings WHERE guild_id = $1 AND user_id = $2",
            guild_id,
            user_id,
        )
        return bool(value)

    async def no_quotes(self, guild_id: int, user_id: int) -> bool:
        return await self._setting("no_quotes", guild_id, user_id)

    async def hides_ratings(self, guild_id: int, user_id: int) -> bool:
        return await self._setting("hide_ratings", guild_id, user_id)


class PostgresMemberWrites(PostgresMemberLookups):
    """A member's choice is read and changed under their lock: a toggle pressed twice at
    once toggles twice, and a quote of them saved while they opt out waits for the choice."""

    def __init__(self, conn: Executes, locks: Locks, quotes: PostgresQuoteWrites) -> None:
        super().__init__(conn)
        self.writer = conn
        self.locks = locks
        self.quotes = quotes

    async def _lock(self, guild_id: int, user_id: int) -> None:
        await self.locks.hold(Kind.MEMBER, guild_id ^ user_id)

    async def _setting(self, setting: Setting, guild_id: int, user_id: int) -> bool:
        await self._lock(guild_id, user_id)
        return await super()._setting(setting, guild_id, user_id)

    async def _set(self, setting: Setting, guild_id: int, user_id: int, value: bool) -> None:
        await self._lock(guild_id, user_id)
        await self.writer.execute(
            f"INSERT INTO member_settings (guild_id, user_id, {setting}) VALUES ($1, $2, $3) "
            f"ON CONFLICT (guild_id, user_id) DO UPDATE SET {setting} = excluded.{setting}",
            guild_id,
            user_id,
            value,
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
        await self.writer.execute(
            "INSERT INTO moderation_log (guild_id, kind, item_id, author_id, removed_by, "
            "reason, removed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            guild_id,
            kind,
            item_id,
            author_id,
            removed_by,
            reason,
            now,
        )

    async def _delete(self, sql: str, guild_id: int, user_id: int) -> int:
        return int(
            await self.writer.fetchval(
                f"WITH gone AS ({sql} RETURNING 1) SELECT count(*) FROM gone", guild_id, user_id
            )
        )

    async def forget(self, guild_id: int, user_id: int) -> dict[str, int]:
        """Delete everything stored about a member in one server. Aggregates follow through
        the triggers (ratings, takes, agrees) and the quote slot bookkeeping.

        Takes go before ratings, in the order the group commit writes them, so a forget and
        a batch holding the same member's rows never wait on each other in a circle."""
        await self._lock(guild_id, user_id)
        agrees = await self._delete(
            "DELETE FROM take_agrees WHERE guild_id = $1 AND user_id = $2", guild_id, user_id
        )
        takes = await self._delete(
            "DELETE FROM takes WHERE guild_id = $1 AND user_id = $2", guild_id, user_id
        )
        ratings = await self._delete(
            "DELETE FROM ratings WHERE guild_id = $1 AND user_id = $2", guild_id, user_id
        )
        await self.locks.hold(Kind.QUOTES, guild_id)
        rows = await self.writer.fetch(
            "SELECT id FROM quotes WHERE guild_id = $1 AND (saved_by = $2 OR author_id = $2)",
            guild_id,
            user_id,
        )
        for row in rows:
            await self.quotes.remove(row[0])
        removals = await self._delete(
            "DELETE FROM moderation_log WHERE guild_id = $1 AND author_id = $2", guild_id, user_id
        )
        # A moderator's own actions stay on record, without saying who took them or keeping
        # the reason they wrote (their words, which may well name them).
        await self.writer.execute(
            "UPDATE moderation_log SET removed_by = 0, reason = NULL "
            "WHERE guild_id = $1 AND removed_by = $2",
            guild_id,
            user_id,
        )
        settings = await self._delete(
            "DELETE FROM member_settings WHERE guild_id = $1 AND user_id = $2", guild_id, user_id
        )
        # Their suggestions, with their notes; a suggestion no one else made goes with them.
        gone = await self.writer.fetch(
            "DELETE FROM video_suggesters WHERE guild_id = $1 AND user_id = $2 "
            "RETURNING suggestion_id",
            guild_id,
            user_id,
        )
        await self.writer.execute(
            "DELETE FROM video_suggestions AS s WHERE s.id = ANY($1::bigint[]) AND NOT EXISTS "
            "(SELECT 1 FROM video_suggesters AS m WHERE m.suggestion_id = s.id)",
            [row[0] for row in gone],
        )
        await self.writer.execute(
            "UPDATE daily_schedules SET updated_by = NULL WHERE guild_id = $1 AND updated_by = $2",
            guild_id,
            user_id,
        )
        # Skips recorded before /daily skip stopped writing down who skipped.
        await self.writer.execute(
            "UPDATE daily_posts SET detail = $1 "
            "WHERE guild_id = $2 AND detail = 'skipped by member ' || $3::bigint",
            SKIPPED_DETAIL,
            guild_id,
            user_id,
        )
        # In the order the SQLite backend reports them, so both tell a member the same.
        return {
            "ratings": ratings,
            "agrees": agrees,
            "takes": takes,
            "quotes": len(rows),
            "moderation log entries": removals,
            "settings": settings,
            "video suggestions": len(gone),
        }
