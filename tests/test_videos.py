from __future__ import annotations

import pytest

from bot.db import Database
from bot.db.text import fold
from bot.errors import NotFoundError, UserFacingError


def test_fold_ignores_case_accents_and_punctuation() -> None:
    assert fold("Beyoncé – “Formation”") == "beyonce formation"
    assert fold("HUMBLE.") == "humble"
    assert fold("Ça Plane Pour Moi") == "ca plane pour moi"
    assert fold("夜に駆ける") == "夜に駆ける"


async def titles(db: Database, text: str) -> list[str]:
    async with db.read() as session:
        return [v.title for v in await session.videos.search(text)]


async def test_search_by_prefix_substring_artist_and_accent(catalog_db: Database) -> None:
    assert (await titles(catalog_db, "we cry"))[0] == "We Cry Together"
    assert (await titles(catalog_db, "WE CRY"))[0] == "We Cry Together"
    assert "We Cry Together" in await titles(catalog_db, "together")
    assert "Formation" in await titles(catalog_db, "beyonce")
    assert "Formation" in await titles(catalog_db, "Beyoncé")
    assert "Swimming Pools (Drank)" in await titles(catalog_db, "drank")
    kendrick = await titles(catalog_db, "kendrick")
    assert {"Alright", "HUMBLE.", "We Cry Together"} <= set(kendrick)


async def test_search_tolerates_a_typo(catalog_db: Database) -> None:
    assert (await titles(catalog_db, "we cyr togther"))[0] == "We Cry Together"
    assert (await titles(catalog_db, "formaton"))[0] == "Formation"


async def test_empty_search_lists_videos_and_never_more_than_the_limit(
    catalog_db: Database,
) -> None:
    async with catalog_db.transaction() as tx:
        for n in range(40):
            await tx.videos.upsert(
                slug=f"demo-{n}", title=f"Demo {n}", artist="Band", album=None, year=None, url=None
            )
    assert len(await titles(catalog_db, "")) == 25
    assert len(await titles(catalog_db, "demo")) == 25
    async with catalog_db.read() as session:
        assert len(await session.videos.search("demo", limit=5)) == 5


async def test_resolve_choice_typed_title_and_typo(catalog_db: Database) -> None:
    async with catalog_db.read() as session:
        video = await session.videos.resolve("we cry together")
        assert video.title == "We Cry Together"
        assert (await session.videos.resolve(f"id:{video.id}")).id == video.id
        assert (
            await session.videos.resolve("We Cry Together — Kendrick Lamar & Taylour Paige")
        ).id == video.id
        assert (await session.videos.resolve("We Cyr Together")).id == video.id


async def test_unknown_video_names_the_closest_titles(catalog_db: Database) -> None:
    async with catalog_db.read() as session:
        with pytest.raises(NotFoundError) as caught:
            await session.videos.resolve("Swimming Together")
        assert caught.value.message.startswith("No video matches “Swimming Together”")
        assert "Closest titles" in caught.value.message
        with pytest.raises(UserFacingError):
            await session.videos.resolve("   ")
        with pytest.raises(NotFoundError):
            await session.videos.resolve("id:999999")
