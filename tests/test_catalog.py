from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import (
    VERSION,
    CatalogError,
    credit_from_line,
    credits_text,
    export_catalog,
    import_catalog,
    parse_catalog,
    read_catalog_file,
    sample_catalog,
)
from bot.db import Database
from bot.db.models import Credit
from tests.made_up import made_up_catalog_entry
from tests.stores import Stores

SAMPLE = Path(__file__).resolve().parent.parent / "bot" / "data" / "sample_catalog.json"


async def test_sample_catalog_has_we_cry_together(catalog_db: Database) -> None:
    async with catalog_db.read() as session:
        video = await session.videos.resolve("We Cry Together")
        credits = await session.videos.credits(video.id)
        reviews = await session.videos.reviews(video.id)
    assert video.artist == "Kendrick Lamar & Taylour Paige"
    assert (video.album, video.year) == ("Mr. Morale & The Big Steppers", 2022)
    by_role: dict[tuple[str, str], list[str]] = {}
    for credit in credits:
        by_role.setdefault((credit.kind, credit.role), []).append(credit.name)
    assert by_role == {
        ("video", "Director"): ["Jake Schreier", "Dave Free", "Kendrick Lamar"],
        ("video", "Cast"): ["Kendrick Lamar", "Taylour Paige"],
        ("song", "Producer"): ["The Alchemist"],
    }
    assert len(reviews) == 2
    assert {r.outlet for r in reviews} == {"The Root", "Our Generation Music"}
    assert all(r.url and r.url.startswith("https://") for r in reviews)
    for review in reviews:
        sentences = [s for s in review.summary.split(". ") if s.strip()]
        assert 2 <= len(sentences) <= 4


async def test_every_sample_video_has_sources_in_the_database(catalog_db: Database) -> None:
    sample = sample_catalog()
    async with catalog_db.read() as session:
        for video in sample:
            found = await session.videos.get_by_slug(video.slug)
            assert found is not None
            sources = await session.videos.sources(found.id)
            assert sources, f"{video.title} has no source"
            assert sources == video.sources
            assert all(url.startswith(("https://", "http://")) for url in sources)


def test_sample_credits_tell_the_song_from_the_video() -> None:
    credits = {video.title: video.credits for video in sample_catalog()}
    # Published sources credit this video to Jerome D, not to the director of We Cry Together.
    assert [c for c in credits["Swimming Pools (Drank)"] if c.role == "Director"] == [
        Credit("Director", "Jerome D", "video")
    ]
    producers = [c for video in credits.values() for c in video if c.role == "Producer"]
    assert producers and all(c.kind == "song" for c in producers)
    assert {c.kind for c in credits["Alright"] if c.role == "Director"} == {"video"}


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


async def test_export_then_import_round_trips(catalog_db: Database, stores: Stores) -> None:
    async with catalog_db.read() as session:
        exported = await export_catalog(session)
    other = (await stores.empty("other.sqlite3")).database()
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
    video = made_up_catalog_entry()
    data["videos"].append(video)
    async with catalog_db.transaction() as tx:
        await import_catalog(tx, parse_catalog(data))
    video["credits"] = [{"role": "Director", "name": "Ann Example", "for": "song"}]
    video["sources"] = ["https://example.org/b", video["sources"][0]]
    video["quotes"] = [{"text": "A new line.", "sample": True}]
    async with catalog_db.transaction() as tx:
        await import_catalog(tx, parse_catalog(data))
    async with catalog_db.read() as session:
        found = await session.videos.get_by_slug(video["slug"])
        assert found is not None
        assert await session.videos.credits(found.id) == [Credit("Director", "Ann Example", "song")]
        assert await session.videos.sources(found.id) == video["sources"]
        assert [q.text for q in await session.quotes.catalog_quotes(found.id)] == ["A new line."]
        # The catalog's random quote pool stays dense after removals.
        assert await session.quotes.count(0) == len(
            [q for v in data["videos"] for q in v["quotes"]]
        )


async def test_sources_and_credit_kinds_round_trip(
    db: Database, tmp_path: Path, stores: Stores
) -> None:
    data: dict[str, Any] = {
        "format": "taketwo-catalog",
        "version": VERSION,
        "videos": [
            {
                "slug": "an-artist-a-song",
                "title": "A Song",
                "artist": "An Artist",
                "sources": ["https://example.org/news/1", "http://example.net/a_(b)"],
                "credits": [
                    {"role": "Director", "name": "D", "for": "video"},
                    {"role": "Producer", "name": "P", "for": "song"},
                    {"role": "Producer", "name": "Q", "for": "video"},
                ],
            }
        ],
    }
    async with db.transaction() as tx:
        await import_catalog(tx, parse_catalog(data))
    async with db.read() as session:
        exported = await export_catalog(session)
    [video] = exported["videos"]
    assert exported["version"] == 2
    assert video["sources"] == data["videos"][0]["sources"]
    assert video["credits"] == data["videos"][0]["credits"]
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


