"""/help: what TakeTwo can do, for the member who asks. Reads nothing from the database.

Commands are shown in groups, in the order a member meets them. Groups that need a
permission the member lacks are not listed command by command; one line says they exist
and who can use them. Every command is in a group (a test checks); removing a take or a
quote is listed for everyone (their own) and again under moderation (anyone's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import TakeTwoBot
from bot.errors import UserFacingError
from bot.ui import replies
from bot.ui.context import require_catalog_editor
from bot.ui.embeds import BRAND
from bot.ui.limits import FIELD_VALUE, clip, fit_embed


def _everyone(interaction: discord.Interaction) -> bool:
    return True


def _managers(interaction: discord.Interaction) -> bool:
    return interaction.permissions.manage_guild


def _moderators(interaction: discord.Interaction) -> bool:
    return interaction.permissions.manage_messages


def _catalog_editors(interaction: discord.Interaction) -> bool:
    try:
        require_catalog_editor(interaction)
    except UserFacingError:
        return False
    return True


@dataclass(frozen=True)
class HelpGroup:
    title: str
    commands: tuple[str, ...]  # qualified names, in the order shown
    who: str  # who may use them, for the line shown to everyone else
    may_use: Callable[[discord.Interaction], bool]


GROUPS = (
    HelpGroup(
        "Explore",
        ("review", "credits", "quote random", "takes", "top", "profile", "taste", "person", "help"),
        "everyone",
        _everyone,
    ),
    HelpGroup(
        "Rate and review",
        (
            "rate",
            "take",
            "take-remove",
            "quote add",
            "quote remove",
            "Save as quote",
            "video suggest",
            "video suggestions",
        ),
        "everyone",
        _everyone,
    ),
    HelpGroup(
        "Your data",
        ("privacy export", "privacy forget-me", "privacy no-quotes", "privacy hide-ratings"),
        "everyone",
        _everyone,
    ),
    HelpGroup(
        "Daily quote",
        ("daily set", "daily status", "daily preview", "daily skip", "daily off"),
        "members with Manage Server",
        _managers,
    ),
    HelpGroup("Server data", ("export-server",), "members with Manage Server", _managers),
    HelpGroup(
        "Moderation",
        ("take-remove", "quote remove"),
        "members with Manage Messages (any member's take or quote)",
        _moderators,
    ),
    HelpGroup(
        "Catalog",
        (
            "video add",
            "video edit",
            "video credits",
            "video remove",
            "video queue",
            "review-source add",
        ),
        "the bot's owners",
        _catalog_editors,
    ),
)
MENU_HINT = "right-click a message > Apps > Save as quote"


def descriptions(tree: app_commands.CommandTree) -> dict[str, str]:
    """Every command's qualified name and its description (menus have none: a hint)."""
    found = {
        c.qualified_name: c.description
        for c in tree.walk_commands()
        if isinstance(c, app_commands.Command)
    }
    for menu in tree.get_commands(type=discord.AppCommandType.message):
        found[menu.name] = MENU_HINT
    return found


def _shown(name: str, tree: app_commands.CommandTree) -> str:
    """Slash commands with their slash; a message menu by its name."""
    is_menu = tree.get_command(name, type=discord.AppCommandType.message) is not None
    return name if is_menu else f"/{name}"


def help_embed(
    interaction: discord.Interaction, tree: app_commands.CommandTree, shard: str | None = None
) -> discord.Embed:
    """`shard` says which shard the server is on (for whoever runs a sharded bot)."""
    described = descriptions(tree)
    embed = discord.Embed(
        title="TakeTwo",
        colour=BRAND,
        description="Takes on music videos: reviews, credits, quotes, ratings and a daily quote.",
    )
    elsewhere = []
    for group in GROUPS:
        if not group.may_use(interaction):
            elsewhere.append(f"**{group.title}** ({group.who})")
            continue
        lines = [
            f"`{_shown(name, tree)}` {described[name]}"
            for name in group.commands
            if name in described
        ]
        embed.add_field(name=group.title, value=clip("\n".join(lines), FIELD_VALUE), inline=False)
    if elsewhere:
        embed.add_field(
            name="For others",
            value=clip("Also: " + ", ".join(elsewhere) + ".", FIELD_VALUE),
            inline=False,
        )
    if shard is not None:
        embed.set_footer(text=shard)
    return fit_embed(embed)


class Help(commands.Cog):
    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What TakeTwo can do")
    @app_commands.guild_only()
    async def help(self, interaction: discord.Interaction) -> None:
        shard = self.bot.server_shard(interaction.guild_id)
        await replies.send(
            interaction, embed=help_embed(interaction, self.bot.tree, shard), ephemeral=True
        )


async def setup(bot: TakeTwoBot) -> None:
    await bot.add_cog(Help(bot))
