"""Takes, agrees, moderation, privacy, catalog editing and write limits, through the
commands' callbacks with spec'd doubles, checked against what the database holds."""

from __future__ import annotations

import re
import time
from typing import Any

import discord
import pytest

from bot.client import TakeTwoBot
from bot.db.models import Credit
from cogs.catalog import CreditsModal, RemoveVideoButton
from cogs.privacy import ForgetButton
from cogs.takes import AgreeButton, PageButton, TakeModal
from tests import raw
from tests.fakes import (
    assert_embed_limits,
    assert_no_mentions,
    invoke,
    make_interaction,
    submit_form,
)
from tests.made_up import TITLE, add_made_up_video
from tests.stores import Stores

GUILD = 500
MODS = discord.Permissions(manage_messages=True)


async def video_id(bot: TakeTwoBot, title: str) -> int:
    async with bot.db.read() as session:
        return (await session.videos.resolve(title)).id


async def write_take(bot: TakeTwoBot, user: int, title: str, score: str, text: str) -> Any:
    """/take opens the modal; the member fills it in and submits."""
    opened = make_interaction(bot, user_id=user)
    [sent] = await invoke(bot, "take", opened, video=title)
    assert sent.kind == "modal"
    modal: TakeModal = sent.kwargs["modal"]
    submitted = await submit_form(bot, modal, {"score": score, "text": text}, user_id=user)
    return submitted.sent[0]


MEMBER_COLUMNS = ("user_id", "saved_by", "author_id", "removed_by", "updated_by", "claimed_by")


async def rows_mentioning(bot: TakeTwoBot, user_id: int) -> dict[str, int]:
    """Every row in every table with a column that holds this member's id."""
    found = {}
    for table in await raw.tables(bot.settings):
        columns, _ = await raw.table(bot.settings, table)
        for column in (c for c in columns if c in MEMBER_COLUMNS):
            # As text: claimed_by names a process, and PostgreSQL compares only like types.
            n = await raw.value(
                bot.settings,
                f"SELECT count(*) FROM {table} WHERE CAST({column} AS TEXT) = ?",
                str(user_id),
            )
            if n:
                found[f"{table}.{column}"] = n
    return found


async def test_take_is_saved_edited_and_counts_as_rating(bot: TakeTwoBot) -> None:
    saved = await write_take(bot, 1, "We Cry Together", "8", "Raw, tense, unforgettable.")
    assert saved.ephemeral and "take #" in (saved.content or "")
    edited = await write_take(bot, 1, "We Cry Together", " 10 ", "Even better the second time.")
    assert "(10/10)" in (edited.content or "")
    vid = await video_id(bot, "We Cry Together")
    async with bot.db.read() as session:
        take = await session.takes.of_member(GUILD, vid, 1)
        assert take is not None and (take.score, take.text) == (10, "Even better the second time.")
        assert await session.takes.count(GUILD, vid) == 1
        assert await session.ratings.member_score(GUILD, vid, 1) == 10
    # Running /take again opens the modal filled with the member's take.
    [again] = await invoke(bot, "take", make_interaction(bot, user_id=1), video="we cry")
    assert again.kwargs["modal"].text.default == "Even better the second time."


async def test_bad_take_score_writes_nothing(bot: TakeTwoBot) -> None:
    for score in ("eleven", "0", "11", ""):
        refused = await write_take(bot, 2, "Alright", score, "Words")
        assert refused.ephemeral and "1 to 10" in (refused.content or "")
    async with bot.db.read() as session:
        assert await session.takes.count(GUILD, await video_id(bot, "Alright")) == 0
        assert (await session.ratings.summary(GUILD, await video_id(bot, "Alright"))).count == 0


async def test_takes_sorted_paginated_and_only_the_asker_turns_pages(bot: TakeTwoBot) -> None:
    for user in range(1, 8):
        await write_take(bot, user, "HUMBLE.", str(user + 2), f"take by {user} @everyone")
    [newest] = await invoke(bot, "takes", make_interaction(bot, user_id=50), video="humble")
    assert_no_mentions(newest)
    assert_embed_limits(newest.embed)
    names = [f.name or "" for f in newest.embed.fields]
    assert len(names) == 5 and names[0].endswith("9/10")  # user 7 wrote last
    assert newest.embed.footer.text == "Page 1 of 2 · 7 takes · newest first"
    [highest] = await invoke(
        bot, "takes", make_interaction(bot, user_id=50), video="humble", sort="highest"
    )
    scores = [int(re.findall(r"(\d+)/10", f.name or "")[0]) for f in highest.embed.fields]
    assert scores == sorted(scores, reverse=True)

    next_id = newest.custom_ids()[-1]
    assert next_id.startswith("taketwo:page:")
    match = next(p.fullmatch(next_id) for p in [PageButton.__discord_ui_compiled_template__])
    assert match is not None
    button = await PageButton.from_custom_id(make_interaction(bot), None, match)  # type: ignore[arg-type]

    stranger = make_interaction(bot, user_id=51)
    await button.callback(stranger)
    assert stranger.sent[0].ephemeral and "Only the member" in (stranger.sent[0].content or "")

    owner = make_interaction(bot, user_id=50)
    await button.callback(owner)
    assert owner.sent[0].kind == "edit"
    assert owner.sent[0].kwargs["embed"].footer.text.startswith("Page 2 of 2")

    button.until = int(time.time()) - 1
    late = make_interaction(bot, user_id=50)
    await button.callback(late)
    assert late.sent[0].ephemeral and "expired" in (late.sent[0].content or "")


