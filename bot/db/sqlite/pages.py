"""The data of /review in one statement, for one request or many.

Each statement costs a round trip to aiosqlite's worker thread, or on the event loop's
connection a fixed cost in Python's sqlite3, so the page is read in one go: the video, its
credits and press reviews, the server's score and histogram, the member's own score, the
take count and the most-agreed take.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from bot.db.models import Credit, PressReview, ScoreSummary, Take, Video, VideoPage
from bot.db.sqlite.connections import Fetches
from bot.db.sqlite.rows import columns_of, json_models

HISTOGRAM = ", ".join(f"s.s{k}" for k in range(1, 11))


# The requests arrive as one JSON array of [guild, video, user], so one fixed statement
# serves every page asked for at the same moment: concurrent /review interactions share a
# statement. Each page leaves as a JSON object whose parts are arrays of a dataclass's
# fields in its own order (see bot/db/sqlite/rows.py), decoded straight into it.
@dataclass(frozen=True, slots=True)
class _PageRow:
    """One /review page as the statement below returns it (its parts as JSON arrays)."""

    request: int
    video: list[Any]
    credits: list[list[Any]]
    reviews: list[list[Any]]
    member_score: int | None
    take_count: int | None
    top_take: list[Any] | None
    count: int | None
    total: int | None
    histogram: list[int]
    thumbnail_url: str | None


# Each of _PageRow's fields, as the statement computes it. The row is built as one JSON
# array in the fields' own order; a part made by a subquery is text there, so json() keeps
# it JSON (the parts made in place stay JSON as they are, without being parsed again).
_PARTS = {
    "request": "req.k",
    "video": f"json_array({columns_of(Video, 'v')})",
    "credits": f"""json((SELECT json_group_array(json_array({columns_of(Credit)})) FROM
        (SELECT * FROM credits WHERE video_id = v.id ORDER BY position)))""",
    "reviews": f"""json((SELECT json_group_array(json_array({columns_of(PressReview)})) FROM
        (SELECT * FROM press_reviews WHERE video_id = v.id ORDER BY position)))""",
    "member_score": """(SELECT score FROM ratings
        WHERE guild_id = req.guild AND user_id = req.user AND video_id = v.id)""",
    "take_count": """(SELECT count FROM video_take_counts
        WHERE guild_id = req.guild AND video_id = v.id)""",
    "top_take": f"""json((SELECT json_array({columns_of(Take)})
        FROM takes WHERE guild_id = req.guild AND video_id = v.id
        ORDER BY agree_count DESC, id LIMIT 1))""",
    "count": "s.count",
    "total": "s.total",
    "histogram": f"json_array({HISTOGRAM})",
    "thumbnail_url": "v.thumbnail_url",
}
_PAGES = f"""
WITH req (k, guild, video, user) AS (
    SELECT key, value ->> 0, value ->> 1, value ->> 2 FROM json_each(:requests))
SELECT json_group_array(json_array(
    {", ".join(_PARTS[field.name] for field in fields(_PageRow))}))
FROM req CROSS JOIN videos AS v ON v.id = req.video
LEFT JOIN video_scores AS s ON s.guild_id = req.guild AND s.video_id = v.id
"""


def _page_from(row: _PageRow) -> VideoPage:
    return VideoPage(
        video=Video(*row.video),
        credits=[Credit(*c) for c in row.credits],
        reviews=[PressReview(*r) for r in row.reviews],
        member_score=row.member_score,
        take_count=row.take_count or 0,
        top_take=Take(*row.top_take) if row.top_take else None,
        score=ScoreSummary(row.count, row.total or 0, tuple(row.histogram))
        if row.count
        else ScoreSummary(),
        thumbnail_url=row.thumbnail_url,
    )


async def video_pages(
    conn: Fetches, requests: list[tuple[int, int, int | None]]
) -> list[VideoPage | None]:
    """Pages for (guild_id, video_id, user_id) requests, in order; None for a removed video."""
    found: list[VideoPage | None] = [None] * len(requests)
    for row in await json_models(conn, _PageRow, _PAGES, {"requests": json.dumps(requests)}):
        found[row.request] = _page_from(row)
    return found
