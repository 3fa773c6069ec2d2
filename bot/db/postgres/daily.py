"""Daily quote posts: schedules, the per-day claims that make posting exactly-once, and the
cycle that keeps a quote from repeating before every quote has been posted.

The scheduler reads a server's schedule and its day's post, decides, and writes the claim
in one transaction (bot/daily.py). Two processes briefly owning the same shard (a rolling
deploy) must not both decide to post: in a transaction every query of this family first
takes the server's daily lock, so the second waits for the first to commit and then reads
its claim.
"""

from __future__ import annotations

import random

from bot.db.models import DailyPost, DailySchedule, ShardSlice
from bot.db.postgres.connections import Executes, Queries
from bot.db.postgres.locks import Kind, Locks

_SCHEDULE = (
    "guild_id, channel_id, post_time, timezone, next_local_date, due_at, next_quote_id, "
    "paused_reason, last_error, last_error_at"
)
_POST = (
    "guild_id, local_date, status, quote_id, channel_id, nonce, claimed_by, lease_until, "
    "message_id, detail"
)
# A server belongs to shard (guild_id >> 22) % count; no count means every shard.
_OF_SHARDS = "($1::integer IS NULL OR (guild_id >> 22) % $1 = ANY($2::integer[]))"
# The quotes a server's cycle draws from: its own if it has any, else the catalog's.
_UNPOSTED = """
FROM quotes AS q WHERE q.guild_id = (CASE WHEN EXISTS (SELECT FROM quotes WHERE guild_id = $1)
                                     THEN $1 ELSE 0 END)
AND NOT EXISTS (SELECT FROM daily_cycle AS c WHERE c.guild_id = $1 AND c.quote_id = q.id)
"""


def _shard_args(shards: ShardSlice | None) -> tuple[int | None, list[int]]:
    if shards is None:
        return None, []
    return shards.count, sorted(shards.ids)


class PostgresDailyReads:
    def __init__(self, conn: Queries) -> None:
        self.conn = conn

    async def schedule(self, guild_id: int) -> DailySchedule | None:
        row = await self.conn.fetchrow(
            f"SELECT {_SCHEDULE} FROM daily_schedules WHERE guild_id = $1", guild_id
        )
        return DailySchedule(*row) if row is not None else None

    async def due(
        self, now: int, limit: int, shards: ShardSlice | None = None
    ) -> list[DailySchedule]:
        """Active schedules whose time has come, oldest first (one range of an index)."""
        rows = await self.conn.fetch(
            f"SELECT {_SCHEDULE} FROM daily_schedules "
            f"WHERE paused_reason IS NULL AND due_at <= $3 AND {_OF_SHARDS} "
            "ORDER BY due_at LIMIT $4",
            *_shard_args(shards),
            now,
            limit,
        )
        return [DailySchedule(*row) for row in rows]

    async def next_due_at(self, shards: ShardSlice | None = None) -> int | None:
        due_at = await self.conn.fetchval(
            f"SELECT min(due_at) FROM daily_schedules WHERE paused_reason IS NULL AND {_OF_SHARDS}",
            *_shard_args(shards),
        )
        return int(due_at) if due_at is not None else None

    async def post(self, guild_id: int, local_date: str) -> DailyPost | None:
        row = await self.conn.fetchrow(
            f"SELECT {_POST} FROM daily_posts WHERE guild_id = $1 AND local_date = $2",
            guild_id,
            local_date,
        )
        return DailyPost(*row) if row is not None else None

    async def last_sent(self, guild_id: int) -> DailyPost | None:
        row = await self.conn.fetchrow(
            f"SELECT {_POST} FROM daily_posts WHERE guild_id = $1 AND status = 'sent' "
            "ORDER BY local_date DESC LIMIT 1",
            guild_id,
        )
        return DailyPost(*row) if row is not None else None

    async def unposted_count(self, guild_id: int) -> int:
        return int(await self.conn.fetchval(f"SELECT count(*) {_UNPOSTED}", guild_id))


