"""Autocomplete offers the same videos in the same order on either engine: the same
catalog, written the same way, answers every text typed alike on SQLite and PostgreSQL.

The catalog is made so that what an engine could leave to chance shows: many videos share
a title (their order is by id), more videos hold common words than a part of the search
keeps, and one artist has far more videos than the every-word candidates. Some videos are
edited after the others were added, so PostgreSQL keeps their rows out of id order.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db import Database
from tests.postgres import Cluster
from tests.stores import Stores

WORDS = ["heart", "river", "neon", "we", "go", "night", "ghost", "a", "summer", "echo"]
ARTISTS = ["The Examples", "Made Up Band", "Neon Heart", "Go Go Crew"]
VIDEOS = 600
TYPED = [
    "",
    "h",
    "he",
    "hea",
    "heart",
    "heart ",
    "heart r",
    "heart ri",
    "heart river",
    "eart",
    "neon",
    "neon heart",
    "neon h",
    "we",
    "we go",
    "we g",
    "the examples we go",
    "the examples we",
    "examples go",
    "go go",
    "go go crew night",
    "a heart",
    "heart a",
    "night a go",
    "ght",
    "ost ech",
    "summer echo 4",
    "made up band summer",
    "nothing like it",
]


def title_for(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS).capitalize() for _ in range(rng.choice((1, 2, 2, 3))))


async def fill(db: Database) -> None:
    """The same catalog, added and then edited in the same order on every engine."""
    rng = random.Random(13)
    rows = [
        (f"video-{n}", title_for(rng), rng.choice(ARTISTS), rng.choice((None, 2001)))
        for n in range(VIDEOS)
    ]
    async with db.transaction() as tx:
        for slug, title, artist, year in rows:
            await tx.videos.upsert(
                slug=slug, title=title, artist=artist, album=None, year=year, url=None
            )
    # Editing a video moves its PostgreSQL row to the end of the table; its id stays.
    async with db.transaction() as tx:
        for slug, title, artist, _ in rows[::3]:
            await tx.videos.upsert(
                slug=slug, title=title, artist=artist, album="Edited", year=1999, url=None
            )


@pytest.fixture
async def both(tmp_path: Path, postgres_cluster: Cluster) -> AsyncIterator[list[Database]]:
    (tmp_path / "sqlite").mkdir()
    made = [Stores(tmp_path / "sqlite", None), Stores(tmp_path, postgres_cluster)]
    databases = [(await stores.migrated()).database() for stores in made]
    try:
        for db in databases:
            await db.open()
            await fill(db)
        yield databases
    finally:
        for db in databases:
            await db.close()
        for stores in made:
            await stores.close()


async def answers(db: Database, limit: int) -> dict[str, list[str]]:
    found = {}
    async with db.lookup() as session:
        for text in TYPED:
            videos = await session.videos.search_as_typed(text, limit=limit)
            found[text] = [f"{v.id} {v.title} / {v.artist}" for v in videos]
    return found


@pytest.mark.parametrize("limit", [25, 5])
async def test_autocomplete_offers_the_same_videos_in_the_same_order_on_both_engines(
    both: list[Database], limit: int
) -> None:
    sqlite, postgresql = both
    expected = await answers(sqlite, limit)
    # The catalog shows what it is meant to: full lists, and shared titles within them.
    assert sum(len(videos) == limit for videos in expected.values()) > len(TYPED) // 2
    assert await answers(postgresql, limit) == expected
