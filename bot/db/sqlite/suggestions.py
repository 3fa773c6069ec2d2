"""Video suggestions in SQLite: members suggest links, catalog editors decide on them."""

from __future__ import annotations

import json

from bot.db.models import APPROVED, PENDING, REJECTED, VideoSuggestion
from bot.db.sqlite.connections import Executes, Fetches
from bot.db.suggestions import COLUMNS, FROM, with_notes


class SQLiteSuggestionReads:
    def __init__(self, conn: Fetches) -> None:
        self._conn = conn

    async def _complete(
        self, where: str, params: tuple[object, ...], *, own: tuple[int, int] | None = None
    ) -> list[VideoSuggestion]:
        """The suggestions a WHERE clause picks, with their suggesters' notes (only the
        member's own when `own` names them: a member never reads another's note)."""
        rows = await self._conn.fetchall(f"SELECT {COLUMNS} FROM {FROM} {where}", params)
        if not rows:
            return []
        ids = json.dumps([row[0] for row in rows])
        member = "" if own is None else "AND guild_id = ? AND user_id = ? "
        notes = await self._conn.fetchall(
            "SELECT suggestion_id, note FROM video_suggesters "
            "WHERE suggestion_id IN (SELECT value FROM json_each(?)) AND note IS NOT NULL "
            f"{member}ORDER BY suggestion_id, created_at, guild_id, user_id",
            (ids, *(own or ())),
        )
        return with_notes(rows, [(row[0], row[1]) for row in notes])

    async def get(self, suggestion_id: int) -> VideoSuggestion | None:
        found = await self._complete("WHERE s.id = ?", (suggestion_id,))
        return found[0] if found else None

    async def waiting(
        self, *, after: int = 0, before: int | None = None, limit: int
    ) -> list[VideoSuggestion]:
        if before is None:
            return await self._complete(
                "WHERE s.status = 'pending' AND s.id > ? ORDER BY s.id LIMIT ?", (after, limit)
            )
        found = await self._complete(
            "WHERE s.status = 'pending' AND s.id < ? ORDER BY s.id DESC LIMIT ?", (before, limit)
        )
        return found[::-1]

    async def waiting_count(self) -> int:
        [row] = await self._conn.fetchall(
            "SELECT count(*) FROM video_suggestions WHERE status = 'pending'"
        )
        return int(row[0])

    async def of_member(self, guild_id: int, user_id: int, limit: int) -> list[VideoSuggestion]:
        return await self._complete(
            "WHERE s.id IN (SELECT suggestion_id FROM video_suggesters "
            "WHERE guild_id = ? AND user_id = ?) ORDER BY s.id DESC LIMIT ?",
            (guild_id, user_id, limit),
            own=(guild_id, user_id),
        )

    async def waiting_of_member(self, guild_id: int, user_id: int) -> int:
        [row] = await self._conn.fetchall(
            "SELECT count(*) FROM video_suggesters AS m JOIN video_suggestions AS s "
            "ON s.id = m.suggestion_id WHERE m.guild_id = ? AND m.user_id = ? "
            "AND s.status = 'pending'",
            (guild_id, user_id),
        )
        return int(row[0])


class SQLiteSuggestionWrites(SQLiteSuggestionReads):
    def __init__(self, conn: Executes) -> None:
        super().__init__(conn)
        self._writer = conn

    async def suggest(
        self, *, url: str, guild_id: int, user_id: int, note: str | None, now: int
    ) -> tuple[VideoSuggestion, bool]:
        await self._writer.execute(
            "INSERT INTO video_suggestions (url, status, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (url) WHERE status = 'pending' DO NOTHING",
            (url, PENDING, now),
        )
        [(suggestion_id,)] = await self._writer.fetchall(
            "SELECT id FROM video_suggestions WHERE url = ? AND status = 'pending'", (url,)
        )
        joined = await self._writer.fetchall(
            "INSERT INTO video_suggesters (suggestion_id, guild_id, user_id, note, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1",
            (suggestion_id, guild_id, user_id, note, now),
        )
        suggestion = await self.get(suggestion_id)
        assert suggestion is not None  # written just above, in this transaction
        return suggestion, bool(joined)

    async def approve(
        self, url: str, video_id: int, now: int, *, rejected_since: int | None = None
    ) -> int:
        rows = await self._writer.fetchall(
            "UPDATE video_suggestions SET status = ?, video_id = ?, decided_at = ?, reason = NULL "
            "WHERE url = ? AND (status = 'pending' OR (status = 'rejected' AND decided_at >= ?)) "
            "RETURNING 1",
            (APPROVED, video_id, now, url, rejected_since),  # NULL matches no rejection
        )
        return len(rows)

    async def reject(self, suggestion_id: int, reason: str, now: int) -> bool:
        rows = await self._writer.fetchall(
            "UPDATE video_suggestions SET status = ?, reason = ?, decided_at = ? "
            "WHERE id = ? AND status = 'pending' RETURNING 1",
            (REJECTED, reason, now, suggestion_id),
        )
        return bool(rows)
