"""/video add, /video edit, /video credits, /video remove and /review-source add: editing the
shared catalog.

The catalog is shared by every server, so only catalog editors (the application's owners,
OWNER_IDS, and server managers when MANAGERS_EDIT_CATALOG is on) may change it.

`/video add url:` adds a video from its link: the interaction is deferred, the bot's lookups
(bot/lookups) say what they find, and the editor gets it with a button that opens the add
form filled in. A form can only answer a button, not a deferred command; the draft waits in
the database (bot/video_drafts.py), named by the button's custom_id, so the button works
after a restart.

`/video suggest url:` is open to every member: the link waits in a queue (one suggestion a
link, however many members suggest it) that editors work through with `/video queue`.
Approve runs the same lookups and form as `/video add url:`; saving the form (or adding that
link any other way) marks the suggestion added. Reject stores a reason the members see in
`/video suggestions`.
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
from bot.clock import now
from bot.db.models import (
    PENDING,
    VIDEO_CREDIT,
    Credit,
    PressReview,
    Video,
    VideoSuggestion,
)
from bot.db.text import CONTROL
from bot.errors import NotFoundError, UserFacingError
from bot.links import VideoLink, parse_video_link
from bot.ui import embeds, replies
from bot.ui import suggestions as suggestion_views
from bot.ui.context import (
    catalog_editors_only,
    client,
    guild_id,
    guild_name,
    require_catalog_editor,
)
from bot.ui.errors import reports_errors
from bot.ui.forms import EXPIRED, Form, open_form
from bot.ui.limits import clip
from bot.ui.validation import check_text, parse_whole
from bot.ui.video_option import VideoOption
from bot.video_drafts import DRAFT_KEPT, Draft, Saved, Typed
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
MAX_NOTE = 200
Note = app_commands.Range[str, 1, MAX_NOTE]
MAX_REASON = 300
# A member's suggestions waiting at once: the write limits forget at a restart, this does not.
MAX_WAITING_PER_MEMBER = 20
# The queue shows this many a page: each takes a row of buttons, and a message has five rows.
QUEUE_PAGE = 4
OWN_SHOWN = 10
# What members who are not catalog editors may run in the /video group.
OPEN_TO_EVERYONE = frozenset({"suggest", "suggestions"})


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


def already_in_catalog(video: Video) -> UserFacingError:
    return UserFacingError(
        f"**{discord.utils.escape_markdown(video.label)}** is already in the catalog "
        f"(slug `{video.slug}`): change it with /video edit."
    )


def parse_directors(text: str) -> tuple[str, ...]:
    """One name a line; blank lines are skipped."""
    names = [check_text(line.strip(), "A director's name") for line in text.splitlines()]
    names = [name for name in names if name]
    if any(len(name) > LIMITS["name"] for name in names):
        raise UserFacingError(f"A director's name is at most {LIMITS['name']} characters long.")
    if len(names) > MAX_CREDITS:
        raise UserFacingError(f"At most {MAX_CREDITS} directors.")
    return tuple(dict.fromkeys(names))


class AddVideoForm(Form):
    """The add form of a video found from its link, filled with the draft's values."""

    kind = "video-add"
    command = "/video add"

    def __init__(self, draft_id: int, draft: Draft, created_at: int) -> None:
        super().__init__(title="Add a video", key=draft_id)
        self.draft_id, self.draft, self.created_at = draft_id, draft, created_at

        def field(
            label: str, custom_id: str, value: str, limit: int, *, required: bool = False
        ) -> ui.TextInput[AddVideoForm]:
            text: ui.TextInput[AddVideoForm] = ui.TextInput(
                label=label,
                custom_id=custom_id,
                default=value[:limit] or None,
                max_length=limit,
                required=required,
                style=discord.TextStyle.paragraph
                if custom_id == "directors"
                else discord.TextStyle.short,
            )
            self.add_item(text)
            return text

        field("Title", "title", draft.title(), LIMITS["title"], required=True)
        field("Artist", "artist", draft.artist(), LIMITS["artist"], required=True)
        field("Album", "album", draft.album(), LIMITS["album"])
        field(f"Year ({YEARS[0]}-{YEARS[1]})", "year", draft.year(), 4)
        field("Directors, one per line", "directors", "\n".join(draft.directors()), 1000)

    @classmethod
    async def rebuild(cls, interaction: discord.Interaction, key: int) -> AddVideoForm | None:
        async with client(interaction).db.read() as session:
            found = await session.videos.draft(key)
        # One left for a day is not opened, even before a newer draft's save drops it.
        if found is None or found.created_at < now() - DRAFT_KEPT:
            return None
        return cls(key, Draft.from_json(found.url, found.facts), found.created_at)

    async def submit(self, interaction: discord.Interaction, values: dict[str, str]) -> None:
        require_catalog_editor(interaction)
        year = parse_whole(values["year"], *YEARS) if values["year"] else None
        if values["year"] and year is None:
            raise UserFacingError(
                f"Write the year as four digits between {YEARS[0]} and {YEARS[1]}, like 2024."
            )
        saved = Saved(
            title=values["title"],
            artist=values["artist"],
            album=values["album"] or None,
            year=year,
            directors=parse_directors(values["directors"]),
        )
        credits = [Credit("Director", name, VIDEO_CREDIT) for name in saved.directors]
        sources = self.draft.sources_for(saved)
        async with client(interaction).db.transaction() as tx:
            for existing in (
                await tx.videos.with_url(self.draft.url),
                await tx.videos.same_title_and_artist(saved.title, saved.artist),
            ):
                if existing is not None:
                    raise already_in_catalog(existing)
            slug = await tx.videos.slug_for(saved.artist, saved.title)
            video_id = await tx.videos.upsert(
                slug=slug,
                title=saved.title,
                artist=saved.artist,
                album=saved.album,
                year=saved.year,
                url=self.draft.url,
            )
            await tx.videos.set_thumbnail(video_id, self.draft.thumbnail)
            await tx.videos.replace_credits(video_id, credits)
            await tx.videos.replace_sources(video_id, sources)
            # A suggestion rejected while this form was open is approved too: the video is
            # in the catalog now, and its members should read that, not the rejection.
            suggested = await tx.suggestions.approve(
                self.draft.url, video_id, now(), rejected_since=self.created_at
            )
            video = await tx.videos.get(video_id)
        settled = " The suggestion of this link is marked as added." if suggested else ""
        await replies.send(
            interaction,
            f"Added **{discord.utils.escape_markdown(video.label)}** (slug `{slug}`) with "
            f"{count(len(credits), 'credits')} and {count(len(sources), 'sources')}.{settled}",
            embed=embeds.credits_embed(video, credits, sources),
            ephemeral=True,
        )


