"""/rate and /top: members score videos 1 to 10; the server's best-rated videos, directors
and artists."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import charts, wording
from bot.client import TakeTwoBot
from bot.clock import now
from bot.db.models import PERSON_ROLES
from bot.errors import UserFacingError
from bot.ui import embeds, replies
from bot.ui.context import guild_id, guild_name
from bot.ui.embeds import chart_file
from bot.ui.people import people_top_embed
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
        name="top",
        description="This server's best-rated videos, directors or artists",
        extras={"reply": "public"},
    )
    @app_commands.describe(
        count="How many to list (1 to 25, default 10)",
        by="Rank videos (the default), directors or artists",
    )
    @app_commands.choices(
        by=[app_commands.Choice(name=what, value=what) for what in ("videos", *PERSON_ROLES)]
    )
    @app_commands.guild_only()
    async def top(
        self,
        interaction: discord.Interaction,
        count: app_commands.Range[int, 1, 25] = 10,
        by: str = "videos",
    ) -> None:
        server = guild_id(interaction)
        if by not in PERSON_ROLES and by != "videos":
            raise UserFacingError("/top ranks videos, directors or artists: pick one of those.")
        # Ranking scans the server's rated videos: off the event loop.
        entries: list[tuple[str, float]]
        if by == "videos":
            async with self.bot.db.read() as session:
                top = await session.ratings.top(server, count)
            entries = [(entry.video.title, entry.weighted) for entry in top.entries]
            least = top.min_ratings
            embed = embeds.top_embed(top, guild_name(interaction))
        else:
            async with self.bot.db.read() as session:
                people = await session.people.top(server, by, count)
            entries = [(entry.name, entry.weighted) for entry in people.entries]
            least = people.min_ratings
            embed = people_top_embed(people, guild_name(interaction))
        if not entries:
            what = "video" if by == "videos" else by[:-1]
            raise UserFacingError(
                f"No {what} has {wording.count(least, 'ratings')} in this server yet: "
                "rate some with /rate."
            )
        file = await chart_file(embed, charts.ranking, tuple(entries))
        await replies.send(interaction, embed=embed, file=file)


async def setup(bot: TakeTwoBot) -> None:
    await bot.add_cog(Ratings(bot))
