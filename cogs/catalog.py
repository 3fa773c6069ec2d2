"""/video add, /video edit, /video credits, /video remove and /review-source add: editing the
shared catalog.

The catalog is shared by every server, so only catalog editors (the application's owners,
OWNER_IDS, and server managers when MANAGERS_EDIT_CATALOG is on) may change it.
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands, ui
from discord.ext import commands

from bot.catalog import (
    LIMITS,
    MAX_CREDITS,
    MAX_CREDITS_TEXT,
    YEARS,
    credit_from_line,
    credits_text,
    is_review_date,
)
from bot.client import TakeTwoBot
from bot.db.models import Credit, PressReview, Video
from bot.db.text import CONTROL
from bot.errors import NotFoundError, UserFacingError
from bot.ui import embeds, replies
from bot.ui.context import catalog_editors_only, client, guild_name, require_catalog_editor
from bot.ui.errors import reports_errors
from bot.ui.forms import Form, open_form
from bot.ui.limits import clip
from bot.ui.video_option import VideoOption
from bot.wording import count
from bot.wording import counts as counts_said

# Option types, bounded by the catalog file's limits. (discord.py reads string literals in
# annotations as names, so the limits are looked up here, not inside the signatures.)
Title = app_commands.Range[str, 1, LIMITS["title"]]
Artist = app_commands.Range[str, 1, LIMITS["artist"]]
Album = app_commands.Range[str, 1, LIMITS["album"]]
Year = app_commands.Range[int, YEARS[0], YEARS[1]]
Link = app_commands.Range[str, 8, LIMITS["url"]]
Outlet = app_commands.Range[str, 1, LIMITS["outlet"]]
Headline = app_commands.Range[str, 1, LIMITS["headline"]]
Summary = app_commands.Range[str, 20, LIMITS["summary"]]
Author = app_commands.Range[str, 1, LIMITS["author"]]
IsoDate = app_commands.Range[str, 10, 10]


def parse_credits(text: str) -> list[Credit]:
    """`Role: Name` on each line, `Song role: Name` for the song's; blank lines are skipped.
    Every bad line is reported."""
    credits, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        role, sep, name = line.partition(":")
        credit = credit_from_line(role, name)
        if CONTROL.search(line.strip()):
            problems.append(f"line {number} holds a tab or a control character")
        elif not sep or not credit.role or not credit.name:
            problems.append(f"line {number} needs the form Role: Name")
        elif len(credit.role) > LIMITS["role"] or len(credit.name) > LIMITS["name"]:
            problems.append(f"line {number} is too long")
        else:
            credits.append(credit)
    if len(credits) > MAX_CREDITS:
        problems.append(f"at most {MAX_CREDITS} credits")
    if problems:
        raise UserFacingError("Nothing was changed: " + "; ".join(problems[:5]) + ".")
    return credits


class CreditsModal(Form):
    kind = "credits"
    command = "/video credits"

    def __init__(self, video: Video, credits: list[Credit]) -> None:
        super().__init__(title=clip(f"Credits: {video.title}", 45), key=video.id)
        self.video = video
        self.lines: ui.TextInput[CreditsModal] = ui.TextInput(
            label="Credits, one per line: Role: Name",
            custom_id="lines",
            style=discord.TextStyle.paragraph,
            default=credits_text(credits) or None,
            placeholder="Director: Jane Doe\nCast: Ann Poe\nSong producer: John Roe",
            max_length=MAX_CREDITS_TEXT,
            required=False,
        )
        self.add_item(self.lines)

    @classmethod
    async def rebuild(cls, interaction: discord.Interaction, key: int) -> CreditsModal | None:
        try:
            async with client(interaction).db.lookup() as session:
                return cls(await session.videos.get(key), [])
        except NotFoundError:
            return None

    async def submit(self, interaction: discord.Interaction, values: dict[str, str]) -> None:
        require_catalog_editor(interaction)
        credits = parse_credits(values["lines"])
        async with client(interaction).db.transaction() as tx:
            await tx.videos.get(self.video.id)
            await tx.videos.replace_credits(self.video.id, credits)
            sources = await tx.videos.sources(self.video.id)
        await replies.send(
            interaction,
            f"Saved {count(len(credits), 'credits')} for "
            f"**{discord.utils.escape_markdown(self.video.title)}**.",
            embed=embeds.credits_embed(self.video, credits, sources),
            ephemeral=True,
        )


def _link(url: str | None) -> str | None:
    if url is None:
        return None
    if not re.fullmatch(r"https?://\S+", url.strip()):
        raise UserFacingError("A link starts with http:// or https:// and has no spaces.")
    return url.strip()


def _text(value: str, what: str) -> str:
    if not value.strip():
        raise UserFacingError(f"The {what} cannot be blank.")
    return value.strip()


class RemoveVideoButton(
    ui.DynamicItem[ui.Button[Any]],
    template=r"taketwo:rmvideo:(?P<video>[0-9]{1,18}):(?P<user>[0-9]{1,20}):(?P<choice>yes|no)",
):
    def __init__(self, video_id: int, user_id: int, confirm: bool) -> None:
        super().__init__(
            ui.Button(
                label="Yes, remove it everywhere" if confirm else "Cancel",
                style=discord.ButtonStyle.danger if confirm else discord.ButtonStyle.secondary,
                custom_id=f"taketwo:rmvideo:{video_id}:{user_id}:{'yes' if confirm else 'no'}",
            )
        )
        self.video_id, self.user_id, self.confirm = video_id, user_id, confirm

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> RemoveVideoButton:
        return cls(int(match["video"]), int(match["user"]), match["choice"] == "yes")

    @reports_errors
    async def callback(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            raise UserFacingError("Only the member who asked can confirm this.")
        if not self.confirm:
            await replies.edit(interaction, content="Nothing was removed.", view=None)
            return
        require_catalog_editor(interaction)
        async with client(interaction).db.transaction() as tx:
            video = await tx.videos.get(self.video_id)
            counts = await tx.videos.remove_everywhere(video.id)
        gone = counts_said(counts)
        await replies.edit(
            interaction,
            content=f"Removed **{discord.utils.escape_markdown(video.title)}** from the catalog "
            f"with its {gone}.",
            view=None,
        )


@app_commands.guild_only()
class Videos(commands.GroupCog, group_name="video", group_description="Edit the video catalog"):
    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(RemoveVideoButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(RemoveVideoButton)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return catalog_editors_only(interaction)

    @app_commands.command(name="add", description="Add a video to the catalog")
    @app_commands.describe(
        title="The video's title",
        artist="Who it is by",
        album="The album it comes from",
        year="The year it came out",
        url="Where to watch it",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        title: Title,
        artist: Artist,
        album: Album | None = None,
        year: Year | None = None,
        url: Link | None = None,
    ) -> None:
        title, artist = _text(title, "title"), _text(artist, "artist")
        async with self.bot.db.transaction() as tx:
            if existing := await tx.videos.same_title_and_artist(title, artist):
                raise UserFacingError(
                    f"**{discord.utils.escape_markdown(existing.label)}** is already in the "
                    f"catalog (slug `{existing.slug}`): change it with /video edit."
                )
            slug = await tx.videos.slug_for(artist, title)
            video_id = await tx.videos.upsert(
                slug=slug,
                title=title,
                artist=artist,
                album=album.strip() if album else None,
                year=year,
                url=_link(url),
            )
            video = await tx.videos.get(video_id)
        await replies.send(
            interaction,
            f"Added **{discord.utils.escape_markdown(video.label)}** (slug `{slug}`). "
            "Add its credits with /video credits.",
            ephemeral=True,
        )

    @app_commands.command(name="edit", description="Change a video's details")
    @app_commands.describe(video="The video to change")
    async def edit(
        self,
        interaction: discord.Interaction,
        video: VideoOption,
        title: Title | None = None,
        artist: Artist | None = None,
        album: Album | None = None,
        year: Year | None = None,
        url: Link | None = None,
    ) -> None:
        if all(v is None for v in (title, artist, album, year, url)):
            raise UserFacingError("Give at least one detail to change.")
        async with self.bot.db.transaction() as tx:
            current = await tx.videos.get(video.id)
            new_title = _text(title, "title") if title is not None else current.title
            new_artist = _text(artist, "artist") if artist is not None else current.artist
            other = await tx.videos.same_title_and_artist(
                new_title, new_artist, other_than=current.id
            )
            if other is not None:
                raise UserFacingError(
                    f"Another video is already **{discord.utils.escape_markdown(other.label)}** "
                    f"(slug `{other.slug}`): nothing was changed."
                )
            await tx.videos.upsert(
                slug=current.slug,
                title=new_title,
                artist=new_artist,
                album=album.strip() if album is not None else current.album,
                year=year if year is not None else current.year,
                url=_link(url) if url is not None else current.url,
            )
            updated = await tx.videos.get(video.id)
        await replies.send(
            interaction,
            f"Updated **{discord.utils.escape_markdown(updated.label)}**.",
            ephemeral=True,
        )

    @app_commands.command(
        name="credits", description="Change a video's credits", extras={"reply": "form"}
    )
    @app_commands.describe(video="The video whose credits to change")
    async def credits(self, interaction: discord.Interaction, video: VideoOption) -> None:
        async with self.bot.db.lookup() as session:  # a form cannot follow a deferral
            credits = await session.videos.credits(video.id)
        await open_form(interaction, CreditsModal(video, credits))

    @app_commands.command(name="remove", description="Remove a video and everything said about it")
    @app_commands.describe(video="The video to remove")
    async def remove(self, interaction: discord.Interaction, video: VideoOption) -> None:
        view = ui.View(timeout=None)
        view.add_item(RemoveVideoButton(video.id, interaction.user.id, confirm=True))
        view.add_item(RemoveVideoButton(video.id, interaction.user.id, confirm=False))
        await replies.send(
            interaction,
            f"Remove **{discord.utils.escape_markdown(video.label)}** from the catalog? Every "
            "server loses its ratings, takes and quotes about it. This cannot be undone.",
            view=view,
            ephemeral=True,
        )


@app_commands.guild_only()
class ReviewSources(
    commands.GroupCog, group_name="review-source", group_description="Press reviews in the catalog"
):
    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return catalog_editors_only(interaction)

    @app_commands.command(name="add", description="Add a press review summary to a video")
    @app_commands.describe(
        video="The video reviewed",
        outlet="Who published the review",
        headline="The review's headline",
        summary="Two to four sentences in your own words",
        url="Link to the review",
        author="Who wrote it",
        published_on="Date, YYYY-MM-DD",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        video: VideoOption,
        outlet: Outlet,
        headline: Headline,
        summary: Summary,
        url: Link,
        author: Author | None = None,
        published_on: IsoDate | None = None,
    ) -> None:
        if published_on is not None and not is_review_date(published_on):
            raise UserFacingError(
                f"Write the date as YYYY-MM-DD between {YEARS[0]} and {YEARS[1]}, like 2022-08-26."
            )
        review = PressReview(
            headline=_text(headline, "headline"),
            summary=_text(summary, "summary"),
            outlet=_text(outlet, "outlet"),
            author=author.strip() if author else None,
            published_on=published_on,
            url=_link(url),
        )
        async with self.bot.db.transaction() as tx:
            await tx.videos.get(video.id)
            await tx.videos.add_review(video.id, review)
            page = await tx.videos.page(0, video.id)
        await replies.send(
            interaction,
            "Added the review. This is how /review shows the video now:",
            embed=embeds.review_embed(page, guild_name(interaction)),
            ephemeral=True,
        )


async def setup(bot: TakeTwoBot) -> None:
    await bot.add_cog(Videos(bot))
    await bot.add_cog(ReviewSources(bot))
