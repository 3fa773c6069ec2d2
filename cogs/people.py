"""/person: everyone credited in the catalog, their videos and this server's scores for
them. (/review's "People" select leads here too: bot/ui/components.py.)"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import TakeTwoBot
from bot.db.text import CONTROL, SURROGATE
from bot.ui.limits import CHOICE_NAME, CHOICES, clip
from bot.ui.people import send_person


class People(commands.Cog):
    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="person",
        description="A director's, artist's or anyone credited's videos and scores here",
        extras={"reply": "public"},
    )
    @app_commands.describe(name="Start typing a name")
    @app_commands.guild_only()
    async def person(
        self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 100]
    ) -> None:
        await send_person(interaction, name, ephemeral=False)

    @person.autocomplete("name")
    async def person_names(
        self, interaction: discord.Interaction, value: str
    ) -> list[app_commands.Choice[str]]:
        # Autocomplete is not checked like a command's options: drop what cannot be searched.
        text = SURROGATE.sub("", CONTROL.sub("", str(value)))[:100]
        # Matching a later word scans the names: off the event loop.
        async with self.bot.db.read() as session:
            names = await session.people.search(text, limit=CHOICES)
        return [
            app_commands.Choice(name=clip(name, CHOICE_NAME), value=name[:100]) for name in names
        ]


async def setup(bot: TakeTwoBot) -> None:
    await bot.add_cog(People(bot))
