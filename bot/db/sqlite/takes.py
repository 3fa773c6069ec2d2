"""Community takes (a member's own score and words on a video), agrees and the take counts.

A take is saved only by the group commit (bot/db/group_commit.py), through
`take_writes`, in the same transaction as the rating its score is.
"""

from __future__ import annotations

import json
import sqlite3

from bot.db.group_commit import TakeRow
from bot.db.models import Take, TakesPage
from bot.db.sqlite.connections import Executes, Fetches, Statement
from bot.db.sqlite.rows import columns_of, read_into
from bot.errors import NotFoundError, UserFacingError

_COLUMNS = columns_of(Take)
SORTS = {
    "newest": "updated_at DESC, id DESC",
    "highest": "score DESC, updated_at DESC, id DESC",
}


def take_writes(rows: list[TakeRow]) -> Statement:
    """Create or edit takes in order, in one statement (see `rating_writes`)."""
    return Statement(
        "INSERT INTO takes (guild_id, video_id, user_id, score, text, created_at, updated_at) "
        "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, "
        "value ->> 5 FROM json_each(?) WHERE true ORDER BY key "
        "ON CONFLICT (guild_id, video_id, user_id) DO UPDATE "
        "SET score = excluded.score, text = excluded.text, updated_at = excluded.updated_at",
        (json.dumps(rows),),
    )


def saved_takes_query(rows: list[TakeRow]) -> Statement:
    """The takes as stored for these rows' (server, video, member), in one statement."""
    keys = json.dumps(sorted({(r.guild_id, r.video_id, r.user_id) for r in rows}))
    return Statement(
        f"SELECT {columns_of(Take, 't')} FROM json_each(?) AS k CROSS JOIN takes AS t "
        "ON t.guild_id = k.value ->> 0 AND t.video_id = k.value ->> 1 "
        "AND t.user_id = k.value ->> 2",
        (keys,),
    )


def saved_takes_read(rows: list[sqlite3.Row]) -> dict[tuple[int, int, int], Take]:
    takes = [read_into(Take, row) for row in rows]
    return {(t.guild_id, t.video_id, t.user_id): t for t in takes}


class SQLiteTakeLookups:
    def __init__(self, conn: Fetches) -> None:
        self._conn = conn

    async def _one(self, sql: str, params: tuple[object, ...]) -> Take | None:
        rows = await self._conn.fetchall(sql, params)
        return read_into(Take, rows[0]) if rows else None

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

    async def count(self, guild_id: int, video_id: int) -> int:
        rows = await self._conn.fetchall(
            "SELECT count FROM video_take_counts WHERE guild_id = ? AND video_id = ?",
            (guild_id, video_id),
        )
        return int(rows[0]["count"]) if rows else 0


class SQLiteTakeReads(SQLiteTakeLookups):
    async def page(
        self, guild_id: int, video_id: int, *, sort: str, page: int, page_size: int
    ) -> TakesPage:
        """OFFSET steps over the pages before: not bounded by the answer, so off the loop."""
        if sort not in SORTS:
            raise UserFacingError("Sort takes by newest or highest.")
        total = await self.count(guild_id, video_id)
        pages = max(1, -(-total // page_size))
        page = min(max(page, 0), pages - 1)
        rows = await self._conn.fetchall(
            f"SELECT {_COLUMNS} FROM takes WHERE guild_id = ? AND video_id = ? "
            f"ORDER BY {SORTS[sort]} LIMIT ? OFFSET ?",
            (guild_id, video_id, page_size, page * page_size),
        )
        takes = [read_into(Take, row) for row in rows]
        return TakesPage(takes=takes, total=total, page=page, page_size=page_size)


class SQLiteTakeWrites(SQLiteTakeReads):
    def __init__(self, conn: Executes) -> None:
        super().__init__(conn)
        self._writer = conn

    async def agree(self, take: Take, user_id: int) -> bool:
        """Mark a take "agree" once per member. Returns False if they already had."""
        if take.user_id == user_id:
            raise UserFacingError("That is your own take: agreeing with yourself doesn't count.")
        added = await self._writer.fetchall(
            "INSERT OR IGNORE INTO take_agrees (take_id, user_id, guild_id) VALUES (?, ?, ?) "
            "RETURNING take_id",
            (take.id, user_id, take.guild_id),
        )
        return bool(added)

    async def remove(self, take_id: int) -> None:
        await self._writer.execute("DELETE FROM takes WHERE id = ?", (take_id,))
