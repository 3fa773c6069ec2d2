"""Daily quote posts: schedules, the per-day claims that make posting exactly-once, and the
cycle that keeps a quote from repeating before every quote has been posted."""

from __future__ import annotations

import json
import random

from bot.db.models import CATALOG_GUILD, DailyPost, DailySchedule, ShardSlice
from bot.db.sqlite.connections import Executes, Fetches
from bot.db.sqlite.rows import columns_of, read_into

_SCHEDULE = columns_of(DailySchedule)
_POST = columns_of(DailyPost)


# A server belongs to shard (guild_id >> 22) % count; no count means every shard.
_OF_SHARDS = (
    "(:shard_count IS NULL OR "
    "(guild_id >> 22) % :shard_count IN (SELECT value FROM json_each(:shard_ids)))"
)


def _shard_params(shards: ShardSlice | None) -> dict[str, object]:
    if shards is None:
        return {"shard_count": None, "shard_ids": "[]"}
    return {"shard_count": shards.count, "shard_ids": json.dumps(sorted(shards.ids))}


class SQLiteDailyReads:
    def __init__(self, conn: Fetches) -> None:
        self._conn = conn

    async def schedule(self, guild_id: int) -> DailySchedule | None:
        rows = await self._conn.fetchall(
            f"SELECT {_SCHEDULE} FROM daily_schedules WHERE guild_id = ?", (guild_id,)
        )
        return read_into(DailySchedule, rows[0]) if rows else None

    async def due(
        self, now: int, limit: int, shards: ShardSlice | None = None
    ) -> list[DailySchedule]:
        """Active schedules whose time has come, oldest first (one range scan of an index)."""
        rows = await self._conn.fetchall(
            f"SELECT {_SCHEDULE} FROM daily_schedules "
            f"WHERE paused_reason IS NULL AND due_at <= :now AND {_OF_SHARDS} "
            "ORDER BY due_at LIMIT :limit",
            {"now": now, "limit": limit, **_shard_params(shards)},
        )
        return [read_into(DailySchedule, row) for row in rows]

    async def next_due_at(self, shards: ShardSlice | None = None) -> int | None:
        [row] = await self._conn.fetchall(
            "SELECT min(due_at) AS due_at FROM daily_schedules "
            f"WHERE paused_reason IS NULL AND {_OF_SHARDS}",
            _shard_params(shards),
        )
        return int(row["due_at"]) if row["due_at"] is not None else None

    async def post(self, guild_id: int, local_date: str) -> DailyPost | None:
        rows = await self._conn.fetchall(
            f"SELECT {_POST} FROM daily_posts WHERE guild_id = ? AND local_date = ?",
            (guild_id, local_date),
        )
        return read_into(DailyPost, rows[0]) if rows else None

    async def last_sent(self, guild_id: int) -> DailyPost | None:
        rows = await self._conn.fetchall(
            f"SELECT {_POST} FROM daily_posts WHERE guild_id = ? AND status = 'sent' "
            "ORDER BY local_date DESC LIMIT 1",
            (guild_id,),
        )
        return read_into(DailyPost, rows[0]) if rows else None

    # The quote cycle

    async def _pool(self, guild_id: int) -> int:
        """The server's own quotes if it has any, else the catalog's."""
        rows = await self._conn.fetchall(
            "SELECT 1 FROM quotes WHERE guild_id = ? LIMIT 1", (guild_id,)
        )
        return guild_id if rows else CATALOG_GUILD

    async def unposted_count(self, guild_id: int) -> int:
        pool = await self._pool(guild_id)
        [row] = await self._conn.fetchall(
            "SELECT count(*) AS n FROM quotes AS q WHERE q.guild_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM daily_cycle AS c WHERE c.guild_id = ? AND c.quote_id = q.id)",
            (pool, guild_id),
        )
        return int(row["n"])


