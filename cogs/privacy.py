"""/privacy forget-me and /privacy no-quotes: members decide what is kept about them."""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands, ui
from discord.ext import commands

from bot.client import TakeTwoBot
from bot.errors import UserFacingError
from bot.ui import replies
from bot.ui.context import client, guild_id
from bot.ui.errors import reports_errors


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
        done = ", ".join(f"{n} {name}" for name, n in counts.items() if n) or "nothing was stored"
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
            "saved and the quotes of your messages. Scores and counts are updated. It cannot "
            "be undone. Go ahead?",
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


async def setup(bot: TakeTwoBot) -> None:
    await bot.add_cog(Privacy(bot))