async def test_a_version_1_file_still_imports(db: Database, tmp_path: Path) -> None:
    file = tmp_path / "old.json"
    file.write_text(
        '{"format": "taketwo-catalog", "version": 1, "videos": [{"slug": "old", '
        '"title": "Old", "artist": "Someone", "credits": '
        '[{"role": "Director", "name": "D"}, {"role": "Producer", "name": "P"}]}]}'
    )
    async with db.transaction() as tx:
        await import_catalog(tx, read_catalog_file(file))
    async with db.read() as session:
        video = await session.videos.get_by_slug("old")
        assert video is not None
        # Before credit kinds, every credit was read as the video's: so it stays.
        assert await session.videos.credits(video.id) == [
            Credit("Director", "D", "video"),
            Credit("Producer", "P", "video"),
        ]
        assert await session.videos.sources(video.id) == []


@pytest.mark.parametrize(
    ("version", "problem"),
    [(3, "catalog.version: must be 1 or 2"), (True, "catalog.version: must be 1 or 2")],
)
def test_unknown_versions_are_refused(version: object, problem: str) -> None:
    data = json.loads(SAMPLE.read_text())
    data["version"] = version
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data)
    assert caught.value.problems == [problem]


def test_credit_lines_of_the_edit_form_tell_song_from_video() -> None:
    credits = [Credit("Director", "D"), Credit("Producer", "P", "song")]
    assert credits_text(credits) == "Director: D\nSong Producer: P"
    assert [credit_from_line(*line.split(": ")) for line in credits_text(credits).split("\n")] == (
        credits
    )
    assert credit_from_line(" song  producer ", " P ") == Credit("producer", "P", "song")
    assert credit_from_line("Songwriter", "W") == Credit("Songwriter", "W", "video")
    assert credit_from_line("Song", "S") == Credit("Song", "S", "video")


def _bad_file() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text())
    good = data["videos"][0] = made_up_catalog_entry()
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


def _one_video_text(more_fields: str) -> str:
    """A catalog file's text with one good video plus `more_fields`, written as raw JSON so a
    test can write what json.dumps never would."""
    return (
        '{"format": "taketwo-catalog", "version": 1, "videos": [{"slug": "a-video", '
        f'"title": "A Video", "artist": "An Artist", {more_fields}}}]}}'
    )


@pytest.mark.parametrize(
    ("more_fields", "problem"),
    [
        # json alone keeps the second title without a word.
        ('"title": "Again"', "catalog.videos[0].title: appears more than once in this object"),
        # SQLite refuses to store a lone surrogate.
        (
            '"album": "Side \\ud800 A"',
            "catalog.videos[0].album: contains \\ud800, half of a UTF-16 pair, not a character",
        ),
        (
            '"reviews": [{"headline": "H", "summary": "S", "outlet": "\\udfff"}]',
            "catalog.videos[0].reviews[0].outlet: contains \\udfff, half of a UTF-16 pair, "
            "not a character",
        ),
        # Past Python's int() digit limit.
        (
            '"year": ' + "9" * 5000,
            "catalog.videos[0].year: must be a whole year between 1900 and 2100",
        ),
        # A field name with a line break and a surrogate is quoted: still one line.
        ('"\\ud800\\nmood": "sad"', 'catalog.videos[0]."\\ud800\\nmood": is not a known field'),
    ],
)
def test_what_plain_json_lets_through_is_reported_at_its_place(
    tmp_path: Path, more_fields: str, problem: str
) -> None:
    file = tmp_path / "catalog.json"
    file.write_text(_one_video_text(more_fields))
    with pytest.raises(CatalogError) as caught:
        read_catalog_file(file)
    assert caught.value.problems == [problem]


def test_nesting_deeper_than_the_format_is_one_problem(tmp_path: Path) -> None:
    file = tmp_path / "deep.json"
    file.write_text('{"format": "taketwo-catalog",\n"videos": ' + "[" * 100_000 + "]" * 100_000)
    with pytest.raises(CatalogError) as caught:
        read_catalog_file(file)
    assert caught.value.problems == [
        f"{file}: line 2: nests deeper than the 5 levels the format has"
    ]


