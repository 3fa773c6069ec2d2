"""Buttons and selects that keep working after a restart.

Each is a DynamicItem: its custom_id carries the video id (`taketwo:rate:42`), and the
bot registers the classes at start (TakeTwoBot.prepare), so a message posted before a
restart still answers. The same buttons sit under /review and under daily quote posts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import discord
from discord import ui

from bot.clock import now
from bot.errors import UserFacingError
from bot.ui import embeds, replies
from bot.ui.context import client, guild_id
from bot.ui.errors import reports_errors
from bot.ui.validation import parse_whole


class RateButton(
    ui.DynamicItem[ui.Button[Any]], template=r"taketwo:rate:(?P<video_id>[0-9]{1,18})"
):
    def __init__(self, video_id: int) -> None:
        super().__init__(
            ui.Button(
                label="Rate",
                style=discord.ButtonStyle.primary,
                emoji="⭐",
                custom_id=f"taketwo:rate:{video_id}",
            )
        )
        self.video_id = video_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> RateButton:
        return cls(int(match["video_id"]))

    @reports_errors
    async def callback(self, interaction: discord.Interaction) -> None:
        server = guild_id(interaction)
        async with client(interaction).db.read() as session:
            video = await session.videos.get(self.video_id)
            current = await session.ratings.member_score(server, video.id, interaction.user.id)
        view = ui.View(timeout=None)
        view.add_item(ScoreSelect(video.id, current))
        prompt = f"How would you rate **{discord.utils.escape_markdown(video.title)}**?"
        if current is not None:
            prompt += f" Your current score is {current}/10."
        await replies.send(interaction, prompt, view=view, ephemeral=True)


class ScoreSelect(
    ui.DynamicItem[ui.Select[Any]], template=r"taketwo:score:(?P<video_id>[0-9]{1,18})"
):
    def __init__(self, video_id: int, current: int | None = None) -> None:
        options = [
            discord.SelectOption(label=f"{score}/10", value=str(score), default=score == current)
            for score in range(10, 0, -1)
        ]
        super().__init__(
            ui.Select(
                placeholder="Pick a score from 1 to 10",
                options=options,
                custom_id=f"taketwo:score:{video_id}",
            )
        )
        self.video_id = video_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> ScoreSelect:
        return cls(int(match["video_id"]))

    @reports_errors
    async def callback(self, interaction: discord.Interaction) -> None:
        server = guild_id(interaction)
        data: Mapping[str, object] = interaction.data or {}
        values = data.get("values")
        # The value comes from the member's client: check it on the server.
        score = (
            parse_whole(values[0], 1, 10) if isinstance(values, list) and len(values) == 1 else None
        )
        if score is None:
            raise UserFacingError("Pick one score from 1 to 10.")
        client(interaction).write_limits.check("rating", server, interaction.user.id)
        db = client(interaction).db
        async with db.lookup() as session:
            video = await session.videos.get(self.video_id)
        summary = await db.rate(
            guild_id=server,
            video_id=video.id,
            user_id=interaction.user.id,
            score=score,
            rated_at=now(),
        )
        await replies.edit(
            interaction, content=embeds.rating_saved(video, score, summary), view=None
        )


class CreditsButton(
    ui.DynamicItem[ui.Button[Any]], template=r"taketwo:credits:(?P<video_id>[0-9]{1,18})"
):
    def __init__(self, video_id: int) -> None:
        super().__init__(
            ui.Button(
                label="Credits",
                style=discord.ButtonStyle.secondary,
                emoji="🎬",
                custom_id=f"taketwo:credits:{video_id}",
            )
        )
        self.video_id = video_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> CreditsButton:
        return cls(int(match["video_id"]))

    @reports_errors
    async def callback(self, interaction: discord.Interaction) -> None:
        async with client(interaction).db.read() as session:
            video = await session.videos.get(self.video_id)
            credits, sources = await session.videos.credits_and_sources(video.id)
        await replies.send(
            interaction, embed=embeds.credits_embed(video, credits, sources), ephemeral=True
        )


class QuoteButton(
    ui.DynamicItem[ui.Button[Any]], template=r"taketwo:quote:(?P<video_id>[0-9]{1,18})"
):
    def __init__(self, video_id: int) -> None:
        super().__init__(
            ui.Button(
                label="Quote",
                style=discord.ButtonStyle.secondary,
                emoji="💬",
                custom_id=f"taketwo:quote:{video_id}",
            )
        )
        self.video_id = video_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> QuoteButton:
        return cls(int(match["video_id"]))

    @reports_errors
    async def callback(self, interaction: discord.Interaction) -> None:
        server = guild_id(interaction)
        async with client(interaction).db.read() as session:
            video = await session.videos.get(self.video_id)
            quote = await session.quotes.random(server, video.id)
        if quote is None:
            raise UserFacingError(
                f"No quotes about “{video.title[:80]}” yet: save one with /quote add."
            )
        await replies.send(interaction, embed=embeds.quote_embed(quote), ephemeral=True)


VIDEO_BUTTONS = (RateButton, ScoreSelect, CreditsButton, QuoteButton)


def video_buttons(video_id: int, watch_url: str | None = None) -> ui.View:
    """The Rate, Credits and Quote buttons shown under a video, and a Watch link to the
    video when its link is known."""
    view = ui.View(timeout=None)
    view.add_item(RateButton(video_id))
    view.add_item(CreditsButton(video_id))
    view.add_item(QuoteButton(video_id))
    if watch_url:
        # A link button opens the page in the member's browser: no interaction, no custom_id.
        view.add_item(ui.Button(label="Watch", style=discord.ButtonStyle.link, url=watch_url))
    return view
