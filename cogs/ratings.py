"""/rate and /top: members score videos 1 to 10; the server's best-rated videos."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import wording
from bot.client import TakeTwoBot
from bot.clock import now
from bot.errors import UserFacingError
from bot.ui import embeds, replies
from bot.ui.context import guild_id, guild_name
from bot.ui.video_option import VideoOption


class Ratings(commands.Cog):
    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot

    @app_commands.command(name="rate", description="Rate a video from 1 to 10 (again to change it)")
    @app_commands.describe(
        video="Start typing a title or an artist", score="1 (worst) to 10 (best)"
    )
    @app_commands.guild_only()
    async def rate(
        self,
        interaction: discord.Interaction,
        video: VideoOption,
        score: app_commands.Range[int, 1, 10],
    ) -> None:
        self.bot.write_limits.check("rating", guild_id(interaction), interaction.user.id)
        summary = await self.bot.db.rate(
            guild_id=guild_id(interaction),
            video_id=video.id,
            user_id=interaction.user.id,
            score=score,
            rated_at=now(),
        )
        await replies.send(interaction, embeds.rating_saved(video, score, summary), ephemeral=True)

    @app_commands.command(
        name="top", description="This server's best-rated videos", extras={"reply": "public"}
    )
    @app_commands.describe(count="How many videos to list (1 to 25, default 10)")
    @app_commands.guild_only()
    async def top(
        self, interaction: discord.Interaction, count: app_commands.Range[int, 1, 25] = 10
    ) -> None:
        # Ranking scans the server's rated videos: off the event loop.
        async with self.bot.db.read() as session:
            top = await session.ratings.top(guild_id(interaction), count)
        if not top.entries:
            raise UserFacingError(
                f"No video has {wording.count(top.min_ratings, 'ratings')} in this server yet: "
                "rate some with /rate."
            )
        await replies.send(interaction, embed=embeds.top_embed(top, guild_name(interaction)))


async def setup(bot: TakeTwoBot) -> None:
    await bot.add_cog(Ratings(bot))
