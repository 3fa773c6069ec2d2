"""The data of /review in one statement, for one request or many.

Each statement costs a round trip to aiosqlite's worker thread, which on a busy 2-core
machine is worth far more than the query itself, so the page is read in one go: the video,
its credits and press reviews (as JSON arrays), the server's score and histogram, the
member's own score, the take count and the most-agreed take.
"""

from __future__ import annotations

import json

import aiosqlite

from bot.db.models import Credit, PressReview, ScoreSummary, Take, Video, VideoPage
from bot.db.sqlite.rows import json_rows
from bot.errors import NotFoundError

_HISTOGRAM = ", ".join(f"s.s{k}" for k in range(1, 11))
# The requests arrive as one JSON array of [guild, video, user], so one fixed statement
# serves every page asked for at the same moment: concurrent /review interactions share a
# round trip. The pages leave as one JSON array too (see bot/db/sqlite/rows.py).
_PAGES = f"""
WITH req (k, guild, video, user) AS (
    SELECT key, value ->> 0, value ->> 1, value ->> 2 FROM json_each(:requests))
SELECT json_group_array(json_array(
    req.k, v.id, v.slug, v.title, v.artist, v.album, v.year, v.url,
    json((SELECT json_group_array(json_array(role, name)) FROM
        (SELECT role, name FROM credits WHERE video_id = v.id ORDER BY position))),
    json((SELECT json_group_array(
            json_array(headline, summary, outlet, author, published_on, url))
        FROM (SELECT * FROM press_reviews WHERE video_id = v.id ORDER BY position))),
    (SELECT score FROM ratings
        WHERE guild_id = req.guild AND user_id = req.user AND video_id = v.id),
    (SELECT count FROM video_take_counts WHERE guild_id = req.guild AND video_id = v.id),
    json((SELECT json_array(id, guild_id, video_id, user_id, score, text, created_at,
                            updated_at, agree_count)
        FROM takes WHERE guild_id = req.guild AND video_id = v.id
        ORDER BY agree_count DESC, id LIMIT 1)),
    s.count, s.total, {_HISTOGRAM}))
FROM req CROSS JOIN videos AS v ON v.id = req.video
LEFT JOIN video_scores AS s ON s.guild_id = req.guild AND s.video_id = v.id
"""


def _page_from(row: list) -> VideoPage:
    top = row[11]
    return VideoPage(
        video=Video(*row[:7]),
        credits=[Credit(*c) for c in row[7]],
        reviews=[PressReview(*r) for r in row[8]],
        member_score=row[9],
        take_count=row[10] or 0,
        top_take=Take(*top) if top else None,
        score=ScoreSummary(count=row[12], total=row[13], histogram=tuple(row[14:24]))
        if row[12]
        else ScoreSummary(),
    )


async def video_pages(
    conn: aiosqlite.Connection, requests: list[tuple[int, int, int | None]]
) -> list[VideoPage | None]:
    """Pages for (guild_id, video_id, user_id) requests, in order; None for a removed video."""
    pages: list[VideoPage | None] = [None] * len(requests)
    for row in await json_rows(conn, _PAGES, {"requests": json.dumps(requests)}):
        pages[row[0]] = _page_from(row[1:])
    return pages


async def video_page(
    conn: aiosqlite.Connection, guild_id: int, video_id: int, user_id: int | None
) -> VideoPage:
    [page] = await video_pages(conn, [(guild_id, video_id, user_id)])
    if page is None:
        raise NotFoundError("That video is no longer in the catalog.")
    return page
