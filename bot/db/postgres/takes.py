"""Community takes (a member's own score and words on a video), agrees and the take counts.

A take is saved only by the group commit, through `write_takes`, in the same transaction as
the rating its score is. Take counts and agree counts follow every write through statement
triggers (migration 0001).
"""

from __future__ import annotations

from bot.db.group_commit import TakeRow
from bot.db.models import Take, TakesPage
from bot.db.postgres.connections import Executes, Queries
from bot.db.postgres.rows import TAKE
from bot.errors import NotFoundError, UserFacingError

SORTS = {
    "newest": "updated_at DESC, id DESC",
    "highest": "score DESC, updated_at DESC, id DESC",
}
TakeKey = tuple[int, int, int]  # guild, video, member
# A take number is drawn only for a take that is new: members see the numbers (#12, "Agree
# #12"), and an edit that drew one each time (as a plain upsert does) would leave gaps. The
# member's take, if there is one, is locked here (in key order, as the upsert would): one
# removed meanwhile is found gone and its number is not given again.
_OWN_TAKE = (
    "SELECT t.id FROM takes t WHERE t.guild_id = i.guild_id AND t.video_id = i.video_id "
    "AND t.user_id = i.user_id FOR UPDATE"
)


async def write_takes(conn: Executes, rows: list[TakeRow]) -> dict[TakeKey, Take]:
    """Create or edit takes in one statement; returns each take as saved.

    A member writing twice in one batch keeps the later words and the earlier creation
    time, as if the two had been written one after the other."""
    first: dict[TakeKey, TakeRow] = {}
    latest: dict[TakeKey, TakeRow] = {}
    for row in rows:
        key = (row.guild_id, row.video_id, row.user_id)
        first.setdefault(key, row)
        latest[key] = row
    keys = sorted(latest)
    saved = await conn.fetch(
        "INSERT INTO takes "
        "(id, guild_id, video_id, user_id, score, text, created_at, updated_at) "
        f"SELECT coalesce(({_OWN_TAKE}), nextval(pg_get_serial_sequence('takes', 'id'))), i.* "
        "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::smallint[], "
        "$5::text[], $6::bigint[], $7::bigint[]) "
        "AS i (guild_id, video_id, user_id, score, text, created_at, updated_at) "
        "ON CONFLICT (guild_id, video_id, user_id) DO UPDATE "
        "SET score = excluded.score, text = excluded.text, updated_at = excluded.updated_at "
        f"RETURNING {TAKE}",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        [latest[k].score for k in keys],
        [latest[k].text for k in keys],
        [first[k].at for k in keys],
        [latest[k].at for k in keys],
    )
    takes = [Take(*row) for row in saved]
    return {(t.guild_id, t.video_id, t.user_id): t for t in takes}


class PostgresTakeLookups:
    def __init__(self, conn: Queries) -> None:
        self.conn = conn

    async def _one(self, sql: str, *args: object) -> Take | None:
        row = await self.conn.fetchrow(sql, *args)
        return Take(*row) if row is not None else None

    async def get(self, take_id: int) -> Take | None:
        return await self._one(f"SELECT {TAKE} FROM takes WHERE id = $1", take_id)

    async def in_guild(self, guild_id: int, take_id: int) -> Take:
        take = await self.get(take_id)
        if take is None or take.guild_id != guild_id:
            raise NotFoundError(f"There is no take #{take_id} in this server.")
        return take

    async def of_member(self, guild_id: int, video_id: int, user_id: int) -> Take | None:
        return await self._one(
            f"SELECT {TAKE} FROM takes WHERE guild_id = $1 AND video_id = $2 AND user_id = $3",
            guild_id,
            video_id,
            user_id,
        )

    async def count(self, guild_id: int, video_id: int) -> int:
        n = await self.conn.fetchval(
            "SELECT count FROM video_take_counts WHERE guild_id = $1 AND video_id = $2",
            guild_id,
            video_id,
        )
        return int(n or 0)


class PostgresTakeReads(PostgresTakeLookups):
    async def page(
        self, guild_id: int, video_id: int, *, sort: str, page: int, page_size: int
    ) -> TakesPage:
        """OFFSET steps over the pages before: not bounded by the answer, so not a lookup."""
        if sort not in SORTS:
            raise UserFacingError("Sort takes by newest or highest.")
        total = await self.count(guild_id, video_id)
        pages = max(1, -(-total // page_size))
        page = min(max(page, 0), pages - 1)
        rows = await self.conn.fetch(
            f"SELECT {TAKE} FROM takes WHERE guild_id = $1 AND video_id = $2 "
            f"ORDER BY {SORTS[sort]} LIMIT $3 OFFSET $4",
            guild_id,
            video_id,
            page_size,
            page * page_size,
        )
        takes = [Take(*row) for row in rows]
        return TakesPage(takes=takes, total=total, page=page, page_size=page_size)


class PostgresTakeWrites(PostgresTakeReads):
    def __init__(self, conn: Executes) -> None:
        super().__init__(conn)
        self.writer = conn

    async def get(self, take_id: int) -> Take | None:
        """The take, held until the transaction ends: two moderators removing it at once
        take turns, and the second finds it gone instead of logging a second removal."""
        return await self._one(f"SELECT {TAKE} FROM takes WHERE id = $1 FOR UPDATE", take_id)

    async def agree(self, take: Take, user_id: int) -> bool:
        """Mark a take "agree" once per member. Returns False if they already had."""
        if take.user_id == user_id:
            raise UserFacingError("That is your own take: agreeing with yourself doesn't count.")
        added = await self.writer.fetchval(
            "INSERT INTO take_agrees (take_id, user_id, guild_id) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING RETURNING take_id",
            take.id,
            user_id,
            take.guild_id,
        )
        return added is not None

    async def remove(self, take_id: int) -> None:
        await self.writer.execute("DELETE FROM takes WHERE id = $1", take_id)
