"""Quotes: saved by members of a server (guild_id > 0) or shipped with the catalog (guild_id 0).

Each scope numbers its quotes 1..n in `slot` (and per video in `video_slot`) with no gaps:
adding takes slot n+1, removing moves the last quote into the freed slot. A random quote is
then a random slot number and one index probe, uniform and independent of table size.
Reading n and writing n+1 is safe only if no other transaction does the same meanwhile:
every add and remove first takes the server's quote lock (bot/db/postgres/locks.py).
"""

from __future__ import annotations

import random

from bot.db.models import CATALOG_GUILD, Quote
from bot.db.postgres.connections import Executes, Queries
from bot.db.postgres.locks import Kind, Locks
from bot.errors import NotFoundError

_COLUMNS = (
    "q.id, q.guild_id, q.text, q.created_at, q.video_id, v.title AS video_title, q.said_by, "
    "q.source_url, q.saved_by, q.author_id, q.is_sample"
)
_FROM = "FROM quotes AS q LEFT JOIN videos AS v ON v.id = q.video_id"

# The scope is the server if it has a matching quote, else the catalog (guild 0).
_RANDOM = f"""
WITH own (n) AS (SELECT max(slot) FROM quotes WHERE guild_id = $1),
scope (g, n) AS (
    SELECT CASE WHEN own.n IS NULL THEN 0 ELSE $1 END,
           coalesce(own.n, (SELECT max(slot) FROM quotes WHERE guild_id = 0)) FROM own)
SELECT {_COLUMNS} FROM scope
JOIN quotes AS q ON q.guild_id = scope.g AND q.slot = 1 + floor($2::float8 * scope.n)::integer
LEFT JOIN videos AS v ON v.id = q.video_id
"""
_RANDOM_OF_VIDEO = f"""
WITH own (n) AS (SELECT max(video_slot) FROM quotes WHERE guild_id = $1 AND video_id = $3),
scope (g, n) AS (
    SELECT CASE WHEN own.n IS NULL THEN 0 ELSE $1 END,
           coalesce(own.n, (SELECT max(video_slot) FROM quotes
                            WHERE guild_id = 0 AND video_id = $3)) FROM own)
SELECT {_COLUMNS} FROM scope
JOIN quotes AS q ON q.guild_id = scope.g AND q.video_id = $3
    AND q.video_slot = 1 + floor($2::float8 * scope.n)::integer
LEFT JOIN videos AS v ON v.id = q.video_id
"""
# The next slots are read in the same statement that takes them, under the quote lock.
_ADD = f"""
WITH added AS (
    INSERT INTO quotes (guild_id, video_id, text, said_by, source_url, saved_by, author_id,
                        is_sample, created_at, slot, video_slot)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
        (SELECT coalesce(max(slot), 0) + 1 FROM quotes WHERE guild_id = $1),
        CASE WHEN $2::bigint IS NOT NULL THEN (SELECT coalesce(max(video_slot), 0) + 1
            FROM quotes WHERE guild_id = $1 AND video_id = $2) END)
    RETURNING *)
SELECT {_COLUMNS} FROM added AS q LEFT JOIN videos AS v ON v.id = q.video_id
"""


