"""Lookups against the loopback stand-in (bot/standin/services.py): real sockets, made-up facts, a
fake clock for cache, pace and skip times (nothing here waits for real time to pass)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.links import youtube
from bot.lookups import Fact, FoundFacts, LookupClient, Lookups, split_title
from bot.lookups.oembed import YOUTUBE
from bot.lookups.wikidata import WIKIDATA
from bot.settings import SettingsError, load_settings
from bot.standin import services
from bot.standin.services import ServicesStandIn

CONTACT = "editors@taketwo.example"


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
    # oEmbed once, then Wikidata's search, the items, and the names they refer to.
    assert [seen.service for seen in lookup_services.requests] == ["youtube", *["wikidata"] * 3]
    assert lookup_services.requests[0].query == {"url": page, "format": "json"}
    for seen in lookup_services.requests:
        assert seen.user_agent.startswith("TakeTwo/") and CONTACT in seen.user_agent
    # Wikidata is asked at its pace: the second and third requests waited their turn.
    assert clock.slept == [WIKIDATA.min_interval, WIKIDATA.min_interval]


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
            assert await lookups.facts_for(services.FULL) == FoundFacts()
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
            assert await lookups.facts_for(link) == FoundFacts()
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
        assert await lookups.facts_for(youtube(f"TkTwErr{n:04d}")) == FoundFacts()
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
