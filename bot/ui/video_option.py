"""The `video` option: autocomplete from titles and artists, and the server-side check of
whatever the member sent (a picked choice or text typed by hand)."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.db.models import Video
from bot.db.videos import CHOICE_PREFIX
from bot.ui.context import client
from bot.ui.limits import CHOICE_NAME, CHOICES, clip


class VideoTransformer(app_commands.Transformer):
    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def max_value(self) -> int:
        return 100  # the longest string Discord lets a member send here

    async def transform(self, interaction: discord.Interaction, value: str, /) -> Video:
        async with client(interaction).db.read() as session:
            return await session.videos.resolve(str(value))

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction, value: str, /
    ) -> list[app_commands.Choice[str]]:
        async with client(interaction).db.read() as session:
            videos = await session.videos.search(str(value)[:100], limit=CHOICES)
        return [
            app_commands.Choice(name=clip(v.label, CHOICE_NAME), value=f"{CHOICE_PREFIX}{v.id}")
            for v in videos
        ]


VideoOption = app_commands.Transform[Video, VideoTransformer]
