"""Lookups against the loopback stand-in (bot/standin/services.py): real sockets, made-up facts, a
fake clock for cache, pace and skip times (nothing here waits for real time to pass)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.links import youtube
from bot.lookups import Fact, FoundFacts, LookupClient, Lookups, split_title
from bot.lookups.oembed import YOUTUBE
from bot.lookups.wikidata import WIKIDATA
from bot.settings import SettingsError, load_settings
from bot.standin import services
from bot.standin.services import ServicesStandIn
from bot.video_drafts import Draft, Typed

CONTACT = "editors@taketwo.example"
# What a lookup gives when YouTube did not answer: nothing, and who kept silent.
YOUTUBE_SILENT = FoundFacts(unanswered=("YouTube",))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def lookups_for(
    lookup_services: ServicesStandIn,
    clock: FakeClock,
    *,
    enabled: bool = True,
    timeout: float = 5.0,
) -> Lookups:
    client = LookupClient(
        contact=CONTACT,
        enabled=enabled,
        timeout=timeout,
        clock=clock,
        sleep=clock.sleep,
        wall_clock=clock,
    )
    return Lookups(
        client,
        youtube_oembed_url=lookup_services.youtube_url,
        vimeo_oembed_url=lookup_services.vimeo_url,
        wikidata_api_url=lookup_services.wikidata_url,
    )


@pytest.fixture
async def lookups(lookup_services: ServicesStandIn, clock: FakeClock) -> AsyncIterator[Lookups]:
    found = lookups_for(lookup_services, clock)
    yield found
    await found.close()


async def test_a_video_with_every_fact(
    lookups: Lookups, lookup_services: ServicesStandIn, clock: FakeClock
) -> None:
    facts = await lookups.facts_for(services.FULL)
    page = services.FULL.url
    video_item = f"{lookup_services.base}/wiki/{services.TEST_PATTERN_VIDEO}"
    song_item = f"{lookup_services.base}/wiki/{services.TEST_PATTERN_SONG}"
    assert facts == FoundFacts(
        title=Fact("Test Pattern", page),
        artist=Fact("The Examples", page),
        channel=Fact("TheExamplesVEVO", page),
        thumbnail=Fact(services.thumbnail_of(services.FULL), page),
        # The deprecated 2023 statement is not read.
        published=Fact("2024-03-01", video_item),
        year=Fact(2024, video_item),
        song_published=Fact("2023-11", song_item),
        directors=(Fact("Ann Example", video_item), Fact("Cal Placeholder", video_item)),
        performers=(Fact("The Examples", video_item),),
        album=Fact("Sample Rate", song_item),
        video_item=video_item,
        song_item=song_item,
    )
    assert facts.sources == (page, video_item, song_item)
    # Another artist's "Test Pattern" was a candidate and was not taken.
    assert f"{lookup_services.base}/wiki/{services.OTHER_TEST_PATTERN}" not in facts.sources
    # oEmbed once, then Wikidata's search, the items, the names they refer to, and what the
    # song is part of (to see that it is an album).
    assert [seen.service for seen in lookup_services.requests] == ["youtube", *["wikidata"] * 4]
    assert lookup_services.requests[0].query == {"url": page, "format": "json"}
    asked = [seen.query for seen in lookup_services.asked("wikidata")]
    assert [q.get("props") for q in asked] == [
        None,
        "labels|aliases|claims",
        "labels|aliases",
        "labels|claims",
    ]
    assert asked[3]["ids"] == services.SAMPLE_RATE
    for seen in lookup_services.requests:
        assert seen.user_agent.startswith("TakeTwo/") and CONTACT in seen.user_agent
    # Wikidata is asked at its pace: each request after the first waited its turn.
    assert clock.slept == [WIKIDATA.min_interval] * 3


async def test_a_song_item_without_a_video_item(
    lookups: Lookups, lookup_services: ServicesStandIn
) -> None:
    facts = await lookups.facts_for(services.SONG_ONLY)
    song_item = f"{lookup_services.base}/wiki/{services.SIGNAL_DRIFT_SONG}"
    assert facts.title == Fact("Signal Drift", services.SONG_ONLY.url)
    assert facts.artist == Fact("The Examples", services.SONG_ONLY.url)
    assert facts.video_item is None and facts.song_item == song_item
    # The song's release is not the video's: the video's date and year stay empty.
    assert facts.published is None and facts.year is None
    assert facts.song_published == Fact("2022", song_item)
    assert facts.directors == ()
    assert facts.performers == (Fact("The Examples", song_item),)
    assert facts.album == Fact("Sample Rate", song_item)


async def test_nothing_found_in_wikidata_leaves_its_fields_empty(
    lookups: Lookups, lookup_services: ServicesStandIn
) -> None:
    facts = await lookups.facts_for(services.NOTHING)
    assert facts.artist == Fact("Nobody Known", services.NOTHING.url)
    assert facts.title == Fact("Unlisted Tune", services.NOTHING.url)
    assert (facts.video_item, facts.song_item, facts.published, facts.album) == (None,) * 4
    assert facts.directors == () and facts.performers == ()
    assert len(lookup_services.asked("wikidata")) == 1  # the search found nothing to read


async def test_a_title_without_an_artist_is_not_looked_up(
    lookups: Lookups, lookup_services: ServicesStandIn
) -> None:
    facts = await lookups.facts_for(services.NO_ARTIST)
    assert facts.artist is None
    assert facts.title == Fact("Test Pattern Rehearsal", services.NO_ARTIST.url)
    assert lookup_services.asked("wikidata") == []


async def test_a_title_in_japanese(lookups: Lookups, lookup_services: ServicesStandIn) -> None:
    facts = await lookups.facts_for(services.JAPANESE)
    video_item = f"{lookup_services.base}/wiki/{services.YORU_VIDEO}"
    assert facts.artist == Fact("架空楽団", services.JAPANESE.url)
    assert facts.title == Fact("夜の試験放送", services.JAPANESE.url)
    assert facts.directors == (Fact("試験 太郎", video_item),)
    assert facts.published == Fact("2021-07-07", video_item)
    assert lookup_services.asked("wikidata")[0].query["language"] == "ja"


async def test_vimeo_is_asked_at_its_own_endpoint(
    lookups: Lookups, lookup_services: ServicesStandIn
) -> None:
    facts = await lookups.facts_for(services.VIMEO_FULL)
    assert facts.thumbnail == Fact(
        services.thumbnail_of(services.VIMEO_FULL), services.VIMEO_FULL.url
    )
    assert facts.channel == Fact("Example Films", services.VIMEO_FULL.url)
    assert lookup_services.asked("vimeo")[0].query == {"url": "https://vimeo.com/424242"}
    assert lookup_services.asked("youtube") == []


async def test_a_cached_answer_makes_no_second_request_for_a_day(
    lookups: Lookups, lookup_services: ServicesStandIn, clock: FakeClock
) -> None:
    first = await lookups.facts_for(services.FULL)
    asked = len(lookup_services.requests)
    assert await lookups.facts_for(services.FULL) == first
    assert len(lookup_services.requests) == asked
    clock.now += YOUTUBE.cache_for + 1
    assert await lookups.facts_for(services.FULL) == first
    assert len(lookup_services.requests) == asked * 2


async def test_a_404_is_nothing_found_and_remembered(
    lookups: Lookups, lookup_services: ServicesStandIn
) -> None:
    unknown = youtube("TkTwMiss006")
    assert await lookups.facts_for(unknown) == FoundFacts()
    assert await lookups.facts_for(unknown) == FoundFacts()
    assert len(lookup_services.asked("youtube")) == 1


async def test_a_timeout_is_nothing_found_and_logged(
    lookup_services: ServicesStandIn, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    lookup_services.behaviour["youtube"].slow = True
    async with lookups_for(lookup_services, clock, timeout=0.2).client as client:
        lookups = Lookups(client, youtube_oembed_url=lookup_services.youtube_url)
        with caplog.at_level(logging.WARNING, logger="bot.lookups.client"):
            assert await lookups.facts_for(services.FULL) == YOUTUBE_SILENT
    assert "oEmbed (YouTube): no answer within 0.2 s" in caplog.text


async def test_429_skips_the_service_until_retry_after(
    lookups: Lookups, lookup_services: ServicesStandIn, clock: FakeClock
) -> None:
    lookup_services.behaviour["wikidata"].status = 429
    lookup_services.behaviour["wikidata"].retry_after = "120"
    facts = await lookups.facts_for(services.FULL)
    # oEmbed still answered; Wikidata's facts are simply missing.
    assert facts.title == Fact("Test Pattern", services.FULL.url)
    assert facts.directors == () and facts.video_item is None
    assert len(lookup_services.asked("wikidata")) == 1
    lookup_services.behaviour["wikidata"].status = None
    clock.now += 119
    assert (await lookups.facts_for(services.SONG_ONLY)).song_item is None
    assert len(lookup_services.asked("wikidata")) == 1  # still skipped: nothing asked
    clock.now += 2
    assert (await lookups.facts_for(services.SONG_ONLY)).song_item is not None


async def test_malformed_json_is_nothing_found_and_repeated_failures_pause_the_service(
    lookups: Lookups,
    lookup_services: ServicesStandIn,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    lookup_services.behaviour["youtube"].malformed = True
    links = [youtube(f"TkTwBad{n:04d}") for n in range(YOUTUBE.failures_before_pause + 1)]
    with caplog.at_level(logging.WARNING, logger="bot.lookups.client"):
        for link in links:
            assert await lookups.facts_for(link) == YOUTUBE_SILENT
    assert "answer is not JSON" in caplog.text
    # After failures_before_pause failures the service is left alone.
    assert len(lookup_services.asked("youtube")) == YOUTUBE.failures_before_pause
    lookup_services.behaviour["youtube"].malformed = False
    clock.now += YOUTUBE.pause_for
    assert (await lookups.facts_for(services.FULL)).title is not None


async def test_server_errors_count_as_failures(
    lookups: Lookups, lookup_services: ServicesStandIn
) -> None:
    lookup_services.behaviour["youtube"].status = 503
    for n in range(YOUTUBE.failures_before_pause + 2):
        assert await lookups.facts_for(youtube(f"TkTwErr{n:04d}")) == YOUTUBE_SILENT
    assert len(lookup_services.asked("youtube")) == YOUTUBE.failures_before_pause


async def test_lookups_off_makes_no_request(
    lookup_services: ServicesStandIn, clock: FakeClock
) -> None:
    lookups = lookups_for(lookup_services, clock, enabled=False)
    assert await lookups.facts_for(services.FULL) == FoundFacts()
    assert lookup_services.requests == []
    await lookups.close()


async def test_the_user_agent_without_a_contact_still_names_the_bot(
    lookup_services: ServicesStandIn,
) -> None:
    async with LookupClient() as client:
        await Lookups(client, youtube_oembed_url=lookup_services.youtube_url).facts_for(
            services.NO_ARTIST
        )
    assert lookup_services.requests[0].user_agent.startswith("TakeTwo/0.1 (Discord bot")


@pytest.mark.parametrize(
    ("raw", "artist", "title"),
    [
        ("The Examples - Test Pattern (Official Video)", "The Examples", "Test Pattern"),
        ("The Examples – Test Pattern [Official Music Video]", "The Examples", "Test Pattern"),
        ("The Examples — Test Pattern (Official 4K Video)", "The Examples", "Test Pattern"),
        ("The Examples - Test Pattern | Lyrics", "The Examples", "Test Pattern"),
        ('The Examples - "Test Pattern" (Official HD Video)', "The Examples", "Test Pattern"),
        ("The Examples - Test Pattern (Remastered 2009)", "The Examples", "Test Pattern"),
        (
            "The Examples - Test Pattern (Acoustic Version)",
            "The Examples",
            "Test Pattern (Acoustic Version)",
        ),
        ("The Examples - Test Pattern (2009)", "The Examples", "Test Pattern (2009)"),
        ("The Examples - Test Pattern - Live", "The Examples", "Test Pattern - Live"),
        ("Test Pattern (Official Video)", None, "Test Pattern"),
        ("Test Pattern", None, "Test Pattern"),
        ("Ex-Ample Crew Test Pattern", None, "Ex-Ample Crew Test Pattern"),
        ("【MV】架空楽団「夜の試験放送」", "架空楽団", "夜の試験放送"),
        ("Примеры - Тестовая таблица (Официальный клип)", "Примеры", "Тестовая таблица"),
    ],
)
def test_titles_split_into_artist_and_title(raw: str, artist: str | None, title: str) -> None:
    split = split_title(raw)
    assert (split.artist, split.title) == (artist, title)


def test_lookup_settings(tmp_path: Path) -> None:
    base = {"DISCORD_TOKEN": "t", "DATABASE_PATH": str(tmp_path / "x.sqlite3")}
    defaults = load_settings(base, env_file=None)
    assert defaults.external_lookups is True and defaults.lookup_contact == ""
    assert defaults.oembed_youtube_url == "https://www.youtube.com/oembed"
    assert defaults.oembed_vimeo_url == "https://vimeo.com/api/oembed.json"
    assert defaults.wikidata_api_url == "https://www.wikidata.org/w/api.php"
    chosen = load_settings(
        {
            **base,
            "EXTERNAL_LOOKUPS": "false",
            "LOOKUP_CONTACT": CONTACT,
            "WIKIDATA_API_URL": "http://127.0.0.1:9/w/api.php",
        },
        env_file=None,
    )
    assert chosen.external_lookups is False and chosen.lookup_contact == CONTACT
    assert chosen.wikidata_api_url == "http://127.0.0.1:9/w/api.php"
    assert not Lookups.from_settings(chosen).client.enabled
    with pytest.raises(SettingsError, match=r"OEMBED_VIMEO_URL.*the public one"):
        load_settings({**base, "OEMBED_VIMEO_URL": "vimeo.com/api"}, env_file=None)
    with pytest.raises(SettingsError, match="LOOKUP_CONTACT"):
        load_settings({**base, "LOOKUP_CONTACT": "me\r\nX-Evil: 1"}, env_file=None)
    with pytest.raises(SettingsError, match="EXTERNAL_LOOKUPS"):
        load_settings({**base, "EXTERNAL_LOOKUPS": "sometimes"}, env_file=None)


async def test_private_and_unknown_videos_do_not_turn_a_service_off(
    lookups: Lookups,
    lookup_services: ServicesStandIn,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A private video, one whose owner turned embedding off (401), an id YouTube does not
    know (400) or a bare "Forbidden" are about that video: the next video is still asked."""
    answers = [services.UNAUTHORIZED, services.BAD_REQUEST, services.FORBIDDEN_AS_200]
    refused = [youtube(f"TkTwPriv{n:03d}") for n in range(YOUTUBE.failures_before_pause + 1)]
    for n, link in enumerate(refused):
        lookup_services.refused[link] = answers[n % len(answers)]
    with caplog.at_level(logging.WARNING, logger="bot.lookups.client"):
        for link in refused:
            # Nothing found, and nothing said about YouTube not answering: it answered.
            assert await lookups.facts_for(link) == FoundFacts()
        assert (await lookups.facts_for(services.FULL)).title == Fact(
            "Test Pattern", services.FULL.url
        )
    assert len(lookup_services.asked("youtube")) == len(refused) + 1
    assert lookups.client.skip_left(YOUTUBE) == 0
    assert "skipped" not in caplog.text
    # Remembered as missing for a while, then asked again (it may have been made public).
    assert await lookups.facts_for(refused[0]) == FoundFacts()
    assert len(lookup_services.asked("youtube")) == len(refused) + 1
    clock.now += YOUTUBE.cache_missing_for + 1
    await lookups.facts_for(refused[0])
    assert len(lookup_services.asked("youtube")) == len(refused) + 2


