"""/privacy forget-me, /privacy no-quotes and /privacy export: members decide what is kept
about them and can carry it out; /export-server gives a server's managers its data."""

from __future__ import annotations

import asyncio
import gzip
import io
import logging
import re
from typing import Any

import discord
from discord import app_commands, ui
from discord.ext import commands

from bot import wording
from bot.admin import json_bytes
from bot.client import TakeTwoBot
from bot.errors import UserFacingError
from bot.ui import replies
from bot.ui.context import client, guild_id
from bot.ui.errors import reports_errors

log = logging.getLogger(__name__)


def json_file(data: dict[str, Any], name: str, limit: int) -> discord.File:
    """The export as a file Discord accepts: JSON, or gzipped JSON when that is too big."""
    raw = json_bytes(data)
    if len(raw) <= limit:
        return discord.File(io.BytesIO(raw), filename=f"{name}.json")
    packed = gzip.compress(raw)
    if len(packed) <= limit:
        return discord.File(io.BytesIO(packed), filename=f"{name}.json.gz")
    raise UserFacingError(
        f"The export is {len(packed) // 1_000_000} MB even compressed, more than Discord lets "
        "me send here. The bot's host can run `python -m bot export-server` for you."
    )


class ForgetButton(
    ui.DynamicItem[ui.Button[Any]],
    template=r"taketwo:forget:(?P<user>[0-9]{1,20}):(?P<choice>yes|no)",
):
    def __init__(self, user_id: int, confirm: bool) -> None:
        super().__init__(
            ui.Button(
                label="Yes, forget me" if confirm else "Cancel",
                style=discord.ButtonStyle.danger if confirm else discord.ButtonStyle.secondary,
                custom_id=f"taketwo:forget:{user_id}:{'yes' if confirm else 'no'}",
            )
        )
        self.user_id = user_id
        self.confirm = confirm

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> ForgetButton:
        return cls(int(match["user"]), match["choice"] == "yes")

    @reports_errors
    async def callback(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            raise UserFacingError("Only the member who asked can confirm this.")
        if not self.confirm:
            await replies.edit(interaction, content="Nothing was deleted.", view=None)
            return
        server = guild_id(interaction)
        async with client(interaction).db.transaction() as tx:
            counts = await tx.members.forget(server, interaction.user.id)
        try:
            await client(interaction).db.erase_deleted_text()
        except Exception:
            # The rows are deleted (committed above), and the member is told so; only the
            # old bytes wait for the next checkpoint or vacuum to be overwritten.
            log.warning("forget-me committed, but erasing the deleted text failed", exc_info=True)
        done = wording.counts(counts, skip_zero=True) or "nothing was stored"
        await replies.edit(
            interaction,
            content=f"Done: everything TakeTwo kept about you in this server is deleted ({done}).",
            view=None,
        )


@app_commands.guild_only()
class Privacy(
    commands.GroupCog, group_name="privacy", group_description="What TakeTwo keeps about you"
):
    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ForgetButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ForgetButton)

    @app_commands.command(
        name="forget-me", description="Delete everything TakeTwo keeps about you here"
    )
    async def forget_me(self, interaction: discord.Interaction) -> None:
        guild_id(interaction)
        view = ui.View(timeout=None)
        view.add_item(ForgetButton(interaction.user.id, confirm=True))
        view.add_item(ForgetButton(interaction.user.id, confirm=False))
        await replies.send(
            interaction,
            "This deletes, in this server: your ratings, your takes, your agrees, the quotes you "
            "saved, the quotes of your messages, your video suggestions and your settings "
            "(no-quotes, hide-ratings). Scores and counts are updated. It cannot be undone. "
            "Go ahead?",
            view=view,
            ephemeral=True,
        )

    @app_commands.command(
        name="no-quotes", description="Stop (or allow again) others saving your messages as quotes"
    )
    async def no_quotes(self, interaction: discord.Interaction) -> None:
        server = guild_id(interaction)
        async with self.bot.db.transaction() as tx:
            now_off = not await tx.members.no_quotes(server, interaction.user.id)
            await tx.members.set_no_quotes(server, interaction.user.id, now_off)
        message = (
            "Others can no longer save your messages as quotes here. Run this again to allow it."
            if now_off
            else "Others can save your messages as quotes again."
        )
        await replies.send(interaction, message, ephemeral=True)

    @app_commands.command(
        name="hide-ratings",
        description="Keep (or stop keeping) your ratings out of others' /profile and /taste",
    )
    async def hide_ratings(self, interaction: discord.Interaction) -> None:
        server = guild_id(interaction)
        async with self.bot.db.transaction() as tx:
            now_hidden = not await tx.members.hides_ratings(server, interaction.user.id)
            await tx.members.set_hide_ratings(server, interaction.user.id, now_hidden)
        message = (
            "Your ratings are now hidden: other members cannot see your /profile or compare "
            "with you in /taste. Your scores still count in the server's means and rankings, "
            "without your name, and the server's managers' /export-server file still holds "
            "them. Run this again to show them."
            if now_hidden
            else "Your ratings are visible again in /profile and /taste."
        )
        await replies.send(interaction, message, ephemeral=True)

    @app_commands.command(
        name="export", description="Get a file of everything TakeTwo keeps about you here"
    )
    async def export(self, interaction: discord.Interaction) -> None:
        server = guild_id(interaction)
        self.bot.write_limits.check("export", server, interaction.user.id)
        async with self.bot.db.read() as session:
            data = await session.exports.member(server, interaction.user.id)
        # Encoding and compressing a large export would stall every other interaction.
        file = await asyncio.to_thread(
            json_file, data, f"taketwo-{server}-{interaction.user.id}", interaction.filesize_limit
        )
        await replies.send(
            interaction,
            "Everything TakeTwo keeps about you in this server: your ratings, takes, agrees, "
            "the quotes you saved and the quotes of your messages, your settings and moderation "
            "entries about you. Ids are strings; times are UTC.",
            file=file,
            ephemeral=True,
        )


class ServerExport(commands.Cog):
    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="export-server", description="Get a file of this server's ratings, takes and quotes"
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def export_server(self, interaction: discord.Interaction) -> None:
        if not interaction.permissions.manage_guild:
            raise UserFacingError("Only members with Manage Server can export the server's data.")
        server = guild_id(interaction)
        self.bot.write_limits.check("export", server, interaction.user.id)
        async with self.bot.db.read() as session:
            data = await session.exports.server(server)
        file = await asyncio.to_thread(
            json_file, data, f"taketwo-server-{server}", interaction.filesize_limit
        )
        await replies.send(
            interaction,
            "This server's ratings, takes, agrees, quotes and moderation log, as the command "
            "line's `export-server` writes them. Ids are strings; times are UTC.",
            file=file,
            ephemeral=True,
        )


async def setup(bot: TakeTwoBot) -> None:
    await bot.add_cog(Privacy(bot))
    await bot.add_cog(ServerExport(bot))
