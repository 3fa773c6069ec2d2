"""Quotes: saved by members of a server (guild_id > 0) or shipped with the catalog (guild_id 0).

Each scope numbers its quotes 1..n in `slot` (and per video in `video_slot`) with no gaps:
adding takes slot n+1, removing moves the last quote into the freed slot. A random quote is
then a random slot number and one indexed lookup, uniform and independent of table size.
"""

from __future__ import annotations

import random

from bot.db.models import CATALOG_GUILD, Quote
from bot.db.sqlite.connections import Executes, Fetches
from bot.db.sqlite.rows import quote_from
from bot.errors import NotFoundError

_COLUMNS = (
    "q.id, q.guild_id, q.text, q.created_at, q.video_id, v.title AS video_title, q.said_by, "
    "q.source_url, q.saved_by, q.author_id, q.is_sample"
)
_FROM = "FROM quotes AS q LEFT JOIN videos AS v ON v.id = q.video_id"


# The scope is the server if it has a matching quote, else the catalog (guild 0).
_RANDOM = f"""
WITH own (n) AS (SELECT max(slot) FROM quotes WHERE guild_id = :guild),
scope (g, n) AS (
    SELECT CASE WHEN own.n IS NULL THEN 0 ELSE :guild END,
           coalesce(own.n, (SELECT max(slot) FROM quotes WHERE guild_id = 0)) FROM own)
SELECT {_COLUMNS} FROM scope
JOIN quotes AS q ON q.guild_id = scope.g AND q.slot = 1 + CAST(:r * scope.n AS INTEGER)
LEFT JOIN videos AS v ON v.id = q.video_id
"""
_RANDOM_OF_VIDEO = f"""
WITH own (n) AS (SELECT max(video_slot) FROM quotes WHERE guild_id = :guild AND video_id = :video),
scope (g, n) AS (
    SELECT CASE WHEN own.n IS NULL THEN 0 ELSE :guild END,
           coalesce(own.n, (SELECT max(video_slot) FROM quotes
                            WHERE guild_id = 0 AND video_id = :video)) FROM own)
SELECT {_COLUMNS} FROM scope
JOIN quotes AS q ON q.guild_id = scope.g AND q.video_id = :video
    AND q.video_slot = 1 + CAST(:r * scope.n AS INTEGER)
LEFT JOIN videos AS v ON v.id = q.video_id
"""


class SQLiteQuoteLookups:
    def __init__(self, conn: Fetches) -> None:
        self._conn = conn

    async def _size(self, guild_id: int, video_id: int | None) -> int:
        """How many quotes the scope holds: its highest slot, one index probe."""
        if video_id is None:
            rows = await self._conn.fetchall(
                "SELECT max(slot) AS n FROM quotes WHERE guild_id = ?", (guild_id,)
            )
        else:
            rows = await self._conn.fetchall(
                "SELECT max(video_slot) AS n FROM quotes WHERE guild_id = ? AND video_id = ?",
                (guild_id, video_id),
            )
        return int(rows[0]["n"] or 0)

    async def get(self, quote_id: int) -> Quote | None:
        rows = await self._conn.fetchall(f"SELECT {_COLUMNS} {_FROM} WHERE q.id = ?", (quote_id,))
        return quote_from(rows[0]) if rows else None

    async def of_message(self, guild_id: int, author_id: int, source_url: str) -> Quote | None:
        """The quote already saved from this message, if any: one probe of quotes_by_author
        (server, author, link)."""
        rows = await self._conn.fetchall(
            f"SELECT {_COLUMNS} {_FROM} WHERE q.guild_id = ? AND q.author_id = ? "
            "AND q.source_url = ? LIMIT 1",
            (guild_id, author_id, source_url),
        )
        return quote_from(rows[0]) if rows else None

    async def in_guild(self, guild_id: int, quote_id: int) -> Quote:
        """A quote that this server can see: its own or the catalog's."""
        quote = await self.get(quote_id)
        if quote is None or quote.guild_id not in (guild_id, CATALOG_GUILD):
            raise NotFoundError(f"There is no quote #{quote_id} in this server.")
        return quote

    async def random(
        self, guild_id: int, video_id: int | None = None, rng: random.Random | None = None
    ) -> Quote | None:
        """A uniformly random quote of this server (of one video, if given).

        A server with no matching quote of its own gets one of the catalog's. One statement:
        find the scope's size by index, then read the row at a random slot.
        """
        fraction = (rng or random).random()
        sql = _RANDOM_OF_VIDEO if video_id is not None else _RANDOM
        rows = await self._conn.fetchall(sql, {"guild": guild_id, "video": video_id, "r": fraction})
        return quote_from(rows[0]) if rows else None

    async def count(self, guild_id: int, video_id: int | None = None) -> int:
        return await self._size(guild_id, video_id)


class SQLiteQuoteReads(SQLiteQuoteLookups):
    async def catalog_quotes(self, video_id: int) -> list[Quote]:
        rows = await self._conn.fetchall(
            f"SELECT {_COLUMNS} {_FROM} WHERE q.guild_id = ? AND q.video_id = ? ORDER BY q.id",
            (CATALOG_GUILD, video_id),
        )
        return [quote_from(row) for row in rows]


class SQLiteQuoteWrites(SQLiteQuoteReads):
    def __init__(self, conn: Executes) -> None:
        super().__init__(conn)
        self._writer = conn

    async def add(
        self,
        *,
        guild_id: int,
        text: str,
        created_at: int,
        video_id: int | None = None,
        said_by: str | None = None,
        source_url: str | None = None,
        saved_by: int | None = None,
        author_id: int | None = None,
        is_sample: bool = False,
    ) -> Quote:
        slot = await self._size(guild_id, None) + 1
        video_slot = await self._size(guild_id, video_id) + 1 if video_id is not None else None
        [row] = await self._writer.fetchall(
            "INSERT INTO quotes (guild_id, video_id, text, said_by, source_url, saved_by, "
            "author_id, is_sample, created_at, slot, video_slot) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                guild_id,
                video_id,
                text,
                said_by,
                source_url,
                saved_by,
                author_id,
                int(is_sample),
                created_at,
                slot,
                video_slot,
            ),
        )
        quote = await self.get(int(row["id"]))
        assert quote is not None
        return quote

    async def remove(self, quote_id: int) -> Quote:
        """Delete a quote and close the gap it leaves in its scope's slot numbers."""
        quote = await self.get(quote_id)
        if quote is None:
            raise NotFoundError(f"There is no quote #{quote_id}.")
        [row] = await self._writer.fetchall(
            "DELETE FROM quotes WHERE id = ? RETURNING slot, video_slot", (quote_id,)
        )
        slot, video_slot = row["slot"], row["video_slot"]
        last = await self._size(quote.guild_id, None)
        if slot < last:
            await self._writer.execute(
                "UPDATE quotes SET slot = ? WHERE guild_id = ? AND slot = ?",
                (slot, quote.guild_id, last),
            )
        if quote.video_id is not None:
            last_video = await self._size(quote.guild_id, quote.video_id)
            if video_slot < last_video:
                await self._writer.execute(
                    "UPDATE quotes SET video_slot = ? "
                    "WHERE guild_id = ? AND video_id = ? AND video_slot = ?",
                    (video_slot, quote.guild_id, quote.video_id, last_video),
                )
        return quote
