"""/help shows each member what they can use, grouped, with the rest one line away."""

from __future__ import annotations

import discord

from bot.client import TakeTwoBot
from cogs.help import GROUPS, descriptions
from tests.fakes import assert_embed_limits, invoke, make_interaction


async def shown(bot: TakeTwoBot, interaction: object) -> dict[str, str]:
    [answer] = await invoke(bot, "help", interaction)
    assert answer.ephemeral
    assert_embed_limits(answer.embed)
    return {f.name or "": f.value or "" for f in answer.embed.fields}


async def test_a_member_sees_what_they_can_use_and_one_line_for_the_rest(bot: TakeTwoBot) -> None:
    groups = await shown(bot, make_interaction(bot))
    assert list(groups) == ["Explore", "Rate and review", "Your data", "For others"]
    assert groups["Explore"].startswith("`/review` ")
    assert "`/rate` " in groups["Rate and review"]
    assert "`Save as quote` right-click a message" in groups["Rate and review"]
    everything = "".join(groups.values())
    assert "/daily" not in everything and "/video add" not in everything
    assert "`/video suggest` " in groups["Rate and review"]
    assert "`/video suggestions` " in groups["Rate and review"]
    others = groups["For others"]
    assert "**Daily quote** (members with Manage Server)" in others
    assert "**Catalog** (the bot's owners)" in others


async def test_managers_and_moderators_see_their_groups(bot: TakeTwoBot) -> None:
    staff = discord.Permissions(manage_guild=True, manage_messages=True)
    groups = await shown(bot, make_interaction(bot, permissions=staff))
    assert list(groups) == [
        "Explore",
        "Rate and review",
        "Your data",
        "Daily quote",
        "Server data",
        "Moderation",
        "For others",
    ]
    assert groups["Daily quote"].startswith("`/daily set` ")


async def test_the_owner_sees_the_catalog(editor_bot: TakeTwoBot) -> None:
    groups = await shown(editor_bot, make_interaction(editor_bot, user_id=42))
    assert "`/video add` " in groups["Catalog"]


def test_every_command_is_in_a_group(bot: TakeTwoBot) -> None:
    grouped = {name for group in GROUPS for name in group.commands}
    assert set(descriptions(bot.tree)) == grouped
