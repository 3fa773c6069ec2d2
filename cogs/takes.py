"""/take, /takes and /take-remove: members' own reviews of a video, agrees, and moderation.

A take is a 1..10 score and up to 1000 characters, one per member per video per server;
running /take again edits it, and its score is also the member's rating.
"""

from __future__ import annotations

import functools
import re
import time
from typing import Any, Literal

import discord
from discord import app_commands, ui
from discord.ext import commands

from bot.client import TakeTwoBot
from bot.clock import now
from bot.db.models import Take, TakesPage, Video
from bot.errors import NotFoundError, UserFacingError
from bot.ui import embeds, replies
from bot.ui.context import client, guild_id
from bot.ui.errors import reports_errors
from bot.ui.forms import Form, open_form
from bot.ui.limits import clip
from bot.ui.validation import parse_whole
from bot.ui.video_option import VideoOption
from bot.wording import count

PAGE_SIZE = 5
# Pages can be turned for this long; after that the buttons say the list has expired.
PAGES_LIVE_FOR = 10 * 60
MAX_TAKE = 1000
SORT_CODES = {"newest": "n", "highest": "h"}
SORT_NAMES = {code: name for name, code in SORT_CODES.items()}


class TakeModal(Form):
    kind = "take"
    command = "/take"

    def __init__(self, video: Video, existing: Take | None) -> None:
        super().__init__(title=clip(f"Your take: {video.title}", 45), key=video.id)
        self.video = video
        self.score: ui.TextInput[TakeModal] = ui.TextInput(
            label="Score from 1 to 10",
            custom_id="score",
            max_length=2,
            min_length=1,
            placeholder="8",
            default=str(existing.score) if existing else None,
        )
        self.text: ui.TextInput[TakeModal] = ui.TextInput(
            label="Your take",
            custom_id="text",
            style=discord.TextStyle.paragraph,
            max_length=MAX_TAKE,
            min_length=1,
            default=existing.text if existing else None,
            placeholder="What works, what doesn't, what stayed with you",
        )
        self.add_item(self.score)
        self.add_item(self.text)

    @classmethod
    async def rebuild(cls, interaction: discord.Interaction, key: int) -> TakeModal | None:
        try:
            async with client(interaction).db.lookup() as session:
                return cls(await session.videos.get(key), None)
        except NotFoundError:
            return None

    async def submit(self, interaction: discord.Interaction, values: dict[str, str]) -> None:
        score = parse_whole(values["score"], 1, 10)
        if score is None:
            raise UserFacingError(
                f"“{values['score'][:10]}” is not a score: use a whole number from 1 to 10."
            )
        server = guild_id(interaction)
        bot = client(interaction)
        bot.write_limits.check("take", server, interaction.user.id)
        take = await bot.db.save_take(
            guild_id=server,
            video_id=self.video.id,
            user_id=interaction.user.id,
            score=score,
            text=values["text"],
            now=now(),
        )
        await replies.send(
            interaction,
            f"Saved your take #{take.id} on **{discord.utils.escape_markdown(self.video.title)}**"
            f" ({take.score}/10). Its score also counts as your rating.",
            ephemeral=True,
        )


class AgreeButton(ui.DynamicItem[ui.Button[Any]], template=r"taketwo:agree:(?P<take>[0-9]{1,18})"):
    def __init__(self, take_id: int) -> None:
        super().__init__(
            ui.Button(
                label=f"Agree #{take_id}",
                style=discord.ButtonStyle.success,
                custom_id=f"taketwo:agree:{take_id}",
            )
        )
        self.take_id = take_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> AgreeButton:
        return cls(int(match["take"]))

    @reports_errors
    async def callback(self, interaction: discord.Interaction) -> None:
        server = guild_id(interaction)
        bot = client(interaction)
        async with bot.db.transaction() as tx:
            take = await tx.takes.get(self.take_id)
            if take is None or take.guild_id != server:
                raise UserFacingError(f"Take #{self.take_id} was removed.")
            bot.write_limits.check("agree", server, interaction.user.id)
            added = await tx.takes.agree(take, interaction.user.id)
            agreed_take = await tx.takes.get(take.id)
            assert agreed_take is not None  # this transaction read it above and removes none
            agreed = agreed_take.agree_count
        if not added:
            message = f"You already agree with take #{take.id}."
        elif agreed == 1:
            message = f"You agree with take #{take.id}; so far only you do."
        else:
            message = (
                f"You agree with take #{take.id}, as {count(agreed - 1, 'members')} did before you."
            )
        await replies.send(interaction, message, ephemeral=True)


