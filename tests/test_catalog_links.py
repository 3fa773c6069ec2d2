"""A catalog file's links: one link names one video. Two entries with the same video, or a
link another video of the catalog has, are refused before anything is written; a video given
another link loses the old link's thumbnail."""

from __future__ import annotations

from typing import Any

import pytest

from bot.catalog import CatalogError, import_catalog, parse_catalog
from bot.db import Database

ID = "TkTwLink001"


def catalog(*videos: dict[str, Any]) -> dict[str, Any]:
    return {"format": "taketwo-catalog", "version": 2, "videos": list(videos)}


def video(slug: str, url: str | None, **more: Any) -> dict[str, Any]:
    return {"slug": slug, "title": slug, "artist": "The Examples", "url": url, **more}


def test_two_entries_with_one_video_are_refused() -> None:
    with pytest.raises(CatalogError) as refused:
        parse_catalog(
            catalog(
                video("first", f"https://youtu.be/{ID}"),
                video("other", "https://videos.example/1"),
                video("second", f"https://www.youtube.com/watch?v={ID}&t=3"),
            )
        )
    assert refused.value.problems == [
        "catalog.videos[2].url: is the same video as catalog.videos[0]"
    ]


async def imported(db: Database, data: dict[str, Any]) -> None:
    async with db.transaction() as tx:
        await import_catalog(tx, parse_catalog(data))


async def urls_and_thumbnails(db: Database) -> dict[str, tuple[str | None, str | None]]:
    async with db.read() as session:
        thumbnails = await session.videos.thumbnails()
        return {v.slug: (v.url, thumbnails.get(v.id)) for v in await session.videos.all()}


async def test_a_link_another_video_has_is_refused_and_nothing_is_written(db: Database) -> None:
    url = f"https://www.youtube.com/watch?v={ID}"
    await imported(db, catalog(video("first", url)))
    with pytest.raises(CatalogError) as refused:
        await imported(db, catalog(video("new", "https://vimeo.com/5"), video("second", url)))
    assert refused.value.problems == [
        "catalog.videos[1].url: is the link of 'first' in the catalog already (change or "
        "remove that video's link first)"
    ]
    assert await urls_and_thumbnails(db) == {"first": (url, None)}
    # A file that moves the link from one video to another, both listed, is the truth.
    await imported(db, catalog(video("first", "https://vimeo.com/5"), video("second", url)))
    assert await urls_and_thumbnails(db) == {
        "first": ("https://vimeo.com/5", None),
        "second": (url, None),
    }


async def test_a_new_link_drops_the_old_links_thumbnail(db: Database) -> None:
    picture = "https://thumbnails.example/youtube/1.jpg"
    await imported(db, catalog(video("first", f"https://youtu.be/{ID}", thumbnail_url=picture)))
    # Left out with the same link: kept (a file from before thumbnails erases nothing).
    await imported(db, catalog(video("first", f"https://youtube.com/watch?v={ID}")))
    assert (await urls_and_thumbnails(db))["first"][1] == picture
    await imported(db, catalog(video("first", "https://vimeo.com/5")))
    assert await urls_and_thumbnails(db) == {"first": ("https://vimeo.com/5", None)}


def test_a_malformed_link_in_a_file_is_kept_as_given_not_a_crash() -> None:
    """Only YouTube and Vimeo links are put in canonical form: another link the format
    accepts (http(s), no spaces) is kept as written, even one urlsplit cannot read."""
    [parsed] = parse_catalog(catalog(video("odd", "https://[bad")))
    assert parsed.url == "https://[bad"