replies.opens_form(r"taketwo:draft:[0-9]{1,18}")
replies.opens_form(r"taketwo:suggestion:[0-9]{1,18}:reject")


class OpenDraftButton(
    ui.DynamicItem[ui.Button[Any]], template=r"taketwo:draft:(?P<draft>[0-9]{1,18})"
):
    """Opens the add form of a video found from its link (a form cannot follow a deferral)."""

    def __init__(self, draft_id: int) -> None:
        super().__init__(
            ui.Button(
                label="Open the add form",
                style=discord.ButtonStyle.primary,
                custom_id=f"taketwo:draft:{draft_id}",
            )
        )
        self.draft_id = draft_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> OpenDraftButton:
        return cls(int(match["draft"]))

    @reports_errors
    async def callback(self, interaction: discord.Interaction) -> None:
        require_catalog_editor(interaction)
        form = await AddVideoForm.rebuild(interaction, self.draft_id)
        if form is None:
            raise UserFacingError(f"{EXPIRED} Run /video add again.")
        async with client(interaction).db.read() as session:
            existing = await session.videos.with_url(form.draft.url)
        if existing is not None:
            raise already_in_catalog(existing)
        await open_form(interaction, form)


async def offer_add_form(interaction: discord.Interaction, link: VideoLink, typed: Typed) -> None:
    """Look the link up, keep what was found as a draft, and offer the filled form (for
    /video add url: and a suggestion's Approve button)."""
    bot = client(interaction)
    # Each lookup asks outside services (a few requests) and keeps a draft: one editor must
    # not fill the services' queue for everyone.
    bot.write_limits.check("lookup", guild_id(interaction), interaction.user.id)
    # Before any outbound call: the services may take seconds, Discord waits three.
    await replies.defer_if_silent(interaction)
    facts = await bot.lookups.facts_for(link)
    draft = Draft(link.url, facts, typed)
    async with bot.db.transaction() as tx:
        draft_id = await tx.videos.save_draft(
            url=link.url, facts=draft.to_json(), now=now(), keep_for=DRAFT_KEPT
        )
    view = ui.View(timeout=None)
    view.add_item(OpenDraftButton(draft_id))
    await replies.send(
        interaction,
        embed=embeds.draft_embed(draft, lookups_on=bot.settings.external_lookups),
        view=view,
        ephemeral=True,
    )


