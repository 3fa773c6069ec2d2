"""Ratings (1..10, one per member per video per server) and their per-server aggregates.

The aggregates in video_scores and guild_scores are maintained by triggers in the same
transaction as every rating write (see migration 0001), so reads here never scan ratings.
Ratings are written only by the group commit (bot/db/group_commit.py), through
`rating_writes`.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, fields

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
from bot.db.sqlite.connections import Fetches, Statement
from bot.db.sqlite.rows import (
    VIDEO_FIELDS,
    Named,
    as_json_array,
    json_rows,
    models_from_json,
    read_into,
)

HISTOGRAM = [f"s{k}" for k in range(1, 11)]
_HISTOGRAM = ", ".join(HISTOGRAM)


def rating_writes(rows: list[RatingRow]) -> Statement:
    """Apply the ratings in order, each replacing the member's earlier score.

    One statement over a JSON array: SQLite runs the whole batch in one call, where
    executemany would hand the GIL back and forth once per row (each hand-back can wait a
    whole switch interval while the event loop is busy)."""
    return Statement(
        "INSERT INTO ratings (guild_id, video_id, user_id, score, rated_at) "
        "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 "
        # WHERE true: without it SQLite would read ON CONFLICT as part of the join.
        "FROM json_each(?) WHERE true ORDER BY key "
        "ON CONFLICT (guild_id, user_id, video_id) "
        "DO UPDATE SET score = excluded.score, rated_at = excluded.rated_at",
        (json.dumps(rows),),
    )


@dataclass(frozen=True, slots=True)
class _VideoScores:
    """One row of video_scores as the group commit reads it back, many at once."""

    guild_id: int
    video_id: int
    count: int
    total: int
    histogram: list[int]


# Each of _VideoScores' fields as the statement computes it, in the dataclass's order; the
# rows are built in place (no subquery), so the histogram stays JSON without a re-parse.
_SCORE_PARTS = {
    "guild_id": "s.guild_id",
    "video_id": "s.video_id",
    "count": "s.count",
    "total": "s.total",
    "histogram": f"json_array({', '.join(f's.{h}' for h in HISTOGRAM)})",
}
_SUMMARIES = (
    "SELECT json_group_array(json_array("
    + ", ".join(_SCORE_PARTS[field.name] for field in fields(_VideoScores))
    + ")) FROM json_each(?) AS wanted CROSS JOIN video_scores AS s "
    "ON s.guild_id = wanted.value ->> 0 AND s.video_id = wanted.value ->> 1"
)


def _summary_from(row: Named) -> ScoreSummary:
    return ScoreSummary(
        count=row["count"], total=row["total"], histogram=tuple(row[h] for h in HISTOGRAM)
    )


def summaries_query(keys: set[tuple[int, int]]) -> Statement:
    """The aggregates of many (guild_id, video_id) pairs in one statement, for the group
    commit's answers. CROSS JOIN keeps the wanted pairs as the outer loop, so each is one
    primary-key lookup; one fixed statement whatever the number of pairs, one JSON row back."""
    return Statement(_SUMMARIES, (json.dumps(list(keys)),))


def summaries_read(
    rows: list[sqlite3.Row], keys: set[tuple[int, int]]
) -> dict[tuple[int, int], ScoreSummary]:
    """`summaries_query`'s answer, with an empty summary for a pair that has none."""
    found = {
        (s.guild_id, s.video_id): ScoreSummary(s.count, s.total, tuple(s.histogram))
        for s in models_from_json(_VideoScores, rows)
    }
    return {key: found.get(key, ScoreSummary()) for key in keys}


class SQLiteRatingLookups:
    def __init__(self, conn: Fetches) -> None:
        self._conn = conn

    async def summary(self, guild_id: int, video_id: int) -> ScoreSummary:
        rows = await self._conn.fetchall(
            f"SELECT count, total, {_HISTOGRAM} FROM video_scores "
            "WHERE guild_id = ? AND video_id = ?",
            (guild_id, video_id),
        )
        return _summary_from(rows[0]) if rows else ScoreSummary()

    async def member_score(self, guild_id: int, video_id: int, user_id: int) -> int | None:
        rows = await self._conn.fetchall(
            "SELECT score FROM ratings WHERE guild_id = ? AND video_id = ? AND user_id = ?",
            (guild_id, video_id, user_id),
        )
        return int(rows[0]["score"]) if rows else None

    async def server_mean(self, guild_id: int) -> float | None:
        rows = await self._conn.fetchall(
            "SELECT count, total FROM guild_scores WHERE guild_id = ?", (guild_id,)
        )
        return rows[0]["total"] / rows[0]["count"] if rows and rows[0]["count"] else None


class SQLiteRatingReads(SQLiteRatingLookups):
    async def top(self, guild_id: int, limit: int) -> TopList:
        """Ranks every video the server rated at least MIN_RATINGS times: a scan of the
        server's aggregates (20,000 rated videos take a few milliseconds), so off the loop."""
        columns = [*VIDEO_FIELDS, "count", "total", "weighted", "prior"]
        rows = await json_rows(
            self._conn,
            # One statement: the prior (the server's mean) is computed inline.
            "WITH prior (m) AS (SELECT coalesce((SELECT CAST(total AS REAL) / count "
            "FROM guild_scores WHERE guild_id = :guild AND count > 0), :neutral)), "
            # Ranked on the aggregates alone (video_id breaks ties as v.id would); only the
            # rows kept are joined to their videos.
            "ranked AS (SELECT s.video_id, s.count, s.total, "
            "(:weight * prior.m + s.total) / (:weight + s.count) AS weighted, prior.m AS prior "
            "FROM prior, video_scores AS s WHERE s.guild_id = :guild AND s.count >= :least "
            "ORDER BY weighted DESC, s.count DESC, s.video_id LIMIT :limit) "
            + as_json_array(
                columns,
                "SELECT v.id, v.slug, v.title, v.artist, v.album, v.year, v.url, r.count, "
                "r.total, r.weighted, r.prior FROM ranked AS r "
                "JOIN videos AS v ON v.id = r.video_id "
                "ORDER BY r.weighted DESC, r.count DESC, r.video_id",
            ),
            {
                "guild": guild_id,
                "neutral": NEUTRAL_MEAN,
                "weight": float(PRIOR_WEIGHT),
                "least": MIN_RATINGS,
                "limit": limit,
            },
        )
        prior = rows[0]["prior"] if rows else (await self.server_mean(guild_id) or NEUTRAL_MEAN)
        entries = [
            RankedVideo(
                video=read_into(Video, row),
                count=row["count"],
                mean=row["total"] / row["count"],
                weighted=row["weighted"],
            )
            for row in rows
        ]
        return TopList(
            entries=entries, prior_mean=prior, prior_weight=PRIOR_WEIGHT, min_ratings=MIN_RATINGS
        )
