"""/privacy forget-me is complete: one member, marked by a unique id and a unique text in
everything they write, uses every write path a member can reach; after forget-me neither the
id nor the text is anywhere in the database: not in any column of any table (on either
engine), and not in SQLite's file's bytes. Deleted rows leave their bytes in the file unless
SQLite's secure_delete is on: the byte search relies on the bot's connections turning it on
(some SQLite builds, Debian's among them, have it on by default; others do not).

Run on its own: pytest tests/test_privacy_marker.py
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import discord
import pytest

from bot.client import TakeTwoBot
from cogs.privacy import ForgetButton
from cogs.takes import AgreeButton
from tests import raw
from tests.fakes import invoke, make_interaction
from tests.stores import Stores
from tests.test_community import write_take

GUILD = 500
# A realistic snowflake: eight bytes as an SQLite integer, 18 digits as text.
MARKER_ID = 981234567890123456
MARKER_TEXT = "Zq7marker9Wv"
OTHER = 424242424242424242
MODERATOR = 313131313131313131
MODS = discord.Permissions(manage_messages=True)
MANAGER = discord.Permissions(manage_guild=True)


def marked(text: str) -> str:
    return f"{text} {MARKER_TEXT}"


def message_by(author_id: int, display_name: str, content: str, message_id: int) -> Any:
    message = MagicMock(spec=discord.Message)
    message.content = content
    message.author = MagicMock(spec=discord.Member)
    message.author.id = author_id
    message.author.display_name = display_name
    message.jump_url = f"https://discord.com/channels/{GUILD}/600/{message_id}"
    return message


async def save_as_quote(bot: TakeTwoBot, saver: int, message: Any) -> int:
    menu = bot.tree.get_command("Save as quote", type=discord.AppCommandType.message)
    assert isinstance(menu, discord.app_commands.ContextMenu)
    interaction = make_interaction(bot, user_id=saver)
    await menu.callback(interaction, message)
    [reply] = interaction.sent
    return int(re.findall(r"#(\d+)", reply.content or "")[0])


async def take_id(bot: TakeTwoBot, user_id: int, title: str) -> int:
    async with bot.db.read() as session:
        video = await session.videos.resolve(title)
        take = await session.takes.of_member(GUILD, video.id, user_id)
    assert take is not None
    return take.id


def database_files(path: Path) -> list[Path]:
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]


async def traces(bot: TakeTwoBot) -> dict[str, list[str]]:
    """Where the marker is, by table.column: the id as an integer or text, or the text."""
    needles = (str(MARKER_ID), MARKER_TEXT)
    found: dict[str, list[str]] = {}
    for table in await raw.tables(bot.settings):
        columns, rows = await raw.table(bot.settings, table)
        for row in rows:
            for column, value in zip(columns, row, strict=True):
                if isinstance(value, bytes):
                    value = value.decode("utf-8", "replace")
                if value == MARKER_ID or (
                    isinstance(value, str) and any(n in value for n in needles)
                ):
                    found.setdefault(table, []).append(column)
    return found


@pytest.fixture
async def bot(stores: Stores) -> AsyncIterator[TakeTwoBot]:
    """The real bot with every extension, closed by the test itself before reading bytes."""
    instance = TakeTwoBot((await stores.empty("privacy.sqlite3")).settings())
    await instance.prepare()
    yield instance
    if not instance.is_closed():
        await instance.close()


async def write_everything(bot: TakeTwoBot) -> None:
    """Every write a member can make, by the marked member and about them."""
    marker = MARKER_ID
    # Takes (each also a rating), and their own rating.
    await write_take(bot, marker, "We Cry Together", "9", marked("my take"))
    await write_take(bot, marker, "Alright", "4", marked("another take"))
    await write_take(bot, OTHER, "We Cry Together", "5", "their take")
    await invoke(bot, "rate", make_interaction(bot, user_id=marker), video="HUMBLE.", score=7)
    # Agrees, both ways.
    await AgreeButton(await take_id(bot, OTHER, "We Cry Together")).callback(
        make_interaction(bot, user_id=marker)
    )
    await AgreeButton(await take_id(bot, marker, "We Cry Together")).callback(
        make_interaction(bot, user_id=OTHER)
    )
    # Quotes they saved, about a video or not, naming a speaker or not.
    await invoke(
        bot,
        "quote add",
        make_interaction(bot, user_id=marker),
        text=marked("a quote I saved"),
        said_by=marked("speaker"),
        video="Alright",
    )
    await save_as_quote(bot, marker, message_by(OTHER, "Other", "their words", 701))
    await invoke(bot, "quote add", make_interaction(bot, user_id=OTHER), text="their quote")
    # Quotes of their messages, saved by others.
    quoted = [
        await save_as_quote(
            bot, OTHER, message_by(marker, marked("Name"), marked("my words"), message_id)
        )
        for message_id in (702, 703)
    ]
    # The moderation log: as the author of a removed take and quote, and as the remover.
    await invoke(
        bot,
        "take-remove",
        make_interaction(bot, user_id=MODERATOR, permissions=MODS),
        id=await take_id(bot, marker, "Alright"),
        reason="off topic",
    )
    await invoke(
        bot,
        "quote remove",
        make_interaction(bot, user_id=MODERATOR, permissions=MODS),
        id=quoted[0],
        reason="asked to",
    )
    await write_take(bot, OTHER, "HUMBLE.", "2", "a take the marker removes")
    await invoke(
        bot,
        "take-remove",
        make_interaction(bot, user_id=marker, permissions=MODS),
        id=await take_id(bot, OTHER, "HUMBLE."),
        reason=marked("removed by me"),
    )
    # Video suggestions: one of their own, and one another member made first.
    for url, member in [("https://vimeo.com/111", marker), ("https://vimeo.com/222", OTHER)]:
        await invoke(
            bot,
            "video suggest",
            make_interaction(bot, user_id=member),
            url=url,
            note=marked("a note") if member == marker else "their note",
        )
    await invoke(
        bot,
        "video suggest",
        make_interaction(bot, user_id=marker),
        url="https://vimeo.com/222",
        note=marked("me too"),
    )
    # Member settings.
    await invoke(bot, "privacy no-quotes", make_interaction(bot, user_id=marker))
    # The daily quote, as a manager: set it up and skip a day; and a skip recorded the way
    # earlier versions wrote it, naming the member.
    daily = bot.get_cog("Daily")
    assert daily is not None
    await daily.scheduler.configure(  # type: ignore[attr-defined]
        guild_id=GUILD, channel_id=600, post_time="09:00", timezone="UTC", user_id=marker
    )
    [skipped] = await invoke(
        bot, "daily skip", make_interaction(bot, user_id=marker, permissions=MANAGER)
    )
    assert (skipped.content or "").startswith("Skipped")
    async with bot.db.transaction() as tx:
        await tx.daily.record_post(
            guild_id=GUILD,
            local_date="2020-01-01",
            status="skipped",
            nonce="legacy",
            now=0,
            detail=f"skipped by member {marker}",
        )


async def forget(bot: TakeTwoBot, user_id: int) -> None:
    """/privacy forget-me, confirmed."""
    [prompt] = await invoke(bot, "privacy forget-me", make_interaction(bot, user_id=user_id))
    assert prompt.ephemeral
    confirm = make_interaction(bot, user_id=user_id)
    await ForgetButton(user_id, confirm=True).callback(confirm)
    assert "deleted" in (confirm.sent[0].content or "")


async def test_forget_me_leaves_no_trace_of_the_member(bot: TakeTwoBot) -> None:
    await write_everything(bot)
    before = {table: set(columns) for table, columns in (await traces(bot)).items()}
    # Every write landed where the scan can see it (else the scan below proves nothing).
    expected = {
        "takes": {"user_id", "text"},
        "ratings": {"user_id"},
        "take_agrees": {"user_id"},
        "quotes": {"saved_by", "author_id", "text", "said_by"},
        "moderation_log": {"author_id", "removed_by", "reason"},
        "member_settings": {"user_id"},
        "daily_schedules": {"updated_by"},
        "daily_posts": {"detail"},
        "video_suggesters": {"user_id", "note"},
    }
    for table, columns in expected.items():
        assert columns <= before.get(table, set()), table

    await forget(bot, MARKER_ID)

    assert await traces(bot) == {}
    # What others wrote stays: their take (its agree gone) and the quote they saved.
    async with bot.db.read() as session:
        video = await session.videos.resolve("We Cry Together")
        theirs = await session.takes.of_member(GUILD, video.id, OTHER)
        assert theirs is not None and theirs.agree_count == 0
        assert await session.quotes.count(GUILD) == 1
        assert (await session.ratings.summary(GUILD, video.id)).count == 1
        # The suggestion the other member made stays, theirs alone; the marker's own went.
        [waiting] = await session.suggestions.waiting(limit=5)
        assert (waiting.url, waiting.suggesters, waiting.notes) == (
            "https://vimeo.com/222",
            1,
            ("their note",),
        )
    log = await raw.rows(bot.settings, "SELECT kind, removed_by, reason FROM moderation_log")
    # The marker's own removal stays on record, without them; the log about them is gone.
    assert log == [("take", 0, None)]


@pytest.mark.sqlite_only  # SQLite's file and write-ahead log
async def test_forget_me_leaves_no_bytes_of_the_member_in_the_file(bot: TakeTwoBot) -> None:
    await write_everything(bot)
    await forget(bot, MARKER_ID)
    # The id as text, and as SQLite stores an integer that size: eight bytes, big-endian.
    needles = (MARKER_TEXT.encode(), str(MARKER_ID).encode(), MARKER_ID.to_bytes(8))
    path = bot.settings.database_path
    # While the bot runs: neither the file nor its write-ahead log holds them any more.
    running = {(f.name, n) for f in database_files(path) for n in needles if n in f.read_bytes()}
    assert running == set()
    await bot.close()  # the last connection checkpoints the WAL into the file and removes it
    files = database_files(path)
    assert files == [path], "the WAL was not checkpointed and removed on close"
    left = {(f.name, n) for f in files for n in needles if n in f.read_bytes()}
    assert left == set()
