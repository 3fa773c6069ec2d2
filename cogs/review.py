"""/review: a video's press summaries, directors and this server's community score."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import charts
from bot.client import TakeTwoBot
from bot.db.models import MIN_RATINGS
from bot.ui import embeds, replies
from bot.ui.components import video_buttons
from bot.ui.context import guild_id, guild_name
from bot.ui.video_option import VideoOption


class Review(commands.Cog):
    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="review",
        description="What critics and this server think of a video",
        extras={"reply": "public"},
    )
    @app_commands.describe(video="Start typing a title or an artist")
    @app_commands.guild_only()
    async def review(self, interaction: discord.Interaction, video: VideoOption) -> None:
        async with self.bot.db.lookup() as session:
            page = await session.videos.page(guild_id(interaction), video.id, interaction.user.id)
        embed = embeds.review_embed(page, guild_name(interaction))
        file = None
        if page.score.count >= MIN_RATINGS:
            # The chart beside the text bars, which stay for screen readers and for servers
            # that hide images; the member's own score in the accent colour. Like /top, it
            # waits for a few ratings: one or two bars say nothing the text does not.
            file = await embeds.chart_file(
                embed,
                charts.score_distribution,
                page.score.histogram,
                highlight=page.member_score,
            )
        await replies.send(
            interaction, embed=embed, file=file, view=video_buttons(video.id, page.video.url)
        )


async def setup(bot: TakeTwoBot) -> None:
    await bot.add_cog(Review(bot))
