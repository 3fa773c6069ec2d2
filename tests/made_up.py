"""A video made up for tests that edit credits, reviews or catalog entries: a test never gives
a real video or person a credit, a review or a fact its sources do not state."""

from __future__ import annotations

from typing import Any

from bot.db import Database
from bot.db.models import Credit

TITLE = "Test Pattern"
ARTIST = "The Examples"
SLUG = "the-examples-test-pattern"


async def add_made_up_video(
    db: Database, credits: list[Credit] | None = None, sources: list[str] | None = None
) -> int:
    """Adds the made-up video, with these credits and sources, and returns its id."""
    async with db.transaction() as tx:
        video_id = await tx.videos.upsert(
            slug=SLUG, title=TITLE, artist=ARTIST, album=None, year=None, url=None
        )
        await tx.videos.replace_credits(video_id, credits or [])
        await tx.videos.replace_sources(video_id, sources or [])
    return video_id


def made_up_catalog_entry() -> dict[str, Any]:
    """The made-up video as a catalog file holds it, with every kind of field filled in."""
    return {
        "slug": SLUG,
        "title": TITLE,
        "artist": ARTIST,
        "album": "Sample Rate",
        "year": 2024,
        "url": None,
        "sources": ["https://example.org/test-pattern"],
        "credits": [
            {"role": "Director", "name": "Ann Example", "for": "video"},
            {"role": "Producer", "name": "Bo Example", "for": "song"},
        ],
        "reviews": [
            {
                "headline": "A made-up headline for the test",
                "outlet": "Example Weekly",
                "author": None,
                "published_on": None,
                "url": "https://example.org/review",
                "summary": "A short summary written in our own words for the test.",
            }
        ],
        "quotes": [{"text": "A made-up sample quote.", "sample": True}],
    }
