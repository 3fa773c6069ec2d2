"""Catalog files carry each video's thumbnail: export writes it, import reads it back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import (
    VERSION,
    CatalogError,
    export_catalog,
    import_catalog,
    parse_catalog,
    read_catalog_file,
)
from bot.db import Database
from bot.startup import catalog_upkeep, load_sample_if_new
from tests.stores import Stores

THUMBNAIL = "https://thumbnails.example/youtube/TkTwFull001.jpg"


def catalog(**fields: Any) -> dict[str, Any]:
    video = {
        "slug": "the-examples-test-pattern",
        "title": "Test Pattern",
        "artist": "The Examples",
        "url": "https://www.youtube.com/watch?v=TkTwFull001",
        **fields,
    }
    return {"format": "taketwo-catalog", "version": VERSION, "videos": [video]}


async def imported(db: Database, data: dict[str, Any]) -> dict[str, Any]:
    async with db.transaction() as tx:
        await import_catalog(tx, parse_catalog(data))
    async with db.read() as session:
        [video] = (await export_catalog(session))["videos"]
    assert isinstance(video, dict)
    return video


async def test_thumbnail_round_trips_through_a_file(
    db: Database, tmp_path: Path, stores: Stores
) -> None:
    async with db.transaction() as tx:
        await import_catalog(tx, parse_catalog(catalog(thumbnail_url=THUMBNAIL)))
    async with db.read() as session:
        exported = await export_catalog(session)
        [video] = await session.videos.all()
        page = await session.videos.page(1, video.id)
    assert exported["videos"][0]["thumbnail_url"] == THUMBNAIL
    assert page.thumbnail_url == THUMBNAIL  # what /review shows
    file = tmp_path / "export.json"
    file.write_text(json.dumps(exported))
    other = (await stores.empty("other.sqlite3")).database()
    await other.open()
    try:
        async with other.transaction() as tx:
            await import_catalog(tx, read_catalog_file(file))
        async with other.read() as session:
            assert await export_catalog(session) == exported
    finally:
        await other.close()


async def test_a_file_without_the_field_keeps_the_thumbnail_and_null_removes_it(
    db: Database,
) -> None:
    assert (await imported(db, catalog(thumbnail_url=THUMBNAIL)))["thumbnail_url"] == THUMBNAIL
    # A file written before thumbnails existed says nothing about them.
    assert (await imported(db, catalog(year=2024)))["thumbnail_url"] == THUMBNAIL
    assert (await imported(db, catalog(thumbnail_url=None)))["thumbnail_url"] is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("thumbnails.example/a.jpg", "must be a link starting with http:// or https://"),
        (42, "must be text"),
        ("https://x.example/" + "a" * 500, "is 518 characters long; the limit is 500"),
    ],
)
def test_a_thumbnail_that_is_not_a_link_is_refused(value: object, problem: str) -> None:
    with pytest.raises(CatalogError) as refused:
        parse_catalog(catalog(thumbnail_url=value))
    assert refused.value.problems == [f"catalog.videos[0].thumbnail_url: {problem}"]


async def test_a_video_link_is_kept_in_its_canonical_form_so_the_video_is_found_by_it(
    db: Database,
) -> None:
    # However a file writes a YouTube link, the stored one is the form /video add url: and
    # /video suggest look for; a link to anything else stays as written.
    video = await imported(db, catalog(url="https://youtu.be/TkTwFull001?t=30"))
    assert video["url"] == "https://www.youtube.com/watch?v=TkTwFull001"
    async with db.read() as session:
        found = await session.videos.with_url("https://www.youtube.com/watch?v=TkTwFull001")
    assert found is not None and found.slug == "the-examples-test-pattern"
    other = await imported(db, catalog(url="https://example.com/watch/1"))
    assert other["url"] == "https://example.com/watch/1"


async def test_links_typed_before_they_were_kept_in_one_form_are_rewritten_at_start(
    db: Database,
) -> None:
    await load_sample_if_new(db, load_sample_catalog=False)
    async with db.transaction() as tx:
        for slug, url in [("typed", "https://youtu.be/TkTwFull001?t=5"), ("other", OTHER)]:
            await tx.videos.upsert(
                slug=slug, title=slug, artist="The Examples", album=None, year=None, url=url
            )
    assert (await catalog_upkeep(db)).links == 1
    async with db.read() as session:
        found = await session.videos.with_url("https://www.youtube.com/watch?v=TkTwFull001")
        others = [v.url for v in await session.videos.all() if v.slug == "other"]
    assert found is not None and found.slug == "typed"
    assert others == [OTHER]
    # Once per database: a later start reads one row, not every video's link again (a link
    # written in another form now, which no command does, is left alone).
    async with db.transaction() as tx:
        await tx.videos.upsert(
            slug="later", title="later", artist="x", album=None, year=None, url=TYPED_LATER
        )
    assert (await catalog_upkeep(db)).links == 0
    async with db.read() as session:
        assert TYPED_LATER in (await session.videos.links()).values()


TYPED_LATER = "https://youtu.be/TkTwLater01"
OTHER = "https://example.com/watch/1"
