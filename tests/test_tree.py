"""Load every extension into a bot that is not connected and check the command tree against
Discord's limits, using the same payloads discord.py would sync."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.client import EXTENSIONS, TakeTwoBot
from bot.ui.components import VIDEO_BUTTONS
from tests.stores import Stores

SLASH_NAME = re.compile(r"^[-_\w]{1,32}$")


def walk_options(options: list[dict[str, Any]], where: str) -> list[str]:
    problems = []
    if len(options) > 25:
        problems.append(f"{where}: {len(options)} options (max 25)")
    for option in options:
        name = option["name"]
        here = f"{where} {name}"
        if not SLASH_NAME.match(name) or name != name.lower():
            problems.append(f"{here}: bad option name")
        if not 1 <= len(option["description"]) <= 100:
            problems.append(f"{here}: description length {len(option['description'])}")
        if len(option.get("choices") or []) > 25:
            problems.append(f"{here}: more than 25 choices")
        if option.get("autocomplete") and option.get("choices"):
            problems.append(f"{here}: autocomplete and choices together")
        problems += walk_options(option.get("options") or [], here)
    return problems


async def test_every_extension_loads(bot: TakeTwoBot) -> None:
    assert set(bot.extensions) == set(EXTENSIONS)


async def test_command_tree_respects_discord_limits(bot: TakeTwoBot) -> None:
    payloads = [command.to_dict(bot.tree) for command in bot.tree.get_commands()]
    payloads += [
        menu.to_dict(bot.tree)
        for menu in bot.tree.get_commands(type=discord.AppCommandType.message)
    ]
    assert 0 < len(payloads) <= 100
    problems = []
    for payload in payloads:
        name = payload["name"]
        if payload.get("type", 1) == 1:
            if not SLASH_NAME.match(name) or name != name.lower():
                problems.append(f"/{name}: bad command name")
            if not 1 <= len(payload["description"]) <= 100:
                problems.append(f"/{name}: description length")
            problems += walk_options(payload.get("options") or [], f"/{name}")
        else:
            if not 1 <= len(name) <= 32:
                problems.append(f"{name}: context menu name length")
        # Every command works in servers only.
        assert payload.get("contexts") == [0], f"{name} must be server-only"
    assert problems == []


async def test_the_commands_are_the_ones_documented(bot: TakeTwoBot) -> None:
    names = {c.qualified_name for c in bot.tree.walk_commands()}
    assert {
        "review",
        "credits",
        "rate",
        "top",
        "quote random",
        "quote add",
        "quote remove",
        "daily set",
        "daily status",
        "daily preview",
        "daily skip",
        "daily off",
        "take",
        "takes",
        "take-remove",
        "privacy forget-me",
        "privacy no-quotes",
        "privacy export",
        "export-server",
        "video add",
        "video edit",
        "video credits",
        "video remove",
        "review-source add",
    } <= names
    menus = [c.name for c in bot.tree.get_commands(type=discord.AppCommandType.message)]
    assert menus == ["Save as quote"]
    options = {o["name"]: o for o in bot.tree.get_command("rate").to_dict(bot.tree)["options"]}  # type: ignore[union-attr]
    assert options["video"]["autocomplete"] is True
    assert (options["score"]["min_value"], options["score"]["max_value"]) == (1, 10)


async def test_unloading_every_extension_clears_the_tree(bot: TakeTwoBot) -> None:
    for extension in EXTENSIONS:
        await bot.unload_extension(extension)
    assert bot.tree.get_commands() == []
    assert bot.tree.get_commands(type=discord.AppCommandType.message) == []
    # What is left is what the bot itself registers: the buttons under videos.
    remaining = set(bot._connection._view_store._dynamic_items.values())
    assert remaining == set(VIDEO_BUTTONS)


async def test_sample_catalog_is_loaded_only_when_asked(stores: Stores) -> None:
    quiet = TakeTwoBot((await stores.empty("a.sqlite3")).settings(load_sample_catalog=False))
    await quiet.prepare()
    try:
        async with quiet.db.read() as session:
            assert await session.videos.count() == 0
    finally:
        await quiet.close()
    loud = TakeTwoBot((await stores.empty("b.sqlite3")).settings())
    await loud.prepare()
    try:
        async with loud.db.read() as session:
            assert await session.videos.count() >= 1
    finally:
        await loud.close()


def test_the_start_up_line_sees_a_command_that_changed_shape(bot: TakeTwoBot) -> None:
    from bot.client import command_shape

    [credits] = [c for c in bot.tree.get_commands() if c.name == "credits"]
    local = credits.to_dict(bot.tree)
    # As Discord returns it: ids added, false defaults left out.
    published = {**local, "id": "1", "application_id": "2", "version": "3"}
    published["options"] = [
        {k: v for k, v in o.items() if v is not False} for o in local["options"]
    ]
    assert command_shape(published) == command_shape(local)
    # The same name, published by an older version as a group with subcommands.
    older = {
        "name": "credits",
        "type": 1,
        "description": local["description"],
        "options": [{"type": 1, "name": "show", "description": "Who made a video"}],
    }
    assert command_shape(older) != command_shape(local)
