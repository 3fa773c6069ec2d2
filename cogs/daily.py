"""/daily set, status, preview, skip and off: one quote posted every day at a local time."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import TakeTwoBot
from bot.daily import (
    LOW_QUOTES_WARNING,
    ChannelUnavailable,
    DailyScheduler,
    upcoming,
    zone_names,
)
from bot.db import Database
from bot.db.models import Quote
from bot.db.text import fold
from bot.errors import NotFoundError, UserFacingError
from bot.ui import embeds, replies
from bot.ui.components import video_buttons
from bot.ui.context import guild_id
from bot.ui.limits import CHOICES, fit_embed
from bot.wording import count

# The day's post follows its claim within its lease (a minute), and `since` is the claim
# less a margin for clock drift (five minutes): the post, if it was sent, is among the
# messages of this window after `since`. A busy channel fills pages quickly, so up to 10
# pages (10 requests) are read, stopping at the window's end.
HISTORY_LIMIT = 1000
HISTORY_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class QuotedVideo:
    """What the daily post shows of the video its quote is about, beside the quote."""

    watch_url: str | None = None
    thumbnail_url: str | None = None


async def quoted_video(db: Database, quote: Quote) -> QuotedVideo:
    """The quoted video's link and thumbnail, when the quote names a video that has them."""
    if quote.video_id is None:
        return QuotedVideo()
    try:
        async with db.lookup() as session:
            page = await session.videos.page(quote.guild_id, quote.video_id)
    except NotFoundError:  # removed from the catalog since the quote was chosen
        return QuotedVideo()
    return QuotedVideo(page.video.url, page.thumbnail_url)


def daily_post_embed(
    quote: Quote, local_date: str, video: QuotedVideo | None = None
) -> discord.Embed:
    """The daily post. Its footer ends with the local date it was posted for: together with
    the bot as author, that is how the day's post is recognised in the channel long after
    Discord has forgotten the send's nonce (Discord keeps an embed exactly as sent, and the
    date tells readers which day's quote this is)."""
    embed = embeds.daily_embed(quote)
    embed.set_footer(text=f"{embed.footer.text}{_date_mark(local_date)}")
    if video is not None and video.thumbnail_url:
        embed.set_thumbnail(url=video.thumbnail_url)
    return fit_embed(embed)


def daily_post_view(quote: Quote, video: QuotedVideo) -> dict[str, Any]:
    """The buttons under the post (Rate, Credits, Quote and Watch), as send()'s keyword."""
    if quote.video_id is None:
        return {}
    return {"view": video_buttons(quote.video_id, video.watch_url)}


def _date_mark(local_date: str) -> str:
    return f" · {local_date}"


def is_post_of_day(message: discord.Message, bot_id: int, local_date: str, nonce: str) -> bool:
    if message.author.id != bot_id:
        return False
    # Discord returns a nonce only while it still remembers it; when there, it must be ours.
    if message.nonce is not None and str(message.nonce) != nonce:
        return False
    mark = _date_mark(local_date)
    return any((embed.footer.text or "").endswith(mark) for embed in message.embeds)


