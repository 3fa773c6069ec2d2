"""Ratings (1..10, one per member per video per server) and their per-server aggregates.

The aggregates in video_scores and guild_scores are maintained by triggers in the same
transaction as every rating write (see migration 0001), so reads here never scan ratings.
"""

from __future__ import annotations

import aiosqlite

from bot.db.models import RankedVideo, ScoreSummary, TopList, Video
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
        await self.conn.execute(
            "INSERT INTO ratings (guild_id, video_id, user_id, score, rated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, video_id, user_id) "
            "DO UPDATE SET score = excluded.score, rated_at = excluded.rated_at",
            (guild_id, video_id, user_id, score, rated_at),
        )
        return await self.summary(guild_id, video_id)

    async def rate_many(self, rows: list[tuple[int, int, int, int, str]]) -> None:
        """(guild_id, video_id, user_id, score, rated_at) rows, in order, in one statement."""
        await self.conn.executemany(
            "INSERT INTO ratings (guild_id, video_id, user_id, score, rated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, video_id, user_id) "
            "DO UPDATE SET score = excluded.score, rated_at = excluded.rated_at",
            rows,
        )

    async def summaries(self, keys: set[tuple[int, int]]) -> dict[tuple[int, int], ScoreSummary]:
        """The aggregates of many (guild_id, video_id) pairs in one query."""
        if not keys:
            return {}
        pairs = list(keys)
        values = ", ".join("(?, ?)" for _ in pairs)
        async with self.conn.execute(
            f"SELECT guild_id, video_id, count, total, {_HISTOGRAM} FROM video_scores "
            f"WHERE (guild_id, video_id) IN (VALUES {values})",
            [n for pair in pairs for n in pair],
        ) as cur:
            found = {
                (row[0], row[1]): ScoreSummary(
                    count=row[2], total=row[3], histogram=tuple(row[4:14])
                )
                for row in await cur.fetchall()
            }
        return {key: found.get(key, ScoreSummary()) for key in pairs}

    async def summary(self, guild_id: int, video_id: int) -> ScoreSummary:
        async with self.conn.execute(
            f"SELECT count, total, {_HISTOGRAM} FROM video_scores "
            "WHERE guild_id = ? AND video_id = ?",
            (guild_id, video_id),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return ScoreSummary()
        return ScoreSummary(count=row[0], total=row[1], histogram=tuple(row[2:12]))

    async def member_score(self, guild_id: int, video_id: int, user_id: int) -> int | None:
        async with self.conn.execute(
            "SELECT score FROM ratings WHERE guild_id = ? AND video_id = ? AND user_id = ?",
            (guild_id, video_id, user_id),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else None

    async def server_mean(self, guild_id: int) -> float | None:
        async with self.conn.execute(
            "SELECT count, total FROM guild_scores WHERE guild_id = ?", (guild_id,)
        ) as cur:
            row = await cur.fetchone()
        return row[1] / row[0] if row and row[0] else None

    async def top(self, guild_id: int, limit: int) -> TopList:
        prior = await self.server_mean(guild_id) or NEUTRAL_MEAN
        async with self.conn.execute(
            "SELECT v.id, v.slug, v.title, v.artist, v.album, v.year, v.url, s.count, s.total, "
            "(? * ? + s.total) / (? + s.count) AS weighted "
            "FROM video_scores AS s JOIN videos AS v ON v.id = s.video_id "
            "WHERE s.guild_id = ? AND s.count >= ? "
            "ORDER BY weighted DESC, s.count DESC, v.id LIMIT ?",
            (PRIOR_WEIGHT, prior, float(PRIOR_WEIGHT), guild_id, MIN_RATINGS, limit),
        ) as cur:
            rows = await cur.fetchall()
        entries = [
            RankedVideo(video=Video(*row[:7]), count=row[7], mean=row[8] / row[7], weighted=row[9])
            for row in rows
        ]
        return TopList(
            entries=entries, prior_mean=prior, prior_weight=PRIOR_WEIGHT, min_ratings=MIN_RATINGS
        )
