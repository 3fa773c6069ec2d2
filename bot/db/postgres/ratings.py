"""Ratings (1..10, one per member per video per server) and their per-server aggregates.

The aggregates in video_scores and guild_scores are maintained by statement triggers in
the same transaction as every rating write (see migration 0001), so reads here never scan
ratings. Ratings are written only by the group commit, through `write_ratings`.
"""

from __future__ import annotations

from bot.db.group_commit import RatingRow
from bot.db.models import (
    MIN_RATINGS,
    NEUTRAL_MEAN,
    PRIOR_WEIGHT,
    RankedVideo,
    ScoreSummary,
    TopList,
    Video,
)
from bot.db.postgres.connections import Executes, Queries
from bot.db.postgres.rows import SCORES, VIDEO, summary_from

# Ranked on the aggregates alone (video_id breaks ties as v.id would), and only the rows
# kept are joined to their videos: joining first would read every rated video's row.
_TOP = f"""
WITH prior (m) AS (SELECT coalesce((SELECT total::float8 / count FROM guild_scores
                                    WHERE guild_id = $1 AND count > 0), $2::float8)),
ranked AS (
    SELECT s.video_id, s.count, s.total,
        ($3::float8 * prior.m + s.total) / ($3::float8 + s.count) AS weighted, prior.m
    FROM prior, video_scores AS s
    WHERE s.guild_id = $1 AND s.count >= $4
    ORDER BY weighted DESC, s.count DESC, s.video_id LIMIT $5
)
SELECT {", ".join(f"v.{c}" for c in VIDEO.split(", "))}, r.count, r.total, r.weighted, r.m
FROM ranked AS r JOIN videos AS v ON v.id = r.video_id
ORDER BY r.weighted DESC, r.count DESC, r.video_id
"""


async def write_ratings(conn: Executes, rows: list[RatingRow]) -> None:
    """Apply the ratings, each replacing the member's earlier score, in one statement.

    A member rating the same video twice in one batch keeps the later score (one row may
    be changed once per statement). Rows are written in key order, so two batches that
    share rows lock them in the same order and never wait on each other in a circle."""
    latest = {(r.guild_id, r.user_id, r.video_id): r for r in rows}
    ordered = [latest[key] for key in sorted(latest)]
    await conn.execute(
        "INSERT INTO ratings (guild_id, user_id, video_id, score, rated_at) "
        "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::smallint[], "
        "$5::bigint[]) "
        "ON CONFLICT (guild_id, user_id, video_id) "
        "DO UPDATE SET score = excluded.score, rated_at = excluded.rated_at",
        [r.guild_id for r in ordered],
        [r.user_id for r in ordered],
        [r.video_id for r in ordered],
        [r.score for r in ordered],
        [r.rated_at for r in ordered],
    )


class PostgresRatingLookups:
    def __init__(self, conn: Queries) -> None:
        self.conn = conn

    async def summaries(self, keys: set[tuple[int, int]]) -> dict[tuple[int, int], ScoreSummary]:
        """The aggregates of many (guild_id, video_id) pairs in one query."""
        pairs = sorted(keys)
        rows = await self.conn.fetch(
            f"SELECT s.guild_id, s.video_id, {SCORES} FROM unnest($1::bigint[], $2::bigint[]) "
            "AS wanted (g, v) JOIN video_scores AS s ON s.guild_id = wanted.g "
            "AND s.video_id = wanted.v",
            [g for g, _ in pairs],
            [v for _, v in pairs],
        )
        found = {(row[0], row[1]): summary_from(row[2:]) for row in rows}
        return {key: found.get(key, ScoreSummary()) for key in pairs}

    async def summary(self, guild_id: int, video_id: int) -> ScoreSummary:
        row = await self.conn.fetchrow(
            f"SELECT {SCORES} FROM video_scores WHERE guild_id = $1 AND video_id = $2",
            guild_id,
            video_id,
        )
        return summary_from(row[:] if row is not None else None)

    async def member_score(self, guild_id: int, video_id: int, user_id: int) -> int | None:
        score = await self.conn.fetchval(
            "SELECT score FROM ratings WHERE guild_id = $1 AND user_id = $2 AND video_id = $3",
            guild_id,
            user_id,
            video_id,
        )
        return int(score) if score is not None else None

    async def server_mean(self, guild_id: int) -> float | None:
        row = await self.conn.fetchrow(
            "SELECT count, total FROM guild_scores WHERE guild_id = $1", guild_id
        )
        return row[1] / row[0] if row is not None and row[0] else None


class PostgresRatingReads(PostgresRatingLookups):
    async def top(self, guild_id: int, limit: int) -> TopList:
        """Ranks every video the server rated at least MIN_RATINGS times: a scan of the
        server's aggregates, in one statement (the prior, the server's mean, inline)."""
        rows = await self.conn.fetch(
            _TOP, guild_id, NEUTRAL_MEAN, float(PRIOR_WEIGHT), MIN_RATINGS, limit
        )
        prior = rows[0][10] if rows else (await self.server_mean(guild_id) or NEUTRAL_MEAN)
        entries = [
            RankedVideo(video=Video(*row[:7]), count=row[7], mean=row[8] / row[7], weighted=row[9])
            for row in rows
        ]
        return TopList(
            entries=entries, prior_mean=prior, prior_weight=PRIOR_WEIGHT, min_ratings=MIN_RATINGS
        )
