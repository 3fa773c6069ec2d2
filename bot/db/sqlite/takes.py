"""Community takes (a member's own score and words on a video), agrees and the take counts."""

from __future__ import annotations

import aiosqlite

from bot.db.models import Take, TakesPage
from bot.db.sqlite.ratings import RatingQueries
from bot.errors import NotFoundError, UserFacingError

_COLUMNS = "id, guild_id, video_id, user_id, score, text, created_at, updated_at, agree_count"
SORTS = {
    "newest": "updated_at DESC, id DESC",
    "highest": "score DESC, updated_at DESC, id DESC",
}


class TakeQueries:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def _one(self, sql: str, params: tuple[object, ...]) -> Take | None:
        # execute_fetchall: the one call the lookup connection offers too.
        row = next(iter(await self.conn.execute_fetchall(sql, params)), None)
        return Take(*row) if row else None

    async def get(self, take_id: int) -> Take | None:
        return await self._one(f"SELECT {_COLUMNS} FROM takes WHERE id = ?", (take_id,))

    async def in_guild(self, guild_id: int, take_id: int) -> Take:
        take = await self.get(take_id)
        if take is None or take.guild_id != guild_id:
            raise NotFoundError(f"There is no take #{take_id} in this server.")
        return take

    async def of_member(self, guild_id: int, video_id: int, user_id: int) -> Take | None:
        return await self._one(
            f"SELECT {_COLUMNS} FROM takes WHERE guild_id = ? AND video_id = ? AND user_id = ?",
            (guild_id, video_id, user_id),
        )

    async def save(
        self, *, guild_id: int, video_id: int, user_id: int, score: int, text: str, now: str
    ) -> Take:
        """Create or edit a member's take. Its score is also their rating (same transaction)."""
        if not 1 <= score <= 10:
            raise UserFacingError("A score is a whole number from 1 to 10.")
        if not text.strip():
            raise UserFacingError("Write a few words for your take.")
        await self.conn.execute(
            "INSERT INTO takes (guild_id, video_id, user_id, score, text, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, video_id, user_id) DO UPDATE "
            "SET score = excluded.score, text = excluded.text, updated_at = excluded.updated_at",
            (guild_id, video_id, user_id, score, text.strip(), now, now),
        )
        await RatingQueries(self.conn).rate_many([(guild_id, video_id, user_id, score, now)])
        take = await self.of_member(guild_id, video_id, user_id)
        assert take is not None
        return take

    async def page(
        self, guild_id: int, video_id: int, *, sort: str, page: int, page_size: int
    ) -> TakesPage:
        total = await self.count(guild_id, video_id)
        pages = max(1, -(-total // page_size))
        page = min(max(page, 0), pages - 1)
        async with self.conn.execute(
            f"SELECT {_COLUMNS} FROM takes WHERE guild_id = ? AND video_id = ? "
            f"ORDER BY {SORTS[sort]} LIMIT ? OFFSET ?",
            (guild_id, video_id, page_size, page * page_size),
        ) as cur:
            takes = [Take(*row) for row in await cur.fetchall()]
        return TakesPage(takes=takes, total=total, page=page, page_size=page_size)

    async def count(self, guild_id: int, video_id: int) -> int:
        async with self.conn.execute(
            "SELECT count FROM video_take_counts WHERE guild_id = ? AND video_id = ?",
            (guild_id, video_id),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def agree(self, take: Take, user_id: int) -> bool:
        """Mark a take "agree" once per member. Returns False if they already had."""
        if take.user_id == user_id:
            raise UserFacingError("That is your own take: agreeing with yourself doesn't count.")
        async with self.conn.execute(
            "INSERT OR IGNORE INTO take_agrees (take_id, user_id, guild_id) VALUES (?, ?, ?) "
            "RETURNING take_id",
            (take.id, user_id, take.guild_id),
        ) as cur:
            return await cur.fetchone() is not None

    async def remove(self, take_id: int) -> None:
        await self.conn.execute("DELETE FROM takes WHERE id = ?", (take_id,))
