"""Each command's callback, with what Discord would receive checked: embeds and their limits,
ephemeral flags, allowed mentions, buttons; and what the database holds afterwards."""

from __future__ import annotations

import logging
import re
from typing import Any
from unittest.mock import MagicMock

import discord
import pytest

from bot.client import TakeTwoBot
from bot.db.models import PressReview
from bot.startup import new_database
from bot.ui.components import CreditsButton, QuoteButton, RateButton, ScoreSelect
from bot.ui.video_option import VideoTransformer
from tests.fakes import assert_embed_limits, assert_no_mentions, invoke, make_interaction

GUILD = 500


async def video_id(bot: TakeTwoBot, title: str) -> int:
    async with bot.db.read() as session:
        return (await session.videos.resolve(title)).id


async def test_review_shows_catalog_press_and_buttons(bot: TakeTwoBot) -> None:
    [sent] = await invoke(bot, "review", make_interaction(bot), video="We Cry Together")
    embed = sent.embed
    assert not sent.ephemeral
    assert_no_mentions(sent)
    assert_embed_limits(embed)
    assert embed.title == "We Cry Together"
    assert "Mr. Morale & The Big Steppers" in (embed.description or "")
    assert "2022" in (embed.description or "")
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Directed by"] == "Jake Schreier, Dave Free, Kendrick Lamar"
    assert any((name or "").startswith("Our Generation Music:") for name in fields)
    assert "no ratings yet" in (fields["Community score in Video Club"] or "")
    vid = await video_id(bot, "We Cry Together")
    assert sent.custom_ids() == [
        f"taketwo:rate:{vid}",
        f"taketwo:credits:{vid}",
        f"taketwo:quote:{vid}",
    ]
    assert sent.view is not None and sent.view.timeout is None


async def test_review_shows_server_score_with_histogram(bot: TakeTwoBot) -> None:
    for user, score in [(1, 9), (2, 9), (3, 7), (4, 10)]:
        await invoke(
            bot, "rate", make_interaction(bot, user_id=user), video="We Cry Together", score=score
        )
    await invoke(
        bot,
        "rate",
        make_interaction(bot, user_id=9, guild_id=999),
        video="We Cry Together",
        score=1,
    )
    [sent] = await invoke(bot, "review", make_interaction(bot, user_id=3), video="we cry")
    community = {f.name: f.value for f in sent.embed.fields}["Community score in Video Club"] or ""
    assert "**8.75**/10 from 4 ratings" in community
    lines = community.split("```")[1].strip().splitlines()
    assert lines[0].startswith("10 █") and lines[0].endswith(" 1")
    assert lines[1].startswith(" 9 ██") and lines[1].endswith(" 2")
    assert lines[-1] == " 1" + " " * 16 + "0"
    assert sent.embed.footer.text is not None
    assert sent.embed.footer.text.startswith("Your score: 7/10")


async def test_review_of_unknown_video_is_an_ephemeral_sentence(bot: TakeTwoBot) -> None:
    [sent] = await invoke(bot, "review", make_interaction(bot), video="Swimming Together")
    assert sent.ephemeral
    assert sent.content is not None
    assert sent.content.startswith("No video matches “Swimming Together”")
    assert "Closest titles" in sent.content


async def test_review_with_a_typo_typed_by_hand_finds_the_video(bot: TakeTwoBot) -> None:
    [sent] = await invoke(bot, "review", make_interaction(bot), video="We Cyr Togehter")
    assert sent.embed.title == "We Cry Together"


async def test_review_of_oversized_catalog_entry_stays_within_limits(bot: TakeTwoBot) -> None:
    async with bot.db.transaction() as tx:
        vid = await tx.videos.upsert(
            slug="huge", title="T" * 300, artist="A " * 150, album="B" * 200, year=2020, url=None
        )
        await tx.videos.replace_reviews(
            vid,
            [
                PressReview(
                    headline="H " * 150,
                    summary="word " * 200,
                    outlet="O" * 100,
                    url="https://example.org/" + "x" * 400,
                )
                for _ in range(6)
            ],
        )
    [sent] = await invoke(bot, "review", make_interaction(bot), video=f"id:{vid}")
    assert_embed_limits(sent.embed)
    assert sent.embed.title is not None and sent.embed.title.endswith("…")


async def test_credits_grouped_by_role(bot: TakeTwoBot) -> None:
    [sent] = await invoke(bot, "credits", make_interaction(bot), video="we cry together")
    assert_no_mentions(sent)
    assert_embed_limits(sent.embed)
    # The song's producer is not the video's: it comes after, under its own heading.
    assert [(f.name, f.value) for f in sent.embed.fields if f.name != "Sources"] == [
        ("Director", "Jake Schreier\nDave Free\nKendrick Lamar"),
        ("Cast", "Kendrick Lamar\nTaylour Paige"),
        ("Song credits", "**Producer**: The Alchemist"),
    ]


