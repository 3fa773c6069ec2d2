"""/credits video: who made a video, grouped by role. (Catalog editors change credits with
/video credits, in cogs/catalog.py.)"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import TakeTwoBot
from bot.ui import embeds, replies
from bot.ui.components import people_menu
from bot.ui.video_option import VideoOption


class Credits(commands.Cog):
    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="credits",
        description="Who directed, produced and starred in a video",
        extras={"reply": "public"},
    )
    @app_commands.describe(video="Start typing a title or an artist")
    @app_commands.guild_only()
    async def credits(self, interaction: discord.Interaction, video: VideoOption) -> None:
        async with self.bot.db.lookup() as session:
            credits, sources = await session.videos.credits_and_sources(video.id)
        await replies.send(
            interaction,
            embed=embeds.credits_embed(video, credits, sources),
            view=people_menu(video, credits),
        )


async def setup(bot: TakeTwoBot) -> None:
    await bot.add_cog(Credits(bot))