class ChannelSender:
    """Sends a daily post through Discord; a lost channel or permission pauses the schedule."""

    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        """Raises discord.NotFound for a deleted channel."""
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            channel = await self.bot.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise ChannelUnavailable("That channel cannot hold messages: pick a text channel.")
        return channel

    async def send(
        self, *, guild_id: int, channel_id: int, local_date: str, quote: Quote, nonce: str
    ) -> int:
        try:
            channel = await self._channel(channel_id)
            video = await quoted_video(self.bot.db, quote)
            message = await channel.send(
                embed=daily_post_embed(quote, local_date, video),
                nonce=nonce,
                allowed_mentions=discord.AllowedMentions.none(),
                **daily_post_view(quote, video),
            )
        except discord.NotFound:
            raise ChannelUnavailable(
                "The channel was deleted: pick another one with /daily set."
            ) from None
        except discord.Forbidden:
            raise ChannelUnavailable(
                f"I may not post in <#{channel_id}>: give me View Channel, Send Messages and "
                "Embed Links there, then run /daily set again."
            ) from None
        return message.id

    async def find_post(
        self, *, guild_id: int, channel_id: int, local_date: str, nonce: str, since: datetime
    ) -> int | None:
        assert self.bot.user is not None, "posts are looked for once the bot is logged in"
        after = max(since, discord.utils.snowflake_time(0))
        try:
            channel = await self._channel(channel_id)
            async for message in channel.history(limit=HISTORY_LIMIT, after=after):
                if message.created_at > after + HISTORY_WINDOW:
                    break  # oldest first: nothing later can be the post
                if is_post_of_day(message, self.bot.user.id, local_date, nonce):
                    return message.id
        except discord.NotFound:
            return None  # the channel is gone, and any post with it
        except discord.Forbidden:
            raise ChannelUnavailable(
                f"I may not read <#{channel_id}> to check whether today's quote is already "
                "there: give me View Channel and Read Message History, then run /daily set "
                "again."
            ) from None
        return None


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Daily(commands.GroupCog, group_name="daily", group_description="A quote posted every day"):
    def __init__(self, bot: TakeTwoBot) -> None:
        self.bot = bot
        self.scheduler = DailyScheduler(bot.db, ChannelSender(bot), shards=bot.shard_slice)
        self._task: asyncio.Task[None] | None = None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # Default permissions hide the commands; a server can widen them in its settings,
        # but schedules stay a Manage Server decision.
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    async def cog_load(self) -> None:
        if self.bot.is_ready():  # reloaded while running
            self._start()

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.scheduler.run_forever())

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # Channels are known from here on; READY again after a reconnect changes nothing.
        self._start()

    async def cog_unload(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        async with self.bot.db.transaction() as tx:
            await tx.daily.delete_schedule(guild.id)

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        async with self.bot.db.transaction() as tx:
            await tx.daily.delete_schedules_in_channel(channel.id)

    async def _timezone_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        wanted = fold(current).replace(" ", "_")
        names = [n for n in zone_names() if wanted in fold(n).replace(" ", "_")]
        names.sort(key=lambda n: (not fold(n).replace(" ", "_").startswith(wanted), n))
        return [app_commands.Choice(name=n, value=n) for n in names[:CHOICES]]

    @app_commands.command(
        name="set", description="Post a quote every day in a channel at a local time"
    )
    @app_commands.describe(
        channel="Where the quote goes",
        time="Local time, HH:MM (24-hour), like 09:00",
        timezone="Your time zone, like Europe/London",
    )
    async def set_(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        time: app_commands.Range[str, 3, 8],
        timezone: app_commands.Range[str, 1, 64],
    ) -> None:
        first = await self.scheduler.configure(
            guild_id=guild_id(interaction),
            channel_id=channel.id,
            post_time=time,
            timezone=timezone,
            user_id=interaction.user.id,
        )
        async with self.bot.db.read() as session:
            schedule = await session.daily.schedule(guild_id(interaction))
        assert schedule is not None
        when = int(first.timestamp())
        await replies.send(
            interaction,
            f"Every day at {schedule.post_time} ({schedule.timezone}) I will post a quote in "
            f"{channel.mention}. The first one comes <t:{when}:R>, on <t:{when}:F>.",
            ephemeral=True,
        )

    @set_.autocomplete("timezone")
    async def _set_timezone(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._timezone_choices(interaction, current)

    @app_commands.command(
        name="status", description="When the next daily quotes come, and the last one"
    )
    async def status(self, interaction: discord.Interaction) -> None:
        server = guild_id(interaction)
        async with self.bot.db.read() as session:
            schedule = await session.daily.schedule(server)
            if schedule is None:
                raise UserFacingError("No daily quote is set up here: start one with /daily set.")
            left = await session.daily.unposted_count(server)
            last = await session.daily.last_sent(server)
        lines = [
            ("Channel", f"<#{schedule.channel_id}>"),
            ("Time", f"{schedule.post_time} every day, {schedule.timezone} time"),
        ]
        if schedule.paused_reason:
            lines.append(("Paused", schedule.paused_reason))
        else:
            nexts = "\n".join(f"<t:{int(t.timestamp())}:F>" for t in upcoming(schedule, 3))
            lines.append(("Next posts", nexts))
        lines.append(("Quotes not posted yet in this cycle", str(left)))
        if last is not None and last.message_id is not None:
            link = f"https://discord.com/channels/{server}/{last.channel_id}/{last.message_id}"
            lines.append(("Last post", f"{last.local_date}: [jump to it]({link})"))
        if schedule.last_error and not schedule.paused_reason:
            lines.append(("Last problem", schedule.last_error))
        warning = None
        if left < LOW_QUOTES_WARNING:
            warning = (
                f"Only {count(left, 'quotes')} left before quotes start repeating: "
                "add more with /quote add or Save as quote."
            )
        await replies.send(
            interaction,
            embed=embeds.daily_status_embed(lines, warning),
            ephemeral=True,
        )

    @app_commands.command(name="preview", description="See the next daily quote privately")
    async def preview(self, interaction: discord.Interaction) -> None:
        server = guild_id(interaction)
        quote = await self.scheduler.preview(server)
        async with self.bot.db.read() as session:
            schedule = await session.daily.schedule(server)
        if schedule is None:
            raise UserFacingError("No daily quote is set up here: start one with /daily set.")
        if quote is None:
            raise UserFacingError("There are no quotes to post yet: add some with /quote add.")
        when = int(upcoming(schedule, 1)[0].timestamp())
        video = await quoted_video(self.bot.db, quote)
        await replies.send(
            interaction,
            f"This is what <#{schedule.channel_id}> gets <t:{when}:R>:",
            embed=daily_post_embed(quote, schedule.next_local_date, video),
            ephemeral=True,
        )

    @app_commands.command(name="skip", description="Skip the next daily quote")
    async def skip(self, interaction: discord.Interaction) -> None:
        server = guild_id(interaction)
        skipped = await self.scheduler.skip(server)
        if skipped is None:
            raise UserFacingError("No daily quote is set up here: start one with /daily set.")
        self.scheduler.wake()
        await replies.send(
            interaction,
            f"Skipped the post of {skipped[0]}. The next one comes <t:{skipped[1]}:F>.",
            ephemeral=True,
        )

    @app_commands.command(name="off", description="Stop the daily quote")
    async def off(self, interaction: discord.Interaction) -> None:
        async with self.bot.db.transaction() as tx:
            removed = await tx.daily.delete_schedule(guild_id(interaction))
        if not removed:
            raise UserFacingError("No daily quote is set up here, so there is nothing to stop.")
        self.scheduler.wake()
        await replies.send(
            interaction,
            "Daily quotes are off. Start them again any time with /daily set.",
            ephemeral=True,
        )


async def setup(bot: TakeTwoBot) -> None:
    await bot.add_cog(Daily(bot))
