"""What /credits shows: the video's credits by role (whatever the case of the role), the
song's under their own heading, and the links that back them, always within Discord's limits."""

from __future__ import annotations

import re

from bot.client import TakeTwoBot
from bot.db.models import Credit, Video
from bot.ui import embeds
from bot.ui.limits import FIELD_VALUE
from tests.fakes import assert_embed_limits, assert_no_mentions, invoke, make_interaction
from tests.made_up import TITLE, add_made_up_video

VIDEO = Video(id=1, slug="a-b", title="B", artist="A", album="C", year=2020)
# One source as /credits shows it: the site, linked to the page.
LINK = re.compile(r"\[[^\]]+\]\(https?://[^()\s]+\)")


async def test_roles_that_differ_only_in_case_are_one_group(bot: TakeTwoBot) -> None:
    await add_made_up_video(
        bot.db,
        [
            Credit("Cast", "Ann"),
            Credit("director", "Dee"),
            Credit("cast", "Bob"),
            Credit("CAST", "Cy"),
            Credit("Director", "Eve"),
            Credit("producer", "Pat", "song"),
            Credit("Producer", "Sam", "song"),
        ],
    )
    [sent] = await invoke(bot, "credits", make_interaction(bot), video=TITLE)
    assert_no_mentions(sent)
    assert_embed_limits(sent.embed)
    assert [(f.name, f.value) for f in sent.embed.fields if f.name != embeds.SOURCES] == [
        ("Cast", "Ann\nBob\nCy"),
        ("Director", "Dee\nEve"),
        ("Song credits", "**Producer**: Pat, Sam"),
    ]


def test_sources_are_links_under_the_credits() -> None:
    credits = [Credit("Director", "D"), Credit("Producer", "P", "song")]
    sources = [
        "https://www.stereogum.com/2198221/a-short-film/news/",
        "https://en.wikipedia.org/wiki/Formation_(music_video)",
    ]
    embed = embeds.credits_embed(VIDEO, credits, sources)
    assert_embed_limits(embed)
    assert [f.name for f in embed.fields] == ["Director", "Song credits", "Sources"]
    assert embed.fields[-1].value == (
        "[stereogum.com](https://www.stereogum.com/2198221/a-short-film/news/)\n"
        "[en.wikipedia.org](https://en.wikipedia.org/wiki/Formation_%28music_video%29)"
    )


def test_the_longest_credits_give_way_to_whole_source_links() -> None:
    credits = [Credit(f"Role {n} " + "r" * 90, "N" * 200) for n in range(90)]
    credits += [Credit(f"Song role {n}", "S" * 200, "song") for n in range(10)]
    sources = [f"https://example{n}.org/" + "x" * 470 for n in range(10)]
    embed = embeds.credits_embed(VIDEO, credits, sources)
    assert_embed_limits(embed)
    names = [f.name for f in embed.fields]
    assert names[-2:] == ["Song credits", "Sources"]
    lines = (embed.fields[-1].value or "").split("\n")
    *links, more = lines
    assert links and all(LINK.fullmatch(line) for line in links)
    assert more == f"…and {len(sources) - len(links)} more"
    assert len(embed.fields[-1].value or "") <= FIELD_VALUE


def test_no_credits_and_no_sources() -> None:
    embed = embeds.credits_embed(VIDEO, [])
    assert embed.fields == []
    assert (embed.description or "").endswith("No credits are listed yet.")