async def waiting_suggestion(
    interaction: discord.Interaction, suggestion_id: int
) -> VideoSuggestion:
    """The suggestion, still waiting; else a sentence saying what became of it."""
    async with client(interaction).db.read() as session:
        suggestion = await session.suggestions.get(suggestion_id)
    if suggestion is None:
        raise UserFacingError(
            f"Suggestion #{suggestion_id} is gone: the members who made it asked TakeTwo to "
            "forget them."
        )
    if suggestion.status != PENDING:
        raise UserFacingError(
            f"Suggestion #{suggestion.id} was already decided: {suggestion_views.fate(suggestion)}."
        )
    return suggestion


async def approve_suggestion(interaction: discord.Interaction, suggestion: VideoSuggestion) -> None:
    link = parse_video_link(suggestion.url)  # stored canonical: this only names its host
    db = client(interaction).db
    async with db.read() as session:
        existing = await session.videos.with_url(link.url)
    if existing is not None:  # added meanwhile, by /video add or /video edit
        # A write only in this rare case: approving otherwise writes when the form is saved.
        async with db.transaction() as tx:
            await tx.suggestions.approve(link.url, existing.id, now())
        await replies.send(
            interaction,
            f"**{discord.utils.escape_markdown(existing.label)}** is already in the catalog "
            f"with that link: suggestion #{suggestion.id} is marked as added.",
            ephemeral=True,
        )
        return
    await offer_add_form(interaction, link, Typed())


class RejectSuggestionForm(Form):
    """The reason a suggestion is not added: its members read it in /video suggestions."""

    kind = "suggestion-reject"
    command = "/video queue"

    def __init__(self, suggestion: VideoSuggestion) -> None:
        super().__init__(title=f"Reject suggestion #{suggestion.id}", key=suggestion.id)
        self.suggestion = suggestion
        self.add_item(
            ui.TextInput(
                label="Why it is not added (its members see this)",
                custom_id="reason",
                placeholder="Not a music video, say, or already in the catalog as…",
                max_length=MAX_REASON,
            )
        )

    @classmethod
    async def rebuild(
        cls, interaction: discord.Interaction, key: int
    ) -> RejectSuggestionForm | None:
        async with client(interaction).db.read() as session:
            suggestion = await session.suggestions.get(key)
        return None if suggestion is None else cls(suggestion)

    async def submit(self, interaction: discord.Interaction, values: dict[str, str]) -> None:
        require_catalog_editor(interaction)
        async with client(interaction).db.transaction() as tx:
            rejected = await tx.suggestions.reject(self.suggestion.id, values["reason"], now())
        if not rejected:
            await waiting_suggestion(interaction, self.suggestion.id)  # says what became of it
        await replies.send(
            interaction,
            f"Rejected suggestion #{self.suggestion.id} (<{self.suggestion.url}>). Its members "
            f"see why: {discord.utils.escape_markdown(values['reason'])}",
            ephemeral=True,
        )


class SuggestionButton(
    ui.DynamicItem[ui.Button[Any]],
    template=r"taketwo:suggestion:(?P<id>[0-9]{1,18}):(?P<act>approve|reject)",
):
    """Approve or Reject under a suggestion in /video queue (for catalog editors only)."""

    def __init__(self, suggestion_id: int, *, approve: bool, row: int | None = None) -> None:
        act = "approve" if approve else "reject"
        super().__init__(
            ui.Button(
                label=f"{act.title()} #{suggestion_id}",
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.danger,
                custom_id=f"taketwo:suggestion:{suggestion_id}:{act}",
                row=row,
            )
        )
        self.suggestion_id, self.approve = suggestion_id, approve

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> SuggestionButton:
        return cls(int(match["id"]), approve=match["act"] == "approve")

    @reports_errors
    async def callback(self, interaction: discord.Interaction) -> None:
        require_catalog_editor(interaction)
        suggestion = await waiting_suggestion(interaction, self.suggestion_id)
        if self.approve:
            await approve_suggestion(interaction, suggestion)
        else:  # a form must be the first answer: nothing slow comes before it
            await open_form(interaction, RejectSuggestionForm(suggestion))


