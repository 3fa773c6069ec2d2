"""Video suggestions in PostgreSQL: members suggest links, catalog editors decide on them.

No advisory lock is needed: two members suggesting one link at once meet in the partial
unique index (the second insert waits for the first and then does nothing), and a decision
is one UPDATE of a row still waiting, so only the first of two decisions counts."""

from __future__ import annotations

from bot.db.models import APPROVED, PENDING, REJECTED, VideoSuggestion
from bot.db.postgres.connections import Executes, Queries
from bot.db.suggestions import COLUMNS, FROM, with_notes


class PostgresSuggestionReads:
    def __init__(self, conn: Queries) -> None:
        self.conn = conn

    async def _complete(
        self, where: str, *params: object, own: tuple[int, int] | None = None
    ) -> list[VideoSuggestion]:
        """The suggestions a WHERE clause picks, with their suggesters' notes (only the
        member's own when `own` names them: a member never reads another's note)."""
        rows = await self.conn.fetch(f"SELECT {COLUMNS} FROM {FROM} {where}", *params)
        if not rows:
            return []
        member = "" if own is None else "AND guild_id = $2 AND user_id = $3 "
        notes = await self.conn.fetch(
            "SELECT suggestion_id, note FROM video_suggesters "
            "WHERE suggestion_id = ANY($1::bigint[]) AND note IS NOT NULL "
            f"{member}ORDER BY suggestion_id, created_at, guild_id, user_id",
            [row[0] for row in rows],
            *(own or ()),
        )
        return with_notes(rows, [(row[0], row[1]) for row in notes])

    async def get(self, suggestion_id: int) -> VideoSuggestion | None:
        found = await self._complete("WHERE s.id = $1", suggestion_id)
        return found[0] if found else None

    async def waiting(
        self, *, after: int = 0, before: int | None = None, limit: int
    ) -> list[VideoSuggestion]:
        if before is None:
            return await self._complete(
                "WHERE s.status = 'pending' AND s.id > $1 ORDER BY s.id LIMIT $2", after, limit
            )
        found = await self._complete(
            "WHERE s.status = 'pending' AND s.id < $1 ORDER BY s.id DESC LIMIT $2", before, limit
        )
        return found[::-1]

    async def waiting_count(self) -> int:
        return int(
            await self.conn.fetchval(
                "SELECT count(*) FROM video_suggestions WHERE status = 'pending'"
            )
        )

    async def of_member(self, guild_id: int, user_id: int, limit: int) -> list[VideoSuggestion]:
        return await self._complete(
            "WHERE s.id IN (SELECT suggestion_id FROM video_suggesters "
            "WHERE guild_id = $1 AND user_id = $2) ORDER BY s.id DESC LIMIT $3",
            guild_id,
            user_id,
            limit,
            own=(guild_id, user_id),
        )

    async def waiting_of_member(self, guild_id: int, user_id: int) -> int:
        return int(
            await self.conn.fetchval(
                "SELECT count(*) FROM video_suggesters AS m JOIN video_suggestions AS s "
                "ON s.id = m.suggestion_id WHERE m.guild_id = $1 AND m.user_id = $2 "
                "AND s.status = 'pending'",
                guild_id,
                user_id,
            )
        )


class PostgresSuggestionWrites(PostgresSuggestionReads):
    def __init__(self, conn: Executes) -> None:
        super().__init__(conn)
        self.writer = conn

    async def suggest(
        self, *, url: str, guild_id: int, user_id: int, note: str | None, now: int
    ) -> tuple[VideoSuggestion, bool]:
        # Looked up first: an insert that meets the link would still draw (and skip) an id.
        find = "SELECT id FROM video_suggestions WHERE url = $1 AND status = 'pending'"
        suggestion_id = await self.writer.fetchval(find, url)
        if suggestion_id is None:
            suggestion_id = await self.writer.fetchval(
                "INSERT INTO video_suggestions (url, status, created_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (url) WHERE status = 'pending' DO NOTHING RETURNING id",
                url,
                PENDING,
                now,
            )
            # Another member's suggestion of the link got there first: join theirs.
            suggestion_id = suggestion_id or await self.writer.fetchval(find, url)
        joined = await self.writer.fetchval(
            "INSERT INTO video_suggesters (suggestion_id, guild_id, user_id, note, created_at) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1",
            suggestion_id,
            guild_id,
            user_id,
            note,
            now,
        )
        suggestion = await self.get(suggestion_id)
        assert suggestion is not None  # written just above, in this transaction
        return suggestion, joined is not None

    async def approve(
        self, url: str, video_id: int, now: int, *, rejected_since: int | None = None
    ) -> int:
        return int(
            await self.writer.fetchval(
                "WITH settled AS (UPDATE video_suggestions SET status = $1, video_id = $2, "
                "decided_at = $3, reason = NULL WHERE url = $4 AND (status = 'pending' OR "
                "(status = 'rejected' AND decided_at >= $5)) RETURNING 1) "
                "SELECT count(*) FROM settled",
                APPROVED,
                video_id,
                now,
                url,
                rejected_since,  # NULL matches no rejection
            )
        )

    async def reject(self, suggestion_id: int, reason: str, now: int) -> bool:
        rejected = await self.writer.fetchval(
            "UPDATE video_suggestions SET status = $1, reason = $2, decided_at = $3 "
            "WHERE id = $4 AND status = 'pending' RETURNING 1",
            REJECTED,
            reason,
            now,
            suggestion_id,
        )
        return rejected is not None