class PostgresDailyWrites(PostgresDailyReads):
    def __init__(self, conn: Executes, locks: Locks) -> None:
        super().__init__(conn)
        self.writer = conn
        self.locks = locks

    async def _lock(self, guild_id: int) -> None:
        await self.locks.hold(Kind.DAILY, guild_id)

    # What a transaction reads of a server's daily state, it reads under the server's lock.

    async def schedule(self, guild_id: int) -> DailySchedule | None:
        await self._lock(guild_id)
        return await super().schedule(guild_id)

    async def post(self, guild_id: int, local_date: str) -> DailyPost | None:
        await self._lock(guild_id)
        return await super().post(guild_id, local_date)

    async def last_sent(self, guild_id: int) -> DailyPost | None:
        await self._lock(guild_id)
        return await super().last_sent(guild_id)

    async def unposted_count(self, guild_id: int) -> int:
        await self._lock(guild_id)
        return await super().unposted_count(guild_id)

    async def _update(self, guild_id: int, assignments: str, *values: object) -> None:
        """UPDATE daily_schedules SET `assignments` (whose values are $2, $3...) for one server."""
        await self._lock(guild_id)
        await self.writer.execute(
            f"UPDATE daily_schedules SET {assignments} WHERE guild_id = $1", guild_id, *values
        )

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
        await self._lock(guild_id)
        await self.writer.execute(
            "INSERT INTO daily_schedules (guild_id, channel_id, post_time, timezone, "
            "next_local_date, due_at, updated_by, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id, "
            "post_time = excluded.post_time, timezone = excluded.timezone, "
            "next_local_date = excluded.next_local_date, due_at = excluded.due_at, "
            "paused_reason = NULL, last_error = NULL, last_error_at = NULL, "
            "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            guild_id,
            channel_id,
            post_time,
            timezone,
            next_local_date,
            due_at,
            updated_by,
            now,
        )

    async def delete_schedule(self, guild_id: int) -> bool:
        await self._lock(guild_id)
        deleted = await self.writer.fetchval(
            "DELETE FROM daily_schedules WHERE guild_id = $1 RETURNING guild_id", guild_id
        )
        return deleted is not None

    async def delete_schedules_in_channel(self, channel_id: int) -> int:
        # One statement: it locks each schedule it deletes, whoever else is at work.
        return int(
            await self.writer.fetchval(
                "WITH gone AS (DELETE FROM daily_schedules WHERE channel_id = $1 RETURNING 1) "
                "SELECT count(*) FROM gone",
                channel_id,
            )
        )

    async def move_to(self, guild_id: int, next_local_date: str, due_at: int) -> None:
        await self._update(guild_id, "next_local_date = $2, due_at = $3", next_local_date, due_at)

    async def retry_at(self, guild_id: int, due_at: int) -> None:
        await self._update(guild_id, "due_at = $2", due_at)

    async def pause(self, guild_id: int, reason: str, now: int) -> None:
        await self._update(
            guild_id, "paused_reason = $2, last_error = $2, last_error_at = $3", reason, now
        )

    async def note_error(self, guild_id: int, error: str | None, now: int) -> None:
        await self._update(
            guild_id, "last_error = $2, last_error_at = $3", error, now if error else None
        )

    async def set_next_quote(self, guild_id: int, quote_id: int | None) -> None:
        await self._update(guild_id, "next_quote_id = $2", quote_id)

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
        await self._lock(guild_id)
        await self.writer.execute(
            "INSERT INTO daily_posts (guild_id, local_date, status, quote_id, channel_id, nonce, "
            "claimed_by, lease_until, message_id, detail, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
            "ON CONFLICT (guild_id, local_date) DO UPDATE "
            "SET status = excluded.status, quote_id = excluded.quote_id, "
            "channel_id = excluded.channel_id, claimed_by = excluded.claimed_by, "
            "lease_until = excluded.lease_until, message_id = excluded.message_id, "
            "detail = excluded.detail, updated_at = excluded.updated_at",
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
        )

    async def take_over_claim(
        self, guild_id: int, local_date: str, owner: str, lease_until: int
    ) -> int | None:
        """Hold an earlier attempt's claim under a new lease; returns when that attempt
        claimed the day (its updated_at, which this leaves as it was), or None when the
        day is no longer claimed."""
        await self._lock(guild_id)
        claimed_at = await self.writer.fetchval(
            "UPDATE daily_posts SET claimed_by = $3, lease_until = $4 "
            "WHERE guild_id = $1 AND local_date = $2 AND status = 'claimed' "
            "RETURNING updated_at",
            guild_id,
            local_date,
            owner,
            lease_until,
        )
        return int(claimed_at) if claimed_at is not None else None

    # The quote cycle

    async def choose_quote(self, guild_id: int, rng: random.Random | None = None) -> int | None:
        """A random quote not yet posted in this cycle; starts a new cycle when none is left.

        This walks one server's quotes, once a day per server: it is not on any hot path.
        """
        remaining = await self.unposted_count(guild_id)
        if remaining == 0:
            await self.writer.execute("DELETE FROM daily_cycle WHERE guild_id = $1", guild_id)
            remaining = await self.unposted_count(guild_id)
            if remaining == 0:
                return None
        offset = (rng or random).randrange(remaining)
        quote_id = await self.writer.fetchval(
            f"SELECT q.id {_UNPOSTED} ORDER BY q.slot LIMIT 1 OFFSET $2", guild_id, offset
        )
        return int(quote_id) if quote_id is not None else None

    async def mark_posted(self, guild_id: int, quote_id: int) -> None:
        await self._lock(guild_id)
        await self.writer.execute(
            "INSERT INTO daily_cycle (guild_id, quote_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            guild_id,
            quote_id,
        )