async def queue_page(
    interaction: discord.Interaction, *, after: int = 0, before: int | None = None
) -> tuple[discord.Embed, ui.View] | None:
    """One page of the waiting suggestions with their buttons; None when none waits."""
    async with client(interaction).db.read() as session:
        shown = await session.suggestions.waiting(after=after, before=before, limit=QUEUE_PAGE)
        if not shown and (after or before is not None):  # that page was emptied meanwhile
            shown = await session.suggestions.waiting(limit=QUEUE_PAGE)
        if not shown:
            return None
        earlier = await session.suggestions.waiting(before=shown[0].id, limit=1)
        later = await session.suggestions.waiting(after=shown[-1].id, limit=1)
        waiting = await session.suggestions.waiting_count()
    view = ui.View(timeout=None)
    for row, suggestion in enumerate(shown):
        view.add_item(SuggestionButton(suggestion.id, approve=True, row=row))
        view.add_item(SuggestionButton(suggestion.id, approve=False, row=row))
    if earlier:
        view.add_item(QueuePageButton(shown[0].id, later=False))
    if later:
        view.add_item(QueuePageButton(shown[-1].id, later=True))
    return suggestion_views.queue_embed(shown, waiting), view


class QueuePageButton(
    ui.DynamicItem[ui.Button[Any]],
    template=r"taketwo:suggestions:(?P<side>before|after):(?P<id>[0-9]{1,18})",
):
    """Turns /video queue's page: the suggestions after (or before) the id it carries."""

    def __init__(self, suggestion_id: int, *, later: bool) -> None:
        side = "after" if later else "before"
        super().__init__(
            ui.Button(
                label="Next page" if later else "Previous page",
                style=discord.ButtonStyle.secondary,
                custom_id=f"taketwo:suggestions:{side}:{suggestion_id}",
                row=QUEUE_PAGE,
            )
        )
        self.suggestion_id, self.later = suggestion_id, later

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> QueuePageButton:
        return cls(int(match["id"]), later=match["side"] == "after")

    @reports_errors
    async def callback(self, interaction: discord.Interaction) -> None:
        require_catalog_editor(interaction)
        if self.later:
            page = await queue_page(interaction, after=self.suggestion_id)
        else:
            page = await queue_page(interaction, before=self.suggestion_id)
        if page is None:
            await replies.edit(
                interaction, content="No suggestion is waiting.", embed=None, view=None
            )
            return
        embed, view = page
        await replies.edit(interaction, content=None, embed=embed, view=view)