async def test_credits_lists_the_sources_last(bot: TakeTwoBot) -> None:
    [sent] = await invoke(bot, "credits", make_interaction(bot), video="Formation")
    assert_embed_limits(sent.embed)
    assert [(f.name, f.value) for f in sent.embed.fields] == [
        ("Director", "Melina Matsoukas"),
        (
            "Sources",
            "[en.wikipedia.org](https://en.wikipedia.org/wiki/Formation_%28music_video%29)\n"
            "[piglix.com](http://piglix.com/piglix/Formation_%28song%29)",
        ),
    ]


async def test_rate_is_ephemeral_and_shows_new_mean(bot: TakeTwoBot) -> None:
    await invoke(bot, "rate", make_interaction(bot, user_id=1), video="Alright", score=6)
    [sent] = await invoke(bot, "rate", make_interaction(bot, user_id=2), video="Alright", score=9)
    assert sent.ephemeral
    assert_no_mentions(sent)
    assert sent.content == "You rated **Alright** 9/10. Server score: **7.50**/10 from 2 ratings."
    [again] = await invoke(bot, "rate", make_interaction(bot, user_id=2), video="Alright", score=10)
    assert again.content is not None and "**8.00**/10 from 2 ratings" in again.content
    async with bot.db.read() as session:
        assert await session.ratings.member_score(GUILD, await video_id(bot, "Alright"), 2) == 10


async def test_a_video_renamed_by_another_process_shows_its_new_title_at_once(
    bot: TakeTwoBot,
) -> None:
    """The bot keeps picked videos in memory; a rename made elsewhere (a catalog import
    beside the bot, another bot process) must not leave the old title in its answers."""
    vid = await video_id(bot, "Alright")
    choice = f"id:{vid}"
    [first] = await invoke(bot, "rate", make_interaction(bot, user_id=1), video=choice, score=6)
    assert first.content is not None and first.content.startswith("You rated **Alright**")
    other = new_database(bot.settings)  # another process, on the same database
    await other.open()
    try:
        async with other.transaction() as tx:
            old = await tx.videos.get(vid)
            await tx.videos.upsert(
                slug=old.slug, title="Alright (Renamed)", artist=old.artist, album=old.album,
                year=old.year, url=old.url,
            )  # fmt: skip
    finally:
        await other.close()
    [second] = await invoke(bot, "rate", make_interaction(bot, user_id=2), video=choice, score=7)
    assert second.content is not None
    assert second.content.startswith("You rated **Alright (Renamed)**"), second.content


async def test_rate_out_of_range_writes_nothing(bot: TakeTwoBot) -> None:
    [sent] = await invoke(bot, "rate", make_interaction(bot), video="Alright", score=11)
    assert sent.ephemeral and sent.content == "A score is a whole number from 1 to 10."
    async with bot.db.read() as session:
        summary = await session.ratings.summary(GUILD, await video_id(bot, "Alright"))
    assert summary.count == 0


async def test_top_ranks_and_states_the_prior(bot: TakeTwoBot) -> None:
    [empty] = await invoke(bot, "top", make_interaction(bot))
    assert empty.ephemeral and empty.content is not None and "rate some" in empty.content
    for user in range(5):
        await invoke(bot, "rate", make_interaction(bot, user_id=user), video="HUMBLE.", score=8)
        await invoke(bot, "rate", make_interaction(bot, user_id=user), video="Alright", score=10)
    [sent] = await invoke(bot, "top", make_interaction(bot), count=5)
    assert_embed_limits(sent.embed)
    description = sent.embed.description or ""
    assert description.index("Alright") < description.index("HUMBLE.")
    footer = sent.embed.footer.text or ""
    assert "Bayesian" in footer and "9.00" in footer and "3 ratings" in footer


async def test_quote_add_with_everyone_never_pings(bot: TakeTwoBot) -> None:
    text = "@everyone <@&123> this video is a masterpiece"
    [sent] = await invoke(
        bot,
        "quote add",
        make_interaction(bot, user_id=5),
        text=text,
        video="we cry together",
        said_by="@here fan",
    )
    assert_no_mentions(sent)
    assert_embed_limits(sent.embed)
    assert sent.content is not None and "@everyone" not in sent.content
    match = re.search(r"#(\d+)", sent.content)
    assert match is not None
    async with bot.db.read() as session:
        quote = await session.quotes.get(int(match.group(1)))
    assert quote is not None
    assert (quote.text, quote.said_by, quote.saved_by, quote.guild_id) == (
        text,
        "@here fan",
        5,
        GUILD,
    )
    assert quote.video_title == "We Cry Together"
    [random_sent] = await invoke(bot, "quote random", make_interaction(bot))
    assert_no_mentions(random_sent)
    assert "@everyone" in (random_sent.embed.description or "")


