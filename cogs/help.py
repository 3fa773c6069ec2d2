"""/help: what TakeTwo can do. Reads nothing from the database."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import TakeTwoBot
from bot.ui import replies
from bot.ui.embeds import BRAND
from bot.ui.limits import FIELD_VALUE, clip, fit_embed


class Help(commands.Cog):
    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What TakeTwo can do")
    @app_commands.guild_only()
    async def help(self, interaction: discord.Interaction) -> None:
        lines = sorted(
            f"`/{c.qualified_name}` {c.description}"
            for c in self.bot.tree.walk_commands()
            if isinstance(c, app_commands.Command)
        )
        embed = discord.Embed(
            title="TakeTwo",
            colour=BRAND,
            description="Takes on music videos: reviews, credits, quotes, "
            "ratings and a daily quote.",
        )
        chunk: list[str] = []
        for line in [*lines, ""]:
            if line and len("\n".join([*chunk, line])) <= FIELD_VALUE:
                chunk.append(line)
                continue
            if chunk:
                embed.add_field(
                    name="Commands" if not embed.fields else "More commands",
                    value=clip("\n".join(chunk), FIELD_VALUE),
                    inline=False,
                )
            chunk = [line] if line else []
        embed.set_footer(text="Right-click a message > Apps > Save as quote to keep a line.")
        await replies.send(interaction, embed=fit_embed(embed), ephemeral=True)


async def setup(bot: TakeTwoBot) -> None:
    await bot.add_cog(Help(bot))