class SQLiteDailyWrites(SQLiteDailyReads):
    def __init__(self, conn: Executes) -> None:
        super().__init__(conn)
        self._writer = conn

    async def save_schedule(
        self,
        *,
        guild_id: int,
        channel_id: int,
        post_time: str,
        timezone: str,
        next_local_date: str,
        due_at: int,
        updated_by: int,
        now: int,
    ) -> None:
        """Create or replace a server's schedule; this also un-pauses it."""
        await self._writer.execute(
            "INSERT INTO daily_schedules (guild_id, channel_id, post_time, timezone, "
            "next_local_date, due_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id, "
            "post_time = excluded.post_time, timezone = excluded.timezone, "
            "next_local_date = excluded.next_local_date, due_at = excluded.due_at, "
            "paused_reason = NULL, last_error = NULL, last_error_at = NULL, "
            "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            (guild_id, channel_id, post_time, timezone, next_local_date, due_at, updated_by, now),
        )

    async def delete_schedule(self, guild_id: int) -> bool:
        deleted = await self._writer.fetchall(
            "DELETE FROM daily_schedules WHERE guild_id = ? RETURNING guild_id", (guild_id,)
        )
        return bool(deleted)

    async def delete_schedules_in_channel(self, channel_id: int) -> int:
        deleted = await self._writer.fetchall(
            "DELETE FROM daily_schedules WHERE channel_id = ? RETURNING guild_id", (channel_id,)
        )
        return len(deleted)

    async def move_to(self, guild_id: int, next_local_date: str, due_at: int) -> None:
        await self._writer.execute(
            "UPDATE daily_schedules SET next_local_date = ?, due_at = ? WHERE guild_id = ?",
            (next_local_date, due_at, guild_id),
        )

    async def retry_at(self, guild_id: int, due_at: int) -> None:
        await self._writer.execute(
            "UPDATE daily_schedules SET due_at = ? WHERE guild_id = ?", (due_at, guild_id)
        )

    async def pause(self, guild_id: int, reason: str, now: int) -> None:
        await self._writer.execute(
            "UPDATE daily_schedules SET paused_reason = ?, last_error = ?, last_error_at = ? "
            "WHERE guild_id = ?",
            (reason, reason, now, guild_id),
        )

    async def note_error(self, guild_id: int, error: str | None, now: int) -> None:
        await self._writer.execute(
            "UPDATE daily_schedules SET last_error = ?, last_error_at = ? WHERE guild_id = ?",
            (error, now if error else None, guild_id),
        )

    async def set_next_quote(self, guild_id: int, quote_id: int | None) -> None:
        await self._writer.execute(
            "UPDATE daily_schedules SET next_quote_id = ? WHERE guild_id = ?",
            (quote_id, guild_id),
        )

    # Posts (one per server per local day)

    async def record_post(
        self,
        *,
        guild_id: int,
        local_date: str,
        status: str,
        nonce: str,
        now: int,
        quote_id: int | None = None,
        channel_id: int | None = None,
        claimed_by: str | None = None,
        lease_until: int | None = None,
        message_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        await self._writer.execute(
            "INSERT INTO daily_posts (guild_id, local_date, status, quote_id, channel_id, nonce, "
            "claimed_by, lease_until, message_id, detail, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, local_date) DO UPDATE "
            "SET status = excluded.status, quote_id = excluded.quote_id, "
            "channel_id = excluded.channel_id, claimed_by = excluded.claimed_by, "
            "lease_until = excluded.lease_until, message_id = excluded.message_id, "
            "detail = excluded.detail, updated_at = excluded.updated_at",
            (
                guild_id,
                local_date,
                status,
                quote_id,
                channel_id,
                nonce,
                claimed_by,
                lease_until,
                message_id,
                detail,
                now,
            ),
        )

    async def take_over_claim(
        self, guild_id: int, local_date: str, owner: str, lease_until: int
    ) -> int | None:
        """Hold an earlier attempt's claim under a new lease; returns when that attempt
        claimed the day (its updated_at, which this leaves as it was), or None when the
        day is no longer claimed."""
        rows = await self._writer.fetchall(
            "UPDATE daily_posts SET claimed_by = ?, lease_until = ? "
            "WHERE guild_id = ? AND local_date = ? AND status = 'claimed' RETURNING updated_at",
            (owner, lease_until, guild_id, local_date),
        )
        return int(rows[0]["updated_at"]) if rows else None

    # The quote cycle

    async def choose_quote(self, guild_id: int, rng: random.Random | None = None) -> int | None:
        """A random quote not yet posted in this cycle; starts a new cycle when none is left.

        This walks one server's quotes, once a day per server: it is not on any hot path.
        """
        pool = await self._pool(guild_id)
        remaining = await self.unposted_count(guild_id)
        if remaining == 0:
            await self._writer.execute("DELETE FROM daily_cycle WHERE guild_id = ?", (guild_id,))
            remaining = await self.unposted_count(guild_id)
            if remaining == 0:
                return None
        offset = (rng or random).randrange(remaining)
        rows = await self._writer.fetchall(
            "SELECT q.id FROM quotes AS q WHERE q.guild_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM daily_cycle AS c WHERE c.guild_id = ? AND c.quote_id = q.id) "
            "ORDER BY q.slot LIMIT 1 OFFSET ?",
            (pool, guild_id, offset),
        )
        return int(rows[0]["id"]) if rows else None

    async def mark_posted(self, guild_id: int, quote_id: int) -> None:
        await self._writer.execute(
            "INSERT OR IGNORE INTO daily_cycle (guild_id, quote_id) VALUES (?, ?)",
            (guild_id, quote_id),
        )