class PageButton(
    ui.DynamicItem[ui.Button[Any]],
    template=r"taketwo:page:(?P<video>[0-9]{1,18}):(?P<sort>[nh]):(?P<page>[0-9]{1,6}):"
    r"(?P<owner>[0-9]{1,20}):(?P<until>[0-9]{1,12})",
):
    """Turns a /takes list: only for the member who asked, and only while the list is live."""

    def __init__(
        self,
        *,
        video_id: int,
        sort: str,
        page: int,
        owner: int,
        until: int,
        label: str,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=f"taketwo:page:{video_id}:{SORT_CODES[sort]}:{page}:{owner}:{until}",
            )
        )
        self.video_id, self.sort, self.page, self.owner, self.until = (
            video_id,
            sort,
            page,
            owner,
            until,
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        return cls(
            video_id=int(match["video"]),
            sort=SORT_NAMES[match["sort"]],
            page=int(match["page"]),
            owner=int(match["owner"]),
            until=int(match["until"]),
            label="page",
        )

    @reports_errors
    async def callback(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.owner:
            raise UserFacingError(
                "Only the member who ran /takes can turn these pages: "
                "run /takes yourself to browse."
            )
        if time.time() > self.until:
            raise UserFacingError("These pages have expired: run /takes again.")
        server = guild_id(interaction)
        async with client(interaction).db.read() as session:
            video = await session.videos.get(self.video_id)
            page = await session.takes.page(
                server, video.id, sort=self.sort, page=self.page, page_size=PAGE_SIZE
            )
        embed, view = takes_message(video, page, self.sort, self.owner, self.until)
        await replies.edit(interaction, embed=embed, view=view)


def takes_message(
    video: Video, page: TakesPage, sort: str, owner: int, until: int
) -> tuple[discord.Embed, ui.View]:
    view = ui.View(timeout=None)
    for take in page.takes:
        view.add_item(AgreeButton(take.id))
    turn = functools.partial(PageButton, video_id=video.id, sort=sort, owner=owner, until=until)
    view.add_item(turn(page=max(page.page - 1, 0), label="◀ Previous", disabled=page.page == 0))
    view.add_item(turn(page=page.page + 1, label="Next ▶", disabled=page.page + 1 >= page.pages))
    return embeds.takes_embed(video, page, sort), view


class Takes(commands.Cog):
    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(AgreeButton, PageButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(AgreeButton, PageButton)

    @app_commands.command(
        name="take",
        description="Write (or edit) your own take on a video",
        extras={"reply": "form"},
    )
    @app_commands.describe(video="Start typing a title or an artist")
    @app_commands.guild_only()
    async def take(self, interaction: discord.Interaction, video: VideoOption) -> None:
        # A form cannot follow a deferral: an index lookup on the loop's connection, never a
        # wait in the readers' queue.
        async with self.bot.db.lookup() as session:
            existing = await session.takes.of_member(
                guild_id(interaction), video.id, interaction.user.id
            )
        await open_form(interaction, TakeModal(video, existing))

    @app_commands.command(
        name="takes", description="Read this server's takes on a video", extras={"reply": "public"}
    )
    @app_commands.describe(video="Start typing a title or an artist", sort="Which come first")
    @app_commands.guild_only()
    async def takes(
        self,
        interaction: discord.Interaction,
        video: VideoOption,
        sort: Literal["newest", "highest"] = "newest",
    ) -> None:
        async with self.bot.db.read() as session:
            page = await session.takes.page(
                guild_id(interaction), video.id, sort=sort, page=0, page_size=PAGE_SIZE
            )
        until = int(time.time()) + PAGES_LIVE_FOR
        embed, view = takes_message(video, page, sort, interaction.user.id, until)
        await replies.send(interaction, embed=embed, view=view)

    @app_commands.command(name="take-remove", description="Remove your take (moderators: any take)")
    @app_commands.describe(id="The take's number, shown in /takes", reason="Why (moderators)")
    @app_commands.guild_only()
    async def take_remove(
        self,
        interaction: discord.Interaction,
        id: app_commands.Range[int, 1, 2**53 - 1],
        reason: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        server = guild_id(interaction)
        async with self.bot.db.transaction() as tx:
            take = await tx.takes.in_guild(server, id)
            own = take.user_id == interaction.user.id
            if not own and not interaction.permissions.manage_messages:
                raise UserFacingError(
                    f"Take #{id} is someone else's: only they or members with "
                    "Manage Messages can remove it."
                )
            await tx.takes.remove(take.id)
            await tx.members.log_removal(
                guild_id=server,
                kind="take",
                item_id=take.id,
                author_id=take.user_id,
                removed_by=interaction.user.id,
                reason=reason,
                now=now(),
            )
        await replies.send(
            interaction,
            f"Removed take #{id}." + ("" if own else " The removal is logged with its reason."),
            ephemeral=True,
        )


async def setup(bot: TakeTwoBot) -> None:
    await bot.add_cog(Takes(bot))