def test_file_over_the_size_cap_is_refused_by_its_size(tmp_path: Path) -> None:
    file = tmp_path / "huge.json"
    with file.open("wb") as out:
        out.truncate(40_000_000)  # sparse: takes no disk, and reads as zero bytes
    with pytest.raises(CatalogError) as caught:
        read_catalog_file(file)
    assert caught.value.problems == [
        f"{file}: is 40.0 MB (40,000,000 bytes); catalog files are limited to 32 MB"
    ]


def test_file_of_countless_tiny_objects_is_refused_before_decoding(tmp_path: Path) -> None:
    file = tmp_path / "tiny.json"
    file.write_text(
        '{"format": "taketwo-catalog", "version": 1, "videos": [' + "[]," * 1_000_000 + "[]]}"
    )
    with pytest.raises(CatalogError) as caught:
        read_catalog_file(file)
    assert caught.value.problems == [
        f"{file}: holds over 1,000,000 objects and lists, more than a catalog needs"
    ]


def test_a_file_wrong_throughout_lists_the_first_hundred_problems(tmp_path: Path) -> None:
    data = json.loads(SAMPLE.read_text())
    data["videos"] = [
        {"slug": f"v-{n}", "title": "T", "artist": "A", "year": 1} for n in range(300)
    ]
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data)
    problems = caught.value.problems
    assert len(problems) == 101
    assert problems[99] == "catalog.videos[99].year: must be a whole year between 1900 and 2100"
    assert problems[100] == "… stopped after 100 problems"


def _with_first_video(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text())
    data["videos"][0] = made_up_catalog_entry() | changes
    return data


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"title": "Test\nPattern"},
            "catalog.videos[0].title: contains the control character \\u000a; "
            "one line of text only",
        ),
        (
            {"artist": "The Examples\x00"},
            "catalog.videos[0].artist: contains the control character \\u0000; "
            "one line of text only",
        ),
        (
            # A quote may hold line breaks; a bell character is another matter.
            {"quotes": [{"text": "Line one\nline\x07two"}]},
            "catalog.videos[0].quotes[0].text: contains the control character \\u0007; "
            "text, line breaks and tabs only",
        ),
        (
            {"reviews": [{"headline": "H", "summary": "S", "published_on": "2022-W19-4"}]},
            "catalog.videos[0].reviews[0].published_on: must be a date written YYYY-MM-DD, "
            "between 1900 and 2100",
        ),
        (
            {"reviews": [{"headline": "H", "summary": "S", "published_on": "1066-10-14"}]},
            "catalog.videos[0].reviews[0].published_on: must be a date written YYYY-MM-DD, "
            "between 1900 and 2100",
        ),
        (
            {"credits": [{"role": "Dancer", "name": f"Dancer {n}"} for n in range(101)]},
            "catalog.videos[0].credits: has 101 credits; the limit is 100",
        ),
        (
            {"credits": [{"role": "Cast", "name": "N" * 190} for _ in range(21)]},
            "catalog.videos[0].credits: take 4136 characters as `Role: Name` lines; "
            "/video credits holds 4000",
        ),
        (
            # Song credits are written `Song Role: Name` in the form, so they count longer.
            {"credits": [{"role": "Cast", "name": "N" * 189, "for": "song"} for _ in range(20)]},
            "catalog.videos[0].credits: take 4019 characters as `Role: Name` lines; "
            "/video credits holds 4000",
        ),
        (
            {"credits": [{"role": "Producer", "name": "P", "for": "album"}]},
            'catalog.videos[0].credits[0].for: must be "video" or "song"',
        ),
        (
            {"credits": [{"role": "Song producer", "name": "P"}]},
            'catalog.videos[0].credits[0].role: starts with "Song", which marks a song credit '
            'in /video credits; write the role without it and add "for": "song"',
        ),
        (
            {"sources": ["ftp://example.org/x"]},
            "catalog.videos[0].sources[0]: must be a link starting with http:// or https://",
        ),
        (
            {"sources": ["https://example.org/" + "x" * 481]},
            "catalog.videos[0].sources[0]: is 501 characters long; the limit is 500",
        ),
        (
            {"sources": ["https://example.org/a", 7]},
            "catalog.videos[0].sources[1]: must be text",
        ),
        (
            {"sources": ["https://example.org/a", "https://example.org/a"]},
            "catalog.videos[0].sources[1]: repeats catalog.videos[0].sources[0]",
        ),
        (
            {"sources": [f"https://example.org/{n}" for n in range(11)]},
            "catalog.videos[0].sources: has 11 links; the limit is 10",
        ),
        (
            {"sources": "https://example.org/a"},
            "catalog.videos[0].sources: must be a list",
        ),
    ],
)
def test_fields_the_bot_could_not_show_or_edit_are_refused(
    changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(_with_first_video(**changes))
    assert caught.value.problems == [problem]