def _stored_link(url: str) -> str:
    """The link /video edit stores: a YouTube or Vimeo video's canonical URL, so that the
    same video is found by its link; any other web link as it was typed."""
    try:
        return parse_video_link(url).url
    except UserFacingError:
        return _link(url) or ""


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
        self.bot.add_dynamic_items(
            RemoveVideoButton, OpenDraftButton, SuggestionButton, QueuePageButton
        )

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(
            RemoveVideoButton, OpenDraftButton, SuggestionButton, QueuePageButton
        )

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        command = interaction.command
        if command is not None and command.name in OPEN_TO_EVERYONE:
            return True
        return catalog_editors_only(interaction)

    @app_commands.command(name="add", description="Add a video to the catalog")
    @app_commands.describe(
        title="The video's title",
        artist="Who it is by",
        album="The album it comes from",
        year="The year it came out",
        url="A YouTube or Vimeo link: its details are looked up and filled in",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        title: Title | None = None,
        artist: Artist | None = None,
        album: Album | None = None,
        year: Year | None = None,
        url: Link | None = None,
    ) -> None:
        typed = Typed(
            title=_text(title, "title") if title is not None else None,
            artist=_text(artist, "artist") if artist is not None else None,
            album=album.strip() or None if album is not None else None,
            year=year,
        )
        if url is not None:
            await self.add_from_link(interaction, url, typed)
            return
        if typed.title is None or typed.artist is None:
            raise UserFacingError(
                "Give the video's title and artist, or its link (url) to have them looked up."
            )
        async with self.bot.db.transaction() as tx:
            if existing := await tx.videos.same_title_and_artist(typed.title, typed.artist):
                raise already_in_catalog(existing)
            slug = await tx.videos.slug_for(typed.artist, typed.title)
            video_id = await tx.videos.upsert(
                slug=slug,
                title=typed.title,
                artist=typed.artist,
                album=typed.album,
                year=year,
                url=None,
            )
            video = await tx.videos.get(video_id)
        await replies.send(
            interaction,
            f"Added **{discord.utils.escape_markdown(video.label)}** (slug `{slug}`). "
            "Add its credits with /video credits.",
            ephemeral=True,
        )

    async def add_from_link(self, interaction: discord.Interaction, url: str, typed: Typed) -> None:
        """A link not in the catalog yet gets the filled add form."""
        link = parse_video_link(url)  # a bad link is refused before anything else
        async with self.bot.db.read() as session:
            existing = await session.videos.with_url(link.url)
        if existing is not None:
            raise already_in_catalog(existing)
        await offer_add_form(interaction, link, typed)

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
            new_url = _stored_link(url) if url is not None else current.url
            holder = await tx.videos.with_url(new_url) if new_url else None
            if holder is not None and holder.id != current.id:
                raise UserFacingError(
                    f"**{discord.utils.escape_markdown(holder.label)}** (slug `{holder.slug}`) "
                    "already has that link: nothing was changed."
                )
            await tx.videos.upsert(
                slug=current.slug,
                title=new_title,
                artist=new_artist,
                album=album.strip() if album is not None else current.album,
                year=year if year is not None else current.year,
                url=new_url,
            )
            if new_url != current.url:  # the old link's picture is not the new one's
                await tx.videos.set_thumbnail(current.id, None)
                if new_url:  # a suggestion of this link is answered: the video has it now
                    await tx.suggestions.approve(new_url, current.id, now())
            updated = await tx.videos.get(video.id)
        await replies.send(
            interaction,
            f"Updated **{discord.utils.escape_markdown(updated.label)}**.",
            ephemeral=True,
        )

    @app_commands.command(
        name="suggest", description="Suggest a video for the catalog by its YouTube or Vimeo link"
    )
    @app_commands.describe(
        url="The video's YouTube or Vimeo link",
        note="A short note for the catalog's editors (why it belongs, say)",
    )
    async def suggest(
        self, interaction: discord.Interaction, url: Link, note: Note | None = None
    ) -> None:
        server, member = guild_id(interaction), interaction.user.id
        link = parse_video_link(url)
        text = _text(note, "note") if note is not None else None
        async with self.bot.db.read() as session:
            existing = await session.videos.with_url(link.url)
            waiting = await session.suggestions.waiting_of_member(server, member)
        if existing is not None:
            raise UserFacingError(
                f"**{discord.utils.escape_markdown(existing.label)}** is already in the catalog: "
                "rate it with /rate."
            )
        if waiting >= MAX_WAITING_PER_MEMBER:
            raise UserFacingError(
                f"{MAX_WAITING_PER_MEMBER} of your suggestions are waiting for an editor "
                "already: suggest more once some are decided (see /video suggestions)."
            )
        self.bot.write_limits.check("suggestion", server, member)
        async with self.bot.db.transaction() as tx:
            suggestion, joined = await tx.suggestions.suggest(
                url=link.url, guild_id=server, user_id=member, note=text, now=now()
            )
        # In <…>: Discord shows the link without a preview of the whole video under it.
        shown = f"<{link.url}>"
        if not joined:
            said = f"You already suggested {shown}: it is waiting for an editor."
            if text:
                said += " The note you gave now was not kept."
        elif suggestion.suggesters > 1:
            said = (
                f"{shown} is already suggested: you are added to it "
                f"({count(suggestion.suggesters, 'members')} have suggested it now)."
            )
        else:
            said = f"Thanks: {shown} is suggested. The catalog's editors will look at it."
        await replies.send(
            interaction, f"{said} /video suggestions shows what becomes of it.", ephemeral=True
        )

    @app_commands.command(
        name="suggestions", description="The videos you suggested here, and what became of them"
    )
    async def suggestions(self, interaction: discord.Interaction) -> None:
        async with self.bot.db.read() as session:
            mine = await session.suggestions.of_member(
                guild_id(interaction), interaction.user.id, OWN_SHOWN
            )
        if not mine:
            raise UserFacingError(
                "You have not suggested a video in this server: /video suggest adds one."
            )
        await replies.send(interaction, embed=suggestion_views.own_embed(mine), ephemeral=True)

    @app_commands.command(name="queue", description="Suggested videos waiting for an editor")
    async def queue(self, interaction: discord.Interaction) -> None:
        page = await queue_page(interaction)
        if page is None:
            await replies.send(interaction, "No suggestion is waiting.", ephemeral=True)
            return
        embed, view = page
        await replies.send(interaction, embed=embed, view=view, ephemeral=True)

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