async def test_agree_once_and_review_shows_the_most_agreed(bot: TakeTwoBot) -> None:
    await write_take(bot, 1, "Formation", "9", "A masterclass in staging.")
    await write_take(bot, 2, "Formation", "6", "Not for me.")
    vid = await video_id(bot, "Formation")
    async with bot.db.read() as session:
        first = await session.takes.of_member(GUILD, vid, 1)
    assert first is not None
    for voter in (3, 4, 3):
        pressed = make_interaction(bot, user_id=voter)
        await AgreeButton(first.id).callback(pressed)
        assert pressed.sent[0].ephemeral
    assert "already" in (pressed.sent[0].content or "")
    own = make_interaction(bot, user_id=1)
    await AgreeButton(first.id).callback(own)
    assert "your own take" in (own.sent[0].content or "")

    [review] = await invoke(bot, "review", make_interaction(bot), video="Formation")
    takes_field = {f.name: f.value for f in review.embed.fields}["Community takes"] or ""
    assert takes_field.startswith("2 takes")
    assert "Most agreed (2): “A masterclass in staging.”" in takes_field


async def test_take_removal_rules_and_log(bot: TakeTwoBot) -> None:
    await write_take(bot, 1, "Alright", "7", "Hopeful and loud.")
    vid = await video_id(bot, "Alright")
    async with bot.db.read() as session:
        take = await session.takes.of_member(GUILD, vid, 1)
    assert take is not None
    [refused] = await invoke(bot, "take-remove", make_interaction(bot, user_id=2), id=take.id)
    assert refused.ephemeral and "Manage Messages" in (refused.content or "")
    [removed] = await invoke(
        bot,
        "take-remove",
        make_interaction(bot, user_id=9, permissions=MODS),
        id=take.id,
        reason="spoilers",
    )
    assert removed.ephemeral and removed.content is not None and "logged" in removed.content
    [listing] = await invoke(bot, "takes", make_interaction(bot), video="Alright")
    assert listing.embed.description == "No takes yet: write the first with /take."
    log = await raw.rows(
        bot.settings, "SELECT kind, item_id, author_id, removed_by, reason FROM moderation_log"
    )
    assert log == [("take", take.id, 1, 9, "spoilers")]


async def test_forget_me_leaves_no_row_behind(bot: TakeTwoBot) -> None:
    me, other = 77, 78
    await write_take(bot, me, "We Cry Together", "9", "Mine.")
    await write_take(bot, other, "We Cry Together", "5", "Theirs.")
    await invoke(bot, "rate", make_interaction(bot, user_id=me), video="Alright", score=3)
    await invoke(bot, "quote add", make_interaction(bot, user_id=me), text="I saved this")
    vid = await video_id(bot, "We Cry Together")
    async with bot.db.transaction() as tx:
        theirs = await tx.takes.of_member(GUILD, vid, other)
        assert theirs is not None
        await tx.takes.agree(theirs, me)
        await tx.quotes.add(
            guild_id=GUILD, text="quoted me", author_id=me, saved_by=other, created_at=1_795_219_200
        )
        await tx.members.set_no_quotes(GUILD, me, True)
    await invoke(bot, "quote remove", make_interaction(bot, user_id=me, permissions=MODS), id=1)
    assert await rows_mentioning(bot, me)

    [prompt] = await invoke(bot, "privacy forget-me", make_interaction(bot, user_id=me))
    assert prompt.ephemeral and len(prompt.custom_ids()) == 2
    stranger = make_interaction(bot, user_id=other)
    await ForgetButton(me, confirm=True).callback(stranger)
    assert "Only the member" in (stranger.sent[0].content or "")
    cancel = make_interaction(bot, user_id=me)
    await ForgetButton(me, confirm=False).callback(cancel)
    assert await rows_mentioning(bot, me)

    confirm = make_interaction(bot, user_id=me)
    await ForgetButton(me, confirm=True).callback(confirm)
    assert confirm.sent[0].kind == "edit" and "deleted" in (confirm.sent[0].content or "")
    assert await rows_mentioning(bot, me) == {}
    async with bot.db.read() as session:
        summary = await session.ratings.summary(GUILD, vid)
        assert (summary.count, summary.total) == (1, 5)
        assert (await session.takes.of_member(GUILD, vid, other)).agree_count == 0  # type: ignore[union-attr]
        assert await session.takes.count(GUILD, vid) == 1
        assert await session.quotes.count(GUILD) == 0


