"""Ratings (1..10, one per member per video per server) and their per-server aggregates.

The aggregates in video_scores and guild_scores are maintained by triggers in the same
transaction as every rating write (see migration 0001), so reads here never scan ratings.
"""

from __future__ import annotations

import json

import aiosqlite

from bot.db.models import RankedVideo, ScoreSummary, TopList, Video
from bot.db.sqlite.rows import as_json_array, json_rows
from bot.errors import UserFacingError

_HISTOGRAM = ", ".join(f"s{k}" for k in range(1, 11))

# /top: a Bayesian mean pulls a video's mean toward the server's overall mean with the
# weight of PRIOR_WEIGHT ratings, so one 10/10 does not outrank fifty 9/10s.
PRIOR_WEIGHT = 5
MIN_RATINGS = 3
# Used as the prior before a server has any rating at all: the middle of the 1..10 scale.
NEUTRAL_MEAN = 5.5


class RatingQueries:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def rate(
        self, *, guild_id: int, video_id: int, user_id: int, score: int, rated_at: str
    ) -> ScoreSummary:
        """Set a member's score for a video, replacing any earlier one.

        Returns the video's server aggregate including this write.
        """
        if not 1 <= score <= 10:
            raise UserFacingError("A score is a whole number from 1 to 10.")
        await self.rate_many([(guild_id, video_id, user_id, score, rated_at)])
        return await self.summary(guild_id, video_id)

    async def rate_many(self, rows: list[tuple[int, int, int, int, str]]) -> None:
        """(guild_id, video_id, user_id, score, rated_at) rows, applied in order; rated_at is
        an ISO 8601 time, stored as Unix seconds.

        One statement over a JSON array: SQLite runs the whole batch in one call, where
        executemany would hand the GIL back and forth once per row (each hand-back can wait
        a whole switch interval while the event loop is busy)."""
        await self.conn.execute(
            "INSERT INTO ratings (guild_id, video_id, user_id, score, rated_at) "
            "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, unixepoch(value ->> 4) "
            # WHERE true: without it SQLite would read ON CONFLICT as part of the join.
            "FROM json_each(?) WHERE true ORDER BY key "
            "ON CONFLICT (guild_id, user_id, video_id) "
            "DO UPDATE SET score = excluded.score, rated_at = excluded.rated_at",
            (json.dumps(rows),),
        )

    async def summaries(self, keys: set[tuple[int, int]]) -> dict[tuple[int, int], ScoreSummary]:
        """The aggregates of many (guild_id, video_id) pairs in one query."""
        if not keys:
            return {}
        pairs = list(keys)
        # CROSS JOIN keeps the wanted pairs as the outer loop, so each is one primary-key
        # lookup; one fixed statement whatever the number of pairs, one JSON row back.
        rows = await json_rows(
            self.conn,
            as_json_array(
                f"guild_id, video_id, count, total, {_HISTOGRAM}",
                f"SELECT s.guild_id, s.video_id, s.count, s.total, {_HISTOGRAM} "
                "FROM json_each(?) AS wanted CROSS JOIN video_scores AS s "
                "ON s.guild_id = wanted.value ->> 0 AND s.video_id = wanted.value ->> 1",
            ),
            (json.dumps(pairs),),
        )
        found = {
            (row[0], row[1]): ScoreSummary(count=row[2], total=row[3], histogram=tuple(row[4:14]))
            for row in rows
        }
        return {key: found.get(key, ScoreSummary()) for key in pairs}

    async def summary(self, guild_id: int, video_id: int) -> ScoreSummary:
        rows = list(
            await self.conn.execute_fetchall(
                f"SELECT count, total, {_HISTOGRAM} FROM video_scores "
                "WHERE guild_id = ? AND video_id = ?",
                (guild_id, video_id),
            )
        )
        if not rows:
            return ScoreSummary()
        row = rows[0]
        return ScoreSummary(count=row[0], total=row[1], histogram=tuple(row[2:12]))

    async def member_score(self, guild_id: int, video_id: int, user_id: int) -> int | None:
        rows = list(
            await self.conn.execute_fetchall(
                "SELECT score FROM ratings WHERE guild_id = ? AND video_id = ? AND user_id = ?",
                (guild_id, video_id, user_id),
            )
        )
        return int(rows[0][0]) if rows else None

    async def server_mean(self, guild_id: int) -> float | None:
        rows = list(
            await self.conn.execute_fetchall(
                "SELECT count, total FROM guild_scores WHERE guild_id = ?", (guild_id,)
            )
        )
        return rows[0][1] / rows[0][0] if rows and rows[0][0] else None

    async def top(self, guild_id: int, limit: int) -> TopList:
        # One statement: the prior (the server's mean) is computed inline.
        rows = await json_rows(
            self.conn,
            "WITH prior (m) AS (SELECT coalesce((SELECT CAST(total AS REAL) / count "
            "FROM guild_scores WHERE guild_id = :guild AND count > 0), :neutral)) "
            + as_json_array(
                "id, slug, title, artist, album, year, url, count, total, weighted, m",
                "SELECT v.id, v.slug, v.title, v.artist, v.album, v.year, v.url, s.count, "
                "s.total, (:weight * prior.m + s.total) / (:weight + s.count) AS weighted, "
                "prior.m FROM prior, video_scores AS s JOIN videos AS v ON v.id = s.video_id "
                "WHERE s.guild_id = :guild AND s.count >= :least "
                "ORDER BY weighted DESC, s.count DESC, v.id LIMIT :limit",
            ),
            {
                "guild": guild_id,
                "neutral": NEUTRAL_MEAN,
                "weight": float(PRIOR_WEIGHT),
                "least": MIN_RATINGS,
                "limit": limit,
            },
        )
        prior = rows[0][10] if rows else (await self.server_mean(guild_id) or NEUTRAL_MEAN)
        entries = [
            RankedVideo(video=Video(*row[:7]), count=row[7], mean=row[8] / row[7], weighted=row[9])
            for row in rows
        ]
        return TopList(
            entries=entries, prior_mean=prior, prior_weight=PRIOR_WEIGHT, min_ratings=MIN_RATINGS
        )
