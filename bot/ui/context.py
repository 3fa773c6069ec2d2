"""Small readers of an interaction's context that fail with a sentence, not an assertion."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands

from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.client import TakeTwoBot


def client(interaction: discord.Interaction) -> TakeTwoBot:
    return cast("TakeTwoBot", interaction.client)


def guild_id(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise UserFacingError("TakeTwo works in servers, not in direct messages.")
    return interaction.guild_id


def guild_name(interaction: discord.Interaction) -> str:
    return interaction.guild.name if interaction.guild is not None else "this server"


def catalog_editors_only(interaction: discord.Interaction) -> bool:
    """For a cog's interaction_check: the tree only handles AppCommandErrors raised there."""
    try:
        require_catalog_editor(interaction)
    except UserFacingError as refusal:
        raise app_commands.CheckFailure(refusal.message) from refusal
    return True


def require_catalog_editor(interaction: discord.Interaction) -> None:
    """The catalog is shared by every server: only the bot's owners edit it, plus each
    server's managers when MANAGERS_EDIT_CATALOG is on."""
    bot = client(interaction)
    if interaction.user.id in bot.catalog_owner_ids():
        return
    if bot.settings.managers_edit_catalog and interaction.permissions.manage_guild:
        return
    who = "the bot's owners"
    if bot.settings.managers_edit_catalog:
        who += " and members with Manage Server"
    raise UserFacingError(
        f"The video catalog is shared by every server, so only {who} can change it."
    )
