"""Buttons and selects that keep working after a restart.

Each is a DynamicItem: its custom_id carries the video id (`taketwo:rate:42`), and the
bot registers the classes at start (TakeTwoBot.prepare), so a message posted before a
restart still answers. The same buttons sit under /review and under daily quote posts.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from typing import Any

import discord
from discord import ui

from bot.clock import now
from bot.db.models import DIRECTOR_ROLE, VIDEO_CREDIT, Credit, Video
from bot.errors import UserFacingError
from bot.links import watchable
from bot.ui import embeds, replies
from bot.ui.context import client, guild_id
from bot.ui.errors import reports_errors
from bot.ui.limits import clip
from bot.ui.people import send_person
from bot.ui.validation import parse_whole

# A select holds at most 25 options, each label and description at most 100 characters.
SELECT_OPTIONS = 25
SELECT_LABEL = 100


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
            interaction,
            embed=embeds.credits_embed(video, credits, sources),
            view=people_menu(video, credits),
            ephemeral=True,
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


def _person_value(place: int, name: str) -> str:
    """An option's value: the person's place, and a check of their name (the credits may
    change after the menu is posted, and a place alone would then name someone else)."""
    return f"{place}:{zlib.crc32(name.encode()):08x}"


def credited_people(video: Video, credits: list[Credit]) -> list[tuple[str, str]]:
    """Who a video's People select offers, once each with their first role: directors
    first, then the video's other credits, the artist, and the song's credits."""
    ordered = sorted(
        enumerate(credits),
        key=lambda c: (
            c[1].kind != VIDEO_CREDIT,
            c[1].role.casefold() != DIRECTOR_ROLE,
            c[0],
        ),
    )
    people: dict[str, str] = {}
    for _, credit in ordered:
        if credit.kind == VIDEO_CREDIT:
            people.setdefault(credit.name, credit.role)
    people.setdefault(video.artist, "Artist")
    for _, credit in ordered:
        people.setdefault(credit.name, f"{credit.role} (song)")
    return list(people.items())[:SELECT_OPTIONS]


class PeopleSelect(
    ui.DynamicItem[ui.Select[Any]], template=r"taketwo:people:(?P<video_id>[0-9]{1,18})"
):
    """Under /credits and /review's Credits reply, the link to /person: the people credited
    on the video. An option's value is the person's place in the list, so a name of any
    length fits."""

    def __init__(self, video_id: int, people: list[tuple[str, str]] | None = None) -> None:
        options = [
            discord.SelectOption(
                label=clip(name, SELECT_LABEL),
                description=clip(role, SELECT_LABEL),
                value=_person_value(i, name),
            )
            for i, (name, role) in enumerate(people or [])
        ] or [discord.SelectOption(label="—", value="0")]
        super().__init__(
            ui.Select(
                placeholder="See a person's videos and scores",
                options=options,
                custom_id=f"taketwo:people:{video_id}",
            )
        )
        self.video_id = video_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> PeopleSelect:
        return cls(int(match["video_id"]))

    @reports_errors
    async def callback(self, interaction: discord.Interaction) -> None:
        data: Mapping[str, object] = interaction.data or {}
        values = data.get("values")
        # The value comes from the member's client: check it on the server.
        value = values[0] if isinstance(values, list) and len(values) == 1 else None
        place = parse_whole(str(value).partition(":")[0], 0, SELECT_OPTIONS - 1)
        async with client(interaction).db.read() as session:
            video = await session.videos.get(self.video_id)
            people = credited_people(video, await session.videos.credits(video.id))
        if place is None or place >= len(people):
            raise UserFacingError("Pick one of the people listed.")
        name = people[place][0]
        if value != _person_value(place, name):
            raise UserFacingError(
                "This video's credits changed since this menu was posted: open them again."
            )
        await send_person(interaction, name, ephemeral=True)


VIDEO_BUTTONS = (RateButton, ScoreSelect, CreditsButton, QuoteButton, PeopleSelect)


def video_buttons(video_id: int, watch_url: str | None = None) -> ui.View:
    """The Rate, Credits and Quote buttons shown under a video, and a Watch link to the
    video when its link is known."""
    view = ui.View(timeout=None)
    view.add_item(RateButton(video_id))
    view.add_item(CreditsButton(video_id))
    view.add_item(QuoteButton(video_id))
    # A link typed before links were checked may not be one Discord takes: it would refuse
    # the whole message, so such a link gets no button.
    if watch_url and watchable(watch_url):
        # A link button opens the page in the member's browser: no interaction, no custom_id.
        view.add_item(ui.Button(label="Watch", style=discord.ButtonStyle.link, url=watch_url))
    return view


def people_menu(video: Video, credits: list[Credit]) -> ui.View | None:
    """Under a video's credits: a select of the people credited, each leading to their
    /person page (None when nobody is)."""
    people = credited_people(video, credits)
    if not people:
        return None
    view = ui.View(timeout=None)
    view.add_item(PeopleSelect(video.id, people))
    return view