async def test_quote_random_falls_back_to_sample_quotes(bot: TakeTwoBot) -> None:
    [sent] = await invoke(bot, "quote random", make_interaction(bot), video="HUMBLE.")
    assert not sent.ephemeral
    assert "sample quote" in (sent.embed.footer.text or "")
    [none] = await invoke(bot, "quote random", make_interaction(bot), video="Formation")
    assert not none.ephemeral  # Formation has a sample quote too
    async with bot.db.transaction() as tx:
        vid = await tx.videos.upsert(
            slug="quiet", title="Quiet Video", artist="Nobody", album=None, year=None, url=None
        )
    [missing] = await invoke(bot, "quote random", make_interaction(bot), video=f"id:{vid}")
    assert missing.ephemeral and "no quotes about “Quiet Video”" in (missing.content or "")


async def test_quote_remove_permissions(bot: TakeTwoBot) -> None:
    [added] = await invoke(bot, "quote add", make_interaction(bot, user_id=5), text="mine")
    quote_id = int(re.findall(r"\d+", added.content or "")[0])

    [refused] = await invoke(bot, "quote remove", make_interaction(bot, user_id=6), id=quote_id)
    assert refused.ephemeral and "Manage Messages" in (refused.content or "")
    async with bot.db.read() as session:
        assert await session.quotes.get(quote_id) is not None

    moderator = discord.Permissions(manage_messages=True)
    [removed] = await invoke(
        bot, "quote remove", make_interaction(bot, user_id=6, permissions=moderator), id=quote_id
    )
    assert removed.ephemeral and removed.content == f"Removed quote #{quote_id}."
    async with bot.db.read() as session:
        assert await session.quotes.get(quote_id) is None

    [again] = await invoke(bot, "quote remove", make_interaction(bot, user_id=5), id=quote_id)
    assert again.ephemeral and again.content == f"There is no quote #{quote_id} in this server."


async def test_saver_removes_own_quote_but_not_catalog_or_other_servers(bot: TakeTwoBot) -> None:
    [added] = await invoke(bot, "quote add", make_interaction(bot, user_id=5), text="mine")
    quote_id = int(re.findall(r"\d+", added.content or "")[0])
    [other_server] = await invoke(
        bot, "quote remove", make_interaction(bot, user_id=5, guild_id=42), id=quote_id
    )
    assert "no quote" in (other_server.content or "")
    [own] = await invoke(bot, "quote remove", make_interaction(bot, user_id=5), id=quote_id)
    assert own.content == f"Removed quote #{quote_id}."
    async with bot.db.read() as session:
        catalog_quote = await session.quotes.random(GUILD)
    assert catalog_quote is not None and catalog_quote.guild_id == 0
    [refused] = await invoke(
        bot,
        "quote remove",
        make_interaction(bot, permissions=discord.Permissions.all()),
        id=catalog_quote.id,
    )
    assert refused.ephemeral and "catalog" in (refused.content or "")


def fake_message(content: str, author_id: int = 77) -> Any:
    message = MagicMock(spec=discord.Message)
    message.content = content
    message.author = MagicMock(spec=discord.Member)
    message.author.id = author_id
    message.author.display_name = "Critic"
    message.jump_url = "https://discord.com/channels/500/600/700"
    return message


async def test_save_as_quote_menu_keeps_author_and_link(bot: TakeTwoBot) -> None:
    menu = bot.tree.get_command("Save as quote", type=discord.AppCommandType.message)
    assert isinstance(menu, discord.app_commands.ContextMenu)
    interaction = make_interaction(bot, user_id=5)
    await menu.callback(interaction, fake_message("@everyone best video of the year"))
    [sent] = interaction.sent
    assert_no_mentions(sent)
    quote_id = int(re.findall(r"\d+", sent.content or "")[0])
    async with bot.db.read() as session:
        quote = await session.quotes.get(quote_id)
    assert quote is not None
    assert (quote.said_by, quote.author_id, quote.saved_by) == ("Critic", 77, 5)
    assert quote.source_url == "https://discord.com/channels/500/600/700"

    empty = make_interaction(bot)
    with pytest.raises(Exception) as caught:
        await menu.callback(empty, fake_message("   "))
    assert "no text" in str(caught.value)


