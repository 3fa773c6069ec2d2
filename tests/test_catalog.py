from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import (
    CatalogError,
    export_catalog,
    import_catalog,
    parse_catalog,
    read_catalog_file,
    sample_catalog,
)
from bot.db import Database

SAMPLE = Path(__file__).resolve().parent.parent / "bot" / "data" / "sample_catalog.json"


async def test_sample_catalog_has_we_cry_together(catalog_db: Database) -> None:
    async with catalog_db.read() as session:
        video = await session.videos.resolve("We Cry Together")
        credits = await session.videos.credits(video.id)
        reviews = await session.videos.reviews(video.id)
    assert video.artist == "Kendrick Lamar & Taylour Paige"
    assert (video.album, video.year) == ("Mr. Morale & The Big Steppers", 2022)
    by_role: dict[str, list[str]] = {}
    for credit in credits:
        by_role.setdefault(credit.role, []).append(credit.name)
    assert by_role["Director"] == ["Jake Schreier", "Dave Free", "Kendrick Lamar"]
    assert by_role["Producer"] == ["The Alchemist"]
    assert by_role["Cast"] == ["Kendrick Lamar", "Taylour Paige"]
    assert len(reviews) == 2
    assert {r.outlet for r in reviews} == {None, "Our Generation Music"}
    for review in reviews:
        sentences = [s for s in review.summary.split(". ") if s.strip()]
        assert 2 <= len(sentences) <= 4


async def test_sample_quotes_are_marked_as_sample(catalog_db: Database) -> None:
    async with catalog_db.read() as session:
        video = await session.videos.resolve("We Cry Together")
        quotes = await session.quotes.catalog_quotes(video.id)
    assert quotes and all(q.is_sample for q in quotes)


async def test_importing_twice_changes_nothing(catalog_db: Database) -> None:
    async with catalog_db.read() as session:
        before = await export_catalog(session)
    async with catalog_db.transaction() as tx:
        await import_catalog(tx, sample_catalog())
    async with catalog_db.read() as session:
        after = await export_catalog(session)
        assert await session.videos.count() == len(before["videos"])
    assert after == before


async def test_export_then_import_round_trips(catalog_db: Database, tmp_path: Path) -> None:
    async with catalog_db.read() as session:
        exported = await export_catalog(session)
    other = Database(tmp_path / "other.sqlite3")
    await other.open()
    try:
        async with other.transaction() as tx:
            await import_catalog(tx, parse_catalog(json.loads(json.dumps(exported))))
        async with other.read() as session:
            assert await export_catalog(session) == exported
    finally:
        await other.close()


async def test_import_replaces_what_the_file_changes(catalog_db: Database) -> None:
    data = json.loads(SAMPLE.read_text())
    video = data["videos"][0]
    video["credits"] = [{"role": "Director", "name": "Jake Schreier"}]
    video["quotes"] = [{"text": "A new line.", "sample": True}]
    async with catalog_db.transaction() as tx:
        await import_catalog(tx, parse_catalog(data))
    async with catalog_db.read() as session:
        found = await session.videos.get_by_slug(video["slug"])
        assert found is not None
        assert [c.name for c in await session.videos.credits(found.id)] == ["Jake Schreier"]
        assert [q.text for q in await session.quotes.catalog_quotes(found.id)] == ["A new line."]
        # The catalog's random quote pool stays dense after removals.
        assert await session.quotes.count(0) == len(
            [q for v in data["videos"] for q in v["quotes"]]
        )


def _bad_file() -> dict[str, Any]:
    data = json.loads(SAMPLE.read_text())
    good = data["videos"][0]
    bad: list[Any] = [
        {**copy.deepcopy(good), "slug": "Not A Slug"},
        {**copy.deepcopy(good), "slug": "no-title", "title": ""},
        {**copy.deepcopy(good), "slug": "bad-year", "year": "2022"},
        {**copy.deepcopy(good), "slug": "bad-url", "url": "ftp://x"},
        {**copy.deepcopy(good), "slug": "extra", "mood": "sad"},
        {**copy.deepcopy(good), "slug": "bad-credit", "credits": [{"role": "Director"}]},
        {
            **copy.deepcopy(good),
            "slug": "bad-date",
            "reviews": [{**good["reviews"][0], "published_on": "June 2022"}],
        },
        {**copy.deepcopy(good), "slug": "long-quote", "quotes": [{"text": "x" * 1001}]},
        "not an object",
        copy.deepcopy(good),  # repeats the first video's slug
    ]
    data["videos"].extend(bad)
    return data


async def test_import_with_ten_mistakes_reports_each_and_writes_nothing(db: Database) -> None:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(_bad_file())
    problems = caught.value.problems
    places = [p.split(":")[0] for p in problems]
    assert places == [
        "catalog.videos[5].slug",
        "catalog.videos[6].title",
        "catalog.videos[7].year",
        "catalog.videos[8].url",
        "catalog.videos[9].mood",
        "catalog.videos[10].credits[0].name",
        "catalog.videos[11].reviews[0].published_on",
        "catalog.videos[12].quotes[0].text",
        "catalog.videos[13]",
        "catalog.videos[14].slug",
    ]
    async with db.read() as session:
        assert await session.videos.count() == 0


def test_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CatalogError, match="not valid JSON"):
        read_catalog_file(broken)
    with pytest.raises(CatalogError, match="no such file"):
        read_catalog_file(tmp_path / "missing.json")
