"""/credits show and /credits edit: who made a video, grouped by role.

Discord does not let a command that has subcommands run on its own, so reading the credits
is `/credits show video:` beside `/credits edit video:`.
"""

from __future__ import annotations

import discord
from discord import app_commands, ui
from discord.ext import commands

from bot.client import TakeTwoBot
from bot.db.models import Credit, Video
from bot.errors import NotFoundError, UserFacingError
from bot.ui import embeds, replies
from bot.ui.context import client, require_catalog_editor
from bot.ui.forms import Form, open_form
from bot.ui.limits import clip
from bot.ui.video_option import VideoOption

MAX_CREDITS = 100


def parse_credits(text: str) -> list[Credit]:
    """`Role: Name` on each line; blank lines are skipped. Every bad line is reported."""
    credits, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        role, sep, name = line.partition(":")
        if not sep or not role.strip() or not name.strip():
            problems.append(f"line {number} needs the form Role: Name")
        elif len(role.strip()) > 100 or len(name.strip()) > 200:
            problems.append(f"line {number} is too long")
        else:
            credits.append(Credit(role=role.strip(), name=name.strip()))
    if len(credits) > MAX_CREDITS:
        problems.append(f"at most {MAX_CREDITS} credits")
    if problems:
        raise UserFacingError("Nothing was changed: " + "; ".join(problems[:5]) + ".")
    return credits


class CreditsModal(Form):
    kind = "credits"
    command = "/credits edit"

    def __init__(self, video: Video, credits: list[Credit]) -> None:
        super().__init__(title=clip(f"Credits: {video.title}", 45), key=video.id)
        self.video = video
        self.lines = ui.TextInput(
            label="One credit per line: Role: Name",
            custom_id="lines",
            style=discord.TextStyle.paragraph,
            default="\n".join(f"{c.role}: {c.name}" for c in credits) or None,
            placeholder="Director: Jane Doe\nProducer: John Roe",
            max_length=4000,
            required=False,
        )
        self.add_item(self.lines)

    @classmethod
    async def rebuild(cls, interaction: discord.Interaction, key: int) -> CreditsModal | None:
        try:
            return cls(await client(interaction).db.video(key), [])
        except NotFoundError:
            return None

    async def submit(self, interaction: discord.Interaction, values: dict[str, str]) -> None:
        require_catalog_editor(interaction)
        credits = parse_credits(values["lines"])
        async with client(interaction).db.transaction() as tx:
            await tx.videos.require(self.video.id)
            await tx.videos.replace_credits(self.video.id, credits)
        await replies.send(
            interaction,
            f"Saved {len(credits)} credits for "
            f"**{discord.utils.escape_markdown(self.video.title)}**.",
            embed=embeds.credits_embed(self.video, credits),
            ephemeral=True,
        )


@app_commands.guild_only()
class Credits(commands.GroupCog, group_name="credits", group_description="Who made a video"):
    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="show",
        description="Who directed, produced and starred in a video",
        extras={"reply": "public"},
    )
    @app_commands.describe(video="Start typing a title or an artist")
    async def show(self, interaction: discord.Interaction, video: VideoOption) -> None:
        async with self.bot.db.lookup() as session:
            credits = await session.videos.credits(video.id)
        await replies.send(interaction, embed=embeds.credits_embed(video, credits))

    @app_commands.command(
        name="edit",
        description="Change a video's credits (catalog editors)",
        extras={"reply": "form"},
    )
    @app_commands.describe(video="Start typing a title or an artist")
    async def edit(self, interaction: discord.Interaction, video: VideoOption) -> None:
        require_catalog_editor(interaction)
        async with self.bot.db.read() as session:
            credits = await session.videos.credits(video.id)
        await open_form(interaction, CreditsModal(video, credits))


async def setup(bot: TakeTwoBot) -> None:
    await bot.add_cog(Credits(bot))