@pytest.mark.sqlite_only  # the checkpointer's own connection stands for the failing storage
async def test_forget_me_says_done_when_the_rows_are_gone_though_erasing_bytes_failed(
    bot: TakeTwoBot,
) -> None:
    me = 77
    await write_take(bot, me, "We Cry Together", "9", "Mine.")
    assert await rows_mentioning(bot, me)
    # The deletion commits; the erase of the old bytes after it then fails.
    checkpointer = bot.db._checkpointer  # type: ignore[attr-defined]
    await checkpointer.conn.close()
    confirm = make_interaction(bot, user_id=me)
    await ForgetButton(me, confirm=True).callback(confirm)
    [answer] = confirm.sent
    assert answer.kind == "edit" and "everything TakeTwo kept about you" in (answer.content or "")
    assert await rows_mentioning(bot, me) == {}


async def test_no_quotes_stops_others_saving_my_messages(bot: TakeTwoBot) -> None:
    from tests.test_commands import fake_message

    [on] = await invoke(bot, "privacy no-quotes", make_interaction(bot, user_id=77))
    assert on.ephemeral and "no longer" in (on.content or "")
    menu = bot.tree.get_command("Save as quote", type=discord.AppCommandType.message)
    saver = make_interaction(bot, user_id=5)
    with pytest.raises(Exception, match="asked not to be quoted"):
        await menu.callback(saver, fake_message("please don't", author_id=77))  # type: ignore[union-attr]
    async with bot.db.read() as session:
        assert await session.quotes.count(GUILD) == 0
    [off] = await invoke(bot, "privacy no-quotes", make_interaction(bot, user_id=77))
    assert "again" in (off.content or "")


async def test_write_limits_tell_when_to_try_again(bot: TakeTwoBot) -> None:
    for n in range(10):
        [ok] = await invoke(
            bot, "rate", make_interaction(bot, user_id=3), video="Alright", score=n % 10 + 1
        )
        assert ok.content is not None and ok.content.startswith("You rated")
    [slow] = await invoke(bot, "rate", make_interaction(bot, user_id=3), video="Alright", score=10)
    assert slow.ephemeral and re.search(r"again <t:\d+:R>", slow.content or "")
    async with bot.db.read() as session:
        assert await session.ratings.member_score(GUILD, await video_id(bot, "Alright"), 3) == 10
        # The refused write did not happen: the 10th rating (score 10) is what stands.
    [other] = await invoke(bot, "rate", make_interaction(bot, user_id=4), video="Alright", score=2)
    assert other.content is not None and other.content.startswith("You rated")


async def test_catalog_editing_is_for_owners(editor_bot: TakeTwoBot) -> None:
    bot = editor_bot
    manager = discord.Permissions(manage_guild=True)
    [refused] = await invoke(
        bot,
        "video add",
        make_interaction(bot, user_id=7, permissions=manager),
        title="New Song",
        artist="Someone",
    )
    assert refused.ephemeral and "only the bot's owners" in (refused.content or "")

    [added] = await invoke(
        bot,
        "video add",
        make_interaction(bot, user_id=42),
        title="New Song",
        artist="Sömeone",
        year=2024,
    )
    assert added.ephemeral and "slug `someone-new-song`" in (added.content or "")
    [edited] = await invoke(
        bot, "video edit", make_interaction(bot, user_id=42), video="new song", album="Debut"
    )
    assert edited.content == "Updated **New Song — Sömeone**."
    [bad] = await invoke(
        bot, "video edit", make_interaction(bot, user_id=42), video="new song", url="not a link"
    )
    assert bad.ephemeral and "http" in (bad.content or "")

    [source] = await invoke(
        bot,
        "review-source add",
        make_interaction(bot, user_id=42),
        video="new song",
        outlet="Example Weekly",
        headline="A debut",
        url="https://example.org/review",
        summary="A short summary written in our own words for the test.",
        published_on="2024-02-30",
    )
    assert source.ephemeral and "YYYY-MM-DD" in (source.content or "")
    [source] = await invoke(
        bot,
        "review-source add",
        make_interaction(bot, user_id=42),
        video="new song",
        outlet="Example Weekly",
        headline="A debut",
        url="https://example.org/review",
        summary="A short summary written in our own words for the test.",
    )
    assert any((f.name or "").startswith("Example Weekly") for f in source.embed.fields)


