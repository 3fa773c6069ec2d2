"""The data of /review in one statement, for one request or many.

The requests arrive as three arrays (guild, video, member), so one prepared statement
serves every page asked for at the same moment: concurrent /review interactions share a
round trip. Credits, press reviews and the most-agreed take come back as nested rows.
"""

from __future__ import annotations

from bot.db.models import Credit, PressReview, Take, Video, VideoPage
from bot.db.postgres.connections import Queries
from bot.db.postgres.rows import CREDIT, REVIEW, SCORES, TAKE, VIDEO, qualified, summary_from

_PAGES = f"""
SELECT r.k, {qualified("v", VIDEO)},
    ARRAY(SELECT ({CREDIT}) FROM credits WHERE video_id = v.id ORDER BY position),
    ARRAY(SELECT ({REVIEW}) FROM press_reviews WHERE video_id = v.id ORDER BY position),
    (SELECT score FROM ratings WHERE guild_id = r.g AND user_id = r.u AND video_id = v.id),
    (SELECT count FROM video_take_counts WHERE guild_id = r.g AND video_id = v.id),
    (SELECT ({TAKE}) FROM takes WHERE guild_id = r.g AND video_id = v.id
        ORDER BY agree_count DESC, id LIMIT 1),
    {qualified("s", SCORES)},
    v.thumbnail_url
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS r (g, v, u, k)
JOIN videos AS v ON v.id = r.v
LEFT JOIN video_scores AS s ON s.guild_id = r.g AND s.video_id = v.id
"""


async def video_pages(
    conn: Queries, requests: list[tuple[int, int, int | None]]
) -> list[VideoPage | None]:
    """Pages for (guild_id, video_id, user_id) requests, in order; None for a removed video."""
    found: list[VideoPage | None] = [None] * len(requests)
    guilds, videos, members = zip(*requests, strict=True) if requests else ((), (), ())
    for row in await conn.fetch(_PAGES, list(guilds), list(videos), list(members)):
        top = row[12]
        found[row[0] - 1] = VideoPage(
            video=Video(*row[1:8]),
            credits=[Credit(*c) for c in row[8]],
            reviews=[PressReview(*r) for r in row[9]],
            member_score=row[10],
            take_count=row[11] or 0,
            top_take=Take(*top) if top is not None else None,
            score=summary_from(row[13:25]),
            thumbnail_url=row[25],
        )
    return found