class PostgresQuoteLookups:
    def __init__(self, conn: Queries) -> None:
        self.conn = conn

    async def _one(self, sql: str, *args: object) -> Quote | None:
        row = await self.conn.fetchrow(sql, *args)
        return Quote(*row) if row is not None else None

    async def get(self, quote_id: int) -> Quote | None:
        return await self._one(f"SELECT {_COLUMNS} {_FROM} WHERE q.id = $1", quote_id)

    async def of_message(self, guild_id: int, author_id: int, source_url: str) -> Quote | None:
        """The quote already saved from this message, if any: one probe of quotes_by_author
        (server, author, link)."""
        return await self._one(
            f"SELECT {_COLUMNS} {_FROM} WHERE q.guild_id = $1 AND q.author_id = $2 "
            "AND q.source_url = $3 LIMIT 1",
            guild_id,
            author_id,
            source_url,
        )

    async def in_guild(self, guild_id: int, quote_id: int) -> Quote:
        """A quote that this server can see: its own or the catalog's."""
        quote = await self.get(quote_id)
        if quote is None or quote.guild_id not in (guild_id, CATALOG_GUILD):
            raise NotFoundError(f"There is no quote #{quote_id} in this server.")
        return quote

    async def random(
        self, guild_id: int, video_id: int | None = None, rng: random.Random | None = None
    ) -> Quote | None:
        """A uniformly random quote of this server (of one video, if given); the catalog's
        when the server has none. One statement: the scope's size by index, then the row
        at a random slot."""
        fraction = (rng or random).random()
        if video_id is None:
            return await self._one(_RANDOM, guild_id, fraction)
        return await self._one(_RANDOM_OF_VIDEO, guild_id, fraction, video_id)

    async def count(self, guild_id: int, video_id: int | None = None) -> int:
        """How many quotes the scope holds: its highest slot, one index probe."""
        if video_id is None:
            n = await self.conn.fetchval(
                "SELECT max(slot) FROM quotes WHERE guild_id = $1", guild_id
            )
        else:
            n = await self.conn.fetchval(
                "SELECT max(video_slot) FROM quotes WHERE guild_id = $1 AND video_id = $2",
                guild_id,
                video_id,
            )
        return int(n or 0)


class PostgresQuoteReads(PostgresQuoteLookups):
    async def catalog_quotes(self, video_id: int) -> list[Quote]:
        rows = await self.conn.fetch(
            f"SELECT {_COLUMNS} {_FROM} WHERE q.guild_id = $1 AND q.video_id = $2 ORDER BY q.id",
            CATALOG_GUILD,
            video_id,
        )
        return [Quote(*row) for row in rows]


class PostgresQuoteWrites(PostgresQuoteReads):
    def __init__(self, conn: Executes, locks: Locks) -> None:
        super().__init__(conn)
        self.writer = conn
        self.locks = locks

    async def of_message(self, guild_id: int, author_id: int, source_url: str) -> Quote | None:
        # Saving a message twice at once: the second save waits and then finds the first.
        await self.locks.hold(Kind.QUOTES, guild_id)
        return await super().of_message(guild_id, author_id, source_url)

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
        await self.locks.hold(Kind.QUOTES, guild_id)
        quote = await self._one(
            _ADD,
            guild_id,
            video_id,
            text,
            said_by,
            source_url,
            saved_by,
            author_id,
            is_sample,
            created_at,
        )
        assert quote is not None
        return quote

    async def remove(self, quote_id: int) -> Quote:
        """Delete a quote and close the gap it leaves in its scope's slot numbers."""
        quote = await self.get(quote_id)
        if quote is None:
            raise NotFoundError(f"There is no quote #{quote_id}.")
        # The daily cycle and schedules that name the quote change with it (ON DELETE).
        await self.locks.hold(Kind.QUOTES, quote.guild_id)
        await self.locks.hold(Kind.DAILY, quote.guild_id)
        row = await self.writer.fetchrow(
            "DELETE FROM quotes WHERE id = $1 RETURNING slot, video_slot", quote_id
        )
        if row is None:  # removed by another transaction while this one waited for the lock
            raise NotFoundError(f"There is no quote #{quote_id}.")
        # The last quote of the scope (read after the delete) moves into the freed slot.
        await self.writer.execute(
            "UPDATE quotes SET slot = $1 WHERE guild_id = $2 AND slot > $1 "
            "AND slot = (SELECT max(slot) FROM quotes WHERE guild_id = $2)",
            row[0],
            quote.guild_id,
        )
        if quote.video_id is not None:
            await self.writer.execute(
                "UPDATE quotes SET video_slot = $1 WHERE guild_id = $2 AND video_id = $3 "
                "AND video_slot > $1 AND video_slot = (SELECT max(video_slot) FROM quotes "
                "WHERE guild_id = $2 AND video_id = $3)",
                row[1],
                quote.guild_id,
                quote.video_id,
            )
        return quote