async def test_managers_edit_when_the_setting_allows(stores: Stores) -> None:
    bot = TakeTwoBot((await stores.empty("m.sqlite3")).settings(managers_edit_catalog=True))
    await bot.prepare()
    try:
        manager = discord.Permissions(manage_guild=True)
        [added] = await invoke(
            bot,
            "video add",
            make_interaction(bot, user_id=7, permissions=manager),
            title="Managed",
            artist="Band",
        )
        assert "Added" in (added.content or "")
        [member] = await invoke(
            bot, "video add", make_interaction(bot, user_id=8), title="Nope", artist="Band"
        )
        assert "Manage Server" in (member.content or "")
    finally:
        await bot.close()


async def test_credits_edit_modal(editor_bot: TakeTwoBot) -> None:
    bot = editor_bot
    vid = await add_made_up_video(
        bot.db, [Credit("Director", "Ann Example"), Credit("Director", "Bo Example")]
    )
    [sent] = await invoke(bot, "video credits", make_interaction(bot, user_id=42), video=TITLE)
    modal: CreditsModal = sent.kwargs["modal"]
    assert modal.lines.default == "Director: Ann Example\nDirector: Bo Example"
    submitted = await submit_form(
        bot, modal, {"lines": "Director: Ann Example\nno colon here\n: nameless"}, user_id=42
    )
    assert "line 2" in (submitted.sent[0].content or "") and "line 3" in (
        submitted.sent[0].content or ""
    )
    await submit_form(
        bot, modal, {"lines": "Director: Ann Example\n\nProducer: Cy Example\n"}, user_id=42
    )
    async with bot.db.read() as session:
        credits = await session.videos.credits(vid)
    assert [(c.role, c.name) for c in credits] == [
        ("Director", "Ann Example"),
        ("Producer", "Cy Example"),
    ]


async def test_edit_form_keeps_song_credits(editor_bot: TakeTwoBot) -> None:
    bot = editor_bot
    [sample] = await invoke(
        bot, "video credits", make_interaction(bot, user_id=42), video="Alright"
    )
    assert sample.kwargs["modal"].lines.default == (
        "Director: Colin Tilley\nDirector: The Little Homies\n"
        "Song Producer: Pharrell Williams\nSong Producer: Sounwave"
    )
    vid = await add_made_up_video(
        bot.db,
        [Credit("Director", "Ann Example"), Credit("Producer", "Bo Example", "song")],
        sources=["https://example.org/test-pattern"],
    )
    [sent] = await invoke(bot, "video credits", make_interaction(bot, user_id=42), video=TITLE)
    modal: CreditsModal = sent.kwargs["modal"]
    assert modal.lines.default == "Director: Ann Example\nSong Producer: Bo Example"
    lines = modal.lines.default + "\nsong producer: Cy Example\ncast: Di Example"
    saved = await submit_form(bot, modal, {"lines": lines}, user_id=42)
    async with bot.db.read() as session:
        credits = await session.videos.credits(vid)
    assert [(c.kind, c.role, c.name) for c in credits] == [
        ("video", "Director", "Ann Example"),
        ("song", "Producer", "Bo Example"),
        ("song", "producer", "Cy Example"),
        ("video", "cast", "Di Example"),
    ]
    fields = [(f.name, f.value) for f in saved.sent[0].embed.fields]
    assert fields == [
        ("Director", "Ann Example"),
        ("Cast", "Di Example"),
        ("Song credits", "**Producer**: Bo Example, Cy Example"),
        ("Sources", "[example.org](https://example.org/test-pattern)"),
    ]


async def test_video_remove_takes_everything_with_it(editor_bot: TakeTwoBot) -> None:
    bot = editor_bot
    vid = await video_id(bot, "HUMBLE.")
    await write_take(bot, 1, "HUMBLE.", "8", "Sharp.")
    await invoke(bot, "rate", make_interaction(bot, user_id=2), video="HUMBLE.", score=6)
    await invoke(bot, "quote add", make_interaction(bot, user_id=2), text="wow", video="HUMBLE.")
    [prompt] = await invoke(bot, "video remove", make_interaction(bot, user_id=42), video="HUMBLE.")
    assert prompt.ephemeral and "cannot be undone" in (prompt.content or "")
    confirm = make_interaction(bot, user_id=42)
    await RemoveVideoButton(vid, 42, confirm=True).callback(confirm)
    assert "Removed **HUMBLE.**" in (confirm.sent[0].content or "")
    for table in ("ratings", "takes", "quotes", "video_scores", "video_take_counts", "credits"):
        count = await raw.value(
            bot.settings, f"SELECT count(*) FROM {table} WHERE video_id = ?", vid
        )
        assert count == 0, table
    [gone] = await invoke(bot, "review", make_interaction(bot), video=f"id:{vid}")
    assert gone.ephemeral
