"""Search when one artist has many videos: a query that mixes artist and title words ranks
the videos holding all its words first, as typed in autocomplete and when typed by hand."""

from __future__ import annotations

import pytest

from bot.client import TakeTwoBot
from bot.db import Database
from bot.errors import UserFacingError
from bot.ui.video_option import VideoTransformer
from tests.fakes import make_interaction

# A made-up artist, so that no real one gets a video it never made: the videos the queries
# seek, and, for the crowded case, many more by the same artist sharing some of their words.
ARTIST = "The Examples"
SOUGHT = ["Static Together", "Test Pattern", "CALM."]
CROWD = [f"Made Up Song {n}" for n in range(40)] + ["Static Game", "Together Here"]


@pytest.fixture(params=["a few videos", "many videos"])
async def one_artist_db(catalog_db: Database, request: pytest.FixtureRequest) -> Database:
    titles = SOUGHT if request.param == "a few videos" else SOUGHT + CROWD
    async with catalog_db.transaction() as tx:
        for n, title in enumerate(titles):
            await tx.videos.upsert(
                slug=f"the-examples-{n}",
                title=title,
                artist=ARTIST,
                album=None,
                year=None,
                url=None,
            )
    return catalog_db


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("kendrick lamar we cry", "We Cry Together"),
        ("kendrick lamar alright", "Alright"),
        ("lamar humble", "HUMBLE."),
        ("we cry kendrick", "We Cry Together"),
        ("the examples static together", "Static Together"),
        ("the examples test pattern", "Test Pattern"),
        ("examples calm", "CALM."),
        ("static together examples", "Static Together"),
    ],
)
async def test_mixed_artist_and_title_words_rank_the_video_with_every_word_first(
    one_artist_db: Database, typed: str, first: str
) -> None:
    async with one_artist_db.lookup() as session:
        found = await session.videos.search_as_typed(typed, limit=25)
    assert found and found[0].title == first, [v.title for v in found]
    async with one_artist_db.read() as session:
        assert (await session.videos.resolve(typed)).title == first


async def test_only_artist_words_typed_by_hand_ask_which_video(catalog_db: Database) -> None:
    async with catalog_db.read() as session:
        with pytest.raises(UserFacingError, match="Several videos match"):
            await session.videos.resolve("kendrick lamar")


async def test_autocomplete_with_broken_text_still_answers(bot: TakeTwoBot) -> None:
    # Discord's client never sends half an emoji, but a forged request can: the lookup
    # must not fail (SQLite refuses lone surrogates) and leave the member's list empty.
    choices = await VideoTransformer().autocomplete(make_interaction(bot), "we\ud800 cr\x00y")
    assert choices and choices[0].name.startswith("We Cry Together")


async def test_a_short_word_is_not_crowded_out_by_many_videos_of_one_artist(
    catalog_db: Database,
) -> None:
    async with catalog_db.transaction() as tx:
        for n in range(150):
            await tx.videos.upsert(
                slug=f"the-examples-made-up-{n}",
                title=f"Made Up Song {n}",
                artist="The Examples",
                album=None,
                year=None,
                url=None,
            )
        await tx.videos.upsert(
            slug="the-examples-we-go-on",
            title="We Go On",
            artist="The Examples",
            album=None,
            year=None,
            url=None,
        )
    async with catalog_db.lookup() as session:
        found = await session.videos.search_as_typed("the examples we go", limit=25)
    assert found and found[0].title == "We Go On"