def _names_item(item: str, name: str, kinds: list[str], **claims: list[str]) -> dict[str, Any]:
    """A made-up item for one test: its English label, what it is (P31), and item claims."""
    statements = {"P31": [services._item_statement("P31", kind) for kind in kinds]}
    for prop, targets in claims.items():
        statements[prop] = [services._item_statement(prop, target) for target in targets]
    return services._entity(item, {"en": name}, "made up for a test", claims=statements)


async def test_two_matching_music_videos_give_no_video_facts(
    lookups: Lookups, lookup_services: ServicesStandIn
) -> None:
    """A re-shoot with its own item, by the same band: which video the link is, is not
    guessed, and the draft says why the director is missing."""
    reshoot = "Q900050"
    lookup_services.entities[reshoot] = _names_item(
        reshoot,
        "Test Pattern",
        [services.MUSIC_VIDEO],
        P175=[services.EXAMPLES],
        P57=[services.YAMADA],
    )
    facts = await lookups.facts_for(services.FULL)
    base = lookup_services.base
    assert facts.video_item is None and facts.directors == () and facts.published is None
    assert facts.ambiguous == (
        f"{base}/wiki/{services.TEST_PATTERN_VIDEO}",
        f"{base}/wiki/{reshoot}",
    )
    # The song has one item: its facts are still used.
    song_item = f"{base}/wiki/{services.TEST_PATTERN_SONG}"
    assert facts.song_item == song_item and facts.album == Fact("Sample Rate", song_item)
    said = Draft(services.FULL.url, facts, Typed()).summary(lookups_on=True)
    assert said.splitlines()[1] == (
        "2 Wikidata items match this title and artist alike, so none was used: "
        f"[{services.TEST_PATTERN_VIDEO}]({base}/wiki/{services.TEST_PATTERN_VIDEO}), "
        f"[{reshoot}]({base}/wiki/{reshoot})."
    )


