"""/profile and /taste: a member's ratings as a profile, and two members' ratings compared."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import escape_markdown

from bot import charts
from bot.client import TakeTwoBot
from bot.errors import UserFacingError
from bot.taste import Taste
from bot.ui import replies
from bot.ui.context import guild_id, guild_name
from bot.ui.embeds import chart_file
from bot.ui.limits import clip
from bot.ui.people import profile_embed, taste_embed


def shown_name(user: discord.User | discord.Member) -> str:
    """A member's name as an embed shows it: their display name, markdown escaped."""
    return escape_markdown(clip(user.display_name, 32))


class Profiles(commands.Cog):
    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot

    async def _hidden(self, server: int, user: discord.User | discord.Member) -> bool:
        async with self.bot.db.lookup() as session:
            return await session.members.hides_ratings(server, user.id)

    @app_commands.command(
        name="profile",
        description="A member's ratings, favourite people and takes here (yours by default)",
        extras={"reply": "public"},
    )
    @app_commands.describe(member="Whose profile (yours if left out)")
    @app_commands.guild_only()
    async def profile(
        self, interaction: discord.Interaction, member: discord.User | None = None
    ) -> None:
        server = guild_id(interaction)
        who = member or interaction.user
        own = who.id == interaction.user.id
        async with self.bot.db.lookup() as session:
            profile = await session.profiles.profile_of_few(server, who.id)
        if profile is None:  # a member with many ratings: read off the event loop
            async with self.bot.db.read() as session:
                profile = await session.profiles.profile(server, who.id)
        if profile.hides_ratings and not own:
            raise UserFacingError(f"{shown_name(who)} keeps their ratings private.")
        if not profile.count and not profile.take_count:
            raise UserFacingError(
                "You have not rated any video here yet: try /rate."
                if own
                else f"{shown_name(who)} has not rated any video here yet."
            )
        embed = profile_embed(profile, shown_name(who), guild_name(interaction))
        file = None
        if profile.count:
            file = await chart_file(embed, charts.score_distribution, profile.histogram)
        await replies.send(interaction, embed=embed, file=file)

    @app_commands.command(
        name="taste",
        description="How well your ratings agree with another member's",
        extras={"reply": "public"},
    )
    @app_commands.describe(member="Whose ratings to compare with yours")
    @app_commands.guild_only()
    async def taste(self, interaction: discord.Interaction, member: discord.User) -> None:
        server = guild_id(interaction)
        if member.id == interaction.user.id:
            raise UserFacingError("Pick another member: your ratings always agree with yours.")
        if await self._hidden(server, member):
            raise UserFacingError(
                f"{shown_name(member)} keeps their ratings private, so they cannot be compared."
            )
        async with self.bot.db.read() as session:
            shared = await session.profiles.shared(server, interaction.user.id, member.id)
        taste = Taste(shared)
        first, second = shown_name(interaction.user), shown_name(member)
        embed = taste_embed(taste, first, second)
        file = None
        if taste.agreement is not None:
            mine, theirs = taste.histograms()
            file = await chart_file(
                embed,
                charts.side_by_side,
                mine,
                theirs,
                interaction.user.display_name,
                member.display_name,
            )
        await replies.send(interaction, embed=embed, file=file)


async def setup(bot: TakeTwoBot) -> None:
    await bot.add_cog(Profiles(bot))
