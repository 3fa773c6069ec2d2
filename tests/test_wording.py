"""Counts and lists in the bot's sentences."""

from __future__ import annotations

import discord
import pytest

from bot.client import TakeTwoBot
from bot.db.models import PressReview
from bot.errors import UserFacingError
from bot.wording import SINGULAR, count, counts, listing
from tests.fakes import invoke, make_interaction
from tests.made_up import TITLE, add_made_up_video
from tests.test_commands import fake_message


@pytest.mark.parametrize(
    ("n", "noun", "said"),
    [
        (0, "ratings", "0 ratings"),
        (1, "ratings", "1 rating"),
        (2, "ratings", "2 ratings"),
        (1, "moderation log entries", "1 moderation log entry"),
        (12500, "quotes", "12,500 quotes"),
    ],
)
def test_count(n: int, noun: str, said: str) -> None:
    assert count(n, noun) == said


def test_a_noun_without_a_known_singular_is_a_bug_not_a_typo() -> None:
    with pytest.raises(KeyError):
        count(1, "thingies")


def test_counts_and_listing() -> None:
    assert counts({"ratings": 2, "takes": 1, "quotes": 0}, skip_zero=True) == "2 ratings and 1 take"
    assert counts({"ratings": 1, "takes": 0, "quotes": 3}) == "1 rating, 0 takes and 3 quotes"
    assert listing([]) == "" and listing(["a"]) == "a"
    assert all(
        not singular.endswith("s") or singular.endswith("ss") for singular in SINGULAR.values()
    )


async def test_sentences_count_right_and_speak_to_you(editor_bot: TakeTwoBot) -> None:
    bot = editor_bot
    me = 77
    await invoke(bot, "rate", make_interaction(bot, user_id=me), video="Alright", score=3)
    # Forget-me says what went, one of each, without "1 ratings".
    from cogs.privacy import ForgetButton

    confirm = make_interaction(bot, user_id=me)
    await ForgetButton(me, confirm=True).callback(confirm)
    assert "(1 rating)" in (confirm.sent[0].content or "")

    # Quoting yourself after asking not to be quoted speaks to you.
    await invoke(bot, "privacy no-quotes", make_interaction(bot, user_id=me))
    menu = bot.tree.get_command("Save as quote", type=discord.AppCommandType.message)
    own = make_interaction(bot, user_id=me)
    with pytest.raises(UserFacingError, match=r"^You have asked not to be quoted here"):
        await menu.callback(own, fake_message("my own words", author_id=me))  # type: ignore[union-attr]


async def test_a_press_review_without_outlet_shows_its_headline_and_author(
    bot: TakeTwoBot,
) -> None:
    vid = await add_made_up_video(bot.db)
    async with bot.db.transaction() as tx:
        await tx.videos.add_review(
            vid,
            PressReview(
                headline="A made-up headline for the test",
                summary="A short summary written in our own words for the test.",
                outlet=None,
                author="Ann Example",
                published_on=None,
                url=None,
            ),
        )
    [shown] = await invoke(bot, "review", make_interaction(bot), video=TITLE)
    names = [f.name or "" for f in shown.embed.fields]
    assert "“A made-up headline for the test” by Ann Example" in names
    assert not any(name.startswith("Press review") for name in names)