async def test_part_of_something_that_is_not_an_album_is_no_album(
    lookups: Lookups, lookup_services: ServicesStandIn
) -> None:
    series, song = "Q900060", "Q900061"
    lookup_services.entities[series] = _names_item(
        series, "Example Song Contest 2019", [services.TV_SERIES]
    )
    lookup_services.entities[song] = _names_item(
        song, "Signal Drift", [services.SONG], P175=[services.EXAMPLES], P361=[series]
    )
    # The real song item goes: the one left is part of a contest, not of an album.
    del lookup_services.entities[services.SIGNAL_DRIFT_SONG]
    facts = await lookups.facts_for(services.SONG_ONLY)
    assert facts.song_item == f"{lookup_services.base}/wiki/{song}"
    assert facts.album is None
    assert "Example Song Contest 2019" not in str(facts)


async def test_only_exact_title_hits_are_read_and_a_huge_item_is_never_fetched(
    lookups: Lookups, lookup_services: ServicesStandIn
) -> None:
    """The search also lists items whose name merely starts with the title: a film with
    thousands of statements among them is not fetched, and Wikidata is not paused."""
    film = "Q900070"
    lookup_services.entities[film] = _names_item(
        film, "Test Pattern: The Movie", [services.FILM], P161=[services.ANN] * 5000
    )
    facts = await lookups.facts_for(services.FULL)
    assert facts.video_item == f"{lookup_services.base}/wiki/{services.TEST_PATTERN_VIDEO}"
    assert facts.directors == (
        Fact("Ann Example", facts.video_item),
        Fact("Cal Placeholder", facts.video_item),
    )
    read = lookup_services.asked("wikidata")[1].query
    assert read["props"] == "labels|aliases|claims"
    assert set(read["ids"].split("|")) == {
        services.TEST_PATTERN_VIDEO,
        services.TEST_PATTERN_SONG,
        services.OTHER_TEST_PATTERN,
    }
    assert lookups.client.skip_left(WIKIDATA) == 0