async def test_autocomplete_respects_discord_limits(bot: TakeTwoBot) -> None:
    async with bot.db.transaction() as tx:
        for n in range(40):
            await tx.videos.upsert(
                slug=f"v{n}",
                title=f"Long video {n} " + "x" * 150,
                artist="Band",
                album=None,
                year=None,
                url=None,
            )
    transformer = VideoTransformer()
    for typed in ("", "long", "we", "x" * 300, "béyonce"):
        choices = await transformer.autocomplete(make_interaction(bot), typed)
        assert len(choices) <= 25
        assert all(1 <= len(c.name) <= 100 and len(str(c.value)) <= 100 for c in choices)
    [first] = await transformer.autocomplete(make_interaction(bot), "we cry")
    assert first.name == "We Cry Together — Kendrick Lamar & Taylour Paige"
    assert first.value == f"id:{await video_id(bot, 'We Cry Together')}"


async def test_rate_button_then_select_saves_the_rating(bot: TakeTwoBot) -> None:
    vid = await video_id(bot, "HUMBLE.")
    interaction = make_interaction(bot, user_id=8)
    await RateButton(vid).callback(interaction)
    [prompt] = interaction.sent
    assert prompt.ephemeral
    [select] = prompt.view.children
    assert select.custom_id == f"taketwo:score:{vid}"
    assert len(select.item.options) == 10

    chose = make_interaction(bot, user_id=8, data={"values": ["7"]})
    await ScoreSelect(vid).callback(chose)
    [edited] = chose.sent
    assert edited.kind == "edit"
    assert edited.content == "You rated **HUMBLE.** 7/10. Server score: **7.00**/10 from 1 rating."
    async with bot.db.read() as session:
        assert await session.ratings.member_score(GUILD, vid, 8) == 7


async def test_score_select_checks_the_value_on_the_server(bot: TakeTwoBot) -> None:
    vid = await video_id(bot, "HUMBLE.")
    for values in (["11"], ["0"], ["abc"], [], ["3", "4"]):
        chose = make_interaction(bot, user_id=8, data={"values": values})
        await ScoreSelect(vid).callback(chose)
        [sent] = chose.sent
        assert sent.ephemeral and sent.content == "Pick one score from 1 to 10."
    async with bot.db.read() as session:
        assert await session.ratings.member_score(GUILD, vid, 8) is None


async def test_credits_and_quote_buttons(bot: TakeTwoBot) -> None:
    vid = await video_id(bot, "We Cry Together")
    credits = make_interaction(bot)
    await CreditsButton(vid).callback(credits)
    assert credits.sent[0].ephemeral
    assert credits.sent[0].embed.title == "Credits: We Cry Together"
    quote = make_interaction(bot)
    await QuoteButton(vid).callback(quote)
    assert quote.sent[0].ephemeral
    assert quote.sent[0].embed.fields[0].value == "We Cry Together"


async def test_button_for_a_removed_video_says_so(bot: TakeTwoBot) -> None:
    interaction = make_interaction(bot)
    await CreditsButton(987654).callback(interaction)
    assert interaction.sent[0].ephemeral
    assert interaction.sent[0].content == "That video is no longer in the catalog."


async def test_buttons_are_registered_to_survive_restarts(bot: TakeTwoBot) -> None:
    store = bot._connection._view_store
    patterns = [p.pattern for p in store._dynamic_items]
    for item in (RateButton, ScoreSelect, CreditsButton, QuoteButton):
        assert item.__discord_ui_compiled_template__.pattern in patterns
    for custom_id in ("taketwo:rate:1", "taketwo:credits:1", "taketwo:quote:1", "taketwo:score:1"):
        assert any(p.fullmatch(custom_id) for p in store._dynamic_items)


async def test_commands_in_direct_messages_get_a_sentence(bot: TakeTwoBot) -> None:
    [sent] = await invoke(
        bot, "rate", make_interaction(bot, guild_id=None), video="Alright", score=5
    )
    assert sent.ephemeral and "servers" in (sent.content or "")


async def test_unexpected_error_is_logged_with_a_code_the_member_sees(
    bot: TakeTwoBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    async with bot.db.lookup() as session:  # the engine's own query class
        monkeypatch.setattr(type(session.videos), "credits_and_sources", broken)
    with caplog.at_level(logging.ERROR, logger="taketwo.errors"):
        [sent] = await invoke(bot, "credits", make_interaction(bot), video="Alright")
    assert sent.ephemeral
    match = re.search(r"error code ([0-9A-F]{6})", sent.content or "")
    assert match is not None
    assert "disk on fire" not in (sent.content or "")
    assert any(match.group(1) in r.getMessage() for r in caplog.records)


async def test_autocomplete_finds_a_title_typed_with_a_typo(bot: TakeTwoBot) -> None:
    """Nothing matches "fromation" as typed, so the near-miss pass (off the event loop)
    still offers the video the member meant."""
    choices = await VideoTransformer().autocomplete(make_interaction(bot), "fromation")
    assert choices, "a typo should still find the video"
    assert choices[0].name.startswith("Formation")
    assert choices[0].value == f"id:{await video_id(bot, 'Formation')}"
