"""Catalog editing by the bot's owners: titles in every script, and no duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import admin
from bot.client import TakeTwoBot
from bot.errors import UserFacingError
from bot.ui.validation import check_text
from cogs.catalog import parse_credits
from tests.fakes import invoke, make_interaction

OWNER = 42


async def add(bot: TakeTwoBot, title: str, artist: str) -> str:
    [answer] = await invoke(
        bot, "video add", make_interaction(bot, user_id=OWNER), title=title, artist=artist
    )
    return answer.content or ""


@pytest.mark.parametrize(
    ("title", "artist", "slug"),
    [
        ("🔥 نار", "שלום", "שלום-نار"),
        ("Lemon", "米津玄師", "米津玄師-lemon"),
        ("Ρόδα", "Βαλέρια", "βαλερια-ροδα"),
        ("🔥", "🔥", "video"),
        # Letters from the mathematical alphabets fold to plain lower case.
        ("𝐋ove", "ℍ𝔸𝕃", "hal-love"),
    ],
)
async def test_titles_in_every_script_get_a_slug_that_export_and_import_keep(
    editor_bot: TakeTwoBot, tmp_path: Path, title: str, artist: str, slug: str
) -> None:
    answer = await add(editor_bot, title, artist)
    assert f"(slug `{slug}`)" in answer, answer
    exported = tmp_path / "catalog.json"
    settings = editor_bot.settings
    await editor_bot.close()
    await admin.catalog_export(settings, exported)
    assert slug in {v["slug"] for v in json.loads(exported.read_text())["videos"]}
    # Whatever the bot exports, it imports, into the same database.
    count = await admin.catalog_import(settings, exported)
    assert count == len(json.loads(exported.read_text())["videos"])
    again = tmp_path / "again.json"
    await admin.catalog_export(settings, again)
    assert again.read_text() == exported.read_text()


async def test_adding_the_same_video_twice_is_refused(editor_bot: TakeTwoBot) -> None:
    assert "(slug `someone-new-song`)" in await add(editor_bot, "New Song", "Someone")
    twice = await add(editor_bot, "new song!", "SOMEONE")
    assert "is already in the catalog" in twice and "someone-new-song" in twice
    async with editor_bot.db.read() as session:
        assert await session.videos.get_by_slug("someone-new-song-2") is None


async def test_renaming_a_video_into_another_is_refused(editor_bot: TakeTwoBot) -> None:
    await add(editor_bot, "First Song", "Band")
    await add(editor_bot, "Second Song", "Band")
    [refused] = await invoke(
        editor_bot,
        "video edit",
        make_interaction(editor_bot, user_id=OWNER),
        video="Second Song",
        title="First Song",
    )
    assert refused.ephemeral and "band-first-song" in (refused.content or "")
    async with editor_bot.db.read() as session:
        second = await session.videos.get_by_slug("band-second-song")
    assert second is not None and second.title == "Second Song"
    # Renaming a video to its own name in another case is fine.
    [ok] = await invoke(
        editor_bot,
        "video edit",
        make_interaction(editor_bot, user_id=OWNER),
        video="Second Song",
        title="SECOND SONG",
    )
    assert (ok.content or "").startswith("Updated")


async def test_catalog_edits_take_only_what_a_catalog_file_takes(editor_bot: TakeTwoBot) -> None:
    # A tab inside a credit, or a control character in a title, would be exported and then
    # refused by `catalog import`: refused here first, with the same rule.
    with pytest.raises(UserFacingError, match="line 1 holds a tab"):
        parse_credits("Director: Ann\tExample")
    with pytest.raises(UserFacingError, match="control character"):
        check_text("Test\x0bPattern", "title")
    assert check_text("two\nlines", "The quote", paragraph=True) == "two\nlines"
    with pytest.raises(UserFacingError, match="line break"):
        check_text("two\nlines", "title")