async def test_the_cache_is_bounded_by_bytes(
    lookup_services: ServicesStandIn, clock: FakeClock
) -> None:
    first, second = youtube("TkTwCach001"), youtube("TkTwCach002")
    lookup_services.titles[first] = ("A Bare Title", "Somebody")
    lookup_services.titles[second] = ("Another Bare Title", "Somebody")
    # Room for one answer (some 430 bytes here), not two.
    client = LookupClient(cache_bytes=600, clock=clock, sleep=clock.sleep, wall_clock=clock)
    async with client:
        lookups = Lookups(client, youtube_oembed_url=lookup_services.youtube_url)
        await lookups.facts_for(first)
        await lookups.facts_for(first)
        assert len(lookup_services.asked("youtube")) == 1  # kept
        await lookups.facts_for(second)  # the first answer makes room for it
        await lookups.facts_for(first)
        assert len(lookup_services.asked("youtube")) == 3


def test_lookups_on_without_a_contact_warn_at_start_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    base = {"DISCORD_TOKEN": "t", "DATABASE_PATH": str(tmp_path / "x.sqlite3")}
    for environment, warned in (
        (base, True),
        ({**base, "LOOKUP_CONTACT": CONTACT}, False),
        ({**base, "EXTERNAL_LOOKUPS": "false"}, False),
    ):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="bot.lookups"):
            Lookups.from_settings(load_settings(environment, env_file=None))
        assert ("LOOKUP_CONTACT is empty" in caplog.text) is warned, environment


async def test_a_japanese_title_by_an_artist_named_only_in_english(
    lookups: Lookups, lookup_services: ServicesStandIn
) -> None:
    """Wikidata answers labels only in the languages asked for (the stand-in does too): the
    title's language finds the video, English names its performer."""
    band, video = "Q900080", "Q900081"
    link = youtube("TkTwJapa008")
    lookup_services.titles[link] = ("Example Band「朝の試験放送」", "Example Band")
    lookup_services.entities[band] = services._entity(band, {"en": "Example Band"})
    lookup_services.entities[video] = services._entity(
        video,
        {"ja": "朝の試験放送"},
        claims={
            "P31": [services._item_statement("P31", services.MUSIC_VIDEO)],
            "P175": [services._item_statement("P175", band)],
            "P57": [services._item_statement("P57", services.YAMADA)],
        },
    )
    facts = await lookups.facts_for(link)
    video_item = f"{lookup_services.base}/wiki/{video}"
    assert facts.video_item == video_item
    assert facts.performers == (Fact("Example Band", video_item),)
    assert facts.directors == (Fact("試験 太郎", video_item),)
    names = lookup_services.asked("wikidata")[2].query
    assert names["languages"] == "ja|en|mul"
