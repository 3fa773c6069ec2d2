"""The TakeTwo bot: a sharded commands.Bot with the database and settings it runs on."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

import discord
from discord.ext import commands

from bot.db import Database
from bot.db.models import ShardSlice
from bot.lookups import Lookups
from bot.settings import Settings
from bot.sharding import IdentifyTurns, shard_of, shards_phrase, start_budget_wait
from bot.startup import new_database, prepare_database
from bot.ui import forms, replies
from bot.ui.components import VIDEO_BUTTONS
from bot.ui.cooldowns import WriteLimits
from bot.ui.errors import TakeTwoTree
from bot.ui.video_option import RecentVideos

log = logging.getLogger(__name__)

# On shutdown, interactions in flight get this long to finish; writes that have not
# committed by then are refused, and their members get this long to hear so.
SHUTDOWN_GRACE = 8.0
REFUSAL_GRACE = 2.0

EXTENSIONS = (
    "cogs.review",
    "cogs.credits",
    "cogs.quotes",
    "cogs.ratings",
    "cogs.daily",
    "cogs.takes",
    "cogs.privacy",
    "cogs.profiles",
    "cogs.people",
    "cogs.catalog",
    "cogs.help",
)


def intents() -> discord.Intents:
    # Only non-privileged intents: slash commands need no message content or member list.
    chosen = discord.Intents.none()
    chosen.guilds = True
    return chosen


# TakeTwo never joins voice: skip discord.py's start-up warnings about missing voice libraries.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


def command_shape(data: Mapping[str, Any]) -> str:
    """What members see of a command (names, descriptions, options and their bounds), as
    one comparable string: what this code defines against what Discord has published."""
    option_keys = (
        "type", "name", "description", "required", "choices", "min_value", "max_value",
        "min_length", "max_length", "autocomplete", "channel_types",
    )  # fmt: skip

    def options(items: list[dict[str, Any]] | None) -> list[Any]:
        shaped = []
        for item in items or []:
            entry = {k: item.get(k) for k in option_keys}
            entry["required"] = bool(entry["required"])
            entry["autocomplete"] = bool(entry["autocomplete"])
            entry["options"] = options(item.get("options"))
            shaped.append(entry)
        return shaped

    return json.dumps(
        {
            "name": data.get("name"),
            "type": data.get("type", 1),
            "description": data.get("description") or "",
            "options": options(data.get("options")),
        },
        sort_keys=True,
    )


class TakeTwoBot(commands.AutoShardedBot):
    db: Database
    settings: Settings
    write_limits: WriteLimits
    recent_videos: RecentVideos
    lookups: Lookups

    def __init__(
        self,
        settings: Settings,
        *,
        sync_dev_guild: bool = True,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        super().__init__(
            # How long discord.py waits for the servers' GUILD_CREATE events after READY
            # before on_ready; tests against the local stand-in, which sends them at once,
            # make it short.
            guild_ready_timeout=guild_ready_timeout,
            command_prefix=commands.when_mentioned,
            intents=intents(),
            help_command=None,
            tree_cls=TakeTwoTree,
            # Nothing the bot sends may ping anyone unless a reply asks for it explicitly.
            allowed_mentions=discord.AllowedMentions.none(),
            # None: as many as Discord recommends, asked at start (launch_shards).
            shard_count=settings.shard_count,
        )
        # Set here because discord.py's keyword takes only a list; None runs every shard.
        self.shard_ids = None if settings.shard_ids is None else list(settings.shard_ids)
        self.settings = settings
        self.db: Database = new_database(settings)
        # Replaced at start by one that knows Discord's max_concurrency.
        self.identify_turns = IdentifyTurns(1, self.db.identify_turn)
        self.write_limits = WriteLimits()
        self.recent_videos = RecentVideos()
        # The one set of outbound lookups (its cache and each service's pace), used by
        # /video add url: alone; nothing asks a service before its first use.
        self.lookups = Lookups.from_settings(settings)
        self.sync_dev_guild = sync_dev_guild
        self.in_flight = replies.InFlight()
        self._button_kinds: set[type[discord.ui.DynamicItem[Any]]] = set()
        # False once shutdown begins: new interactions are told to try again shortly.
        self.accepting_interactions = True

    async def prepare(self) -> None:
        """Open the database and load every extension. Needs no connection to Discord."""
        if not isinstance(self.loop, asyncio.AbstractEventLoop):
            # Not logging in (a test drives the bot directly): set up the loop-bound state
            # that login would, as `async with bot` does; the sharded close() needs it.
            await self.__aenter__()
        if not self.db.is_open:  # `python -m bot` opens it before contacting Discord
            await prepare_database(self.db, load_sample_catalog=self.settings.load_sample_catalog)
        # The Rate, Credits and Quote buttons sit under /review replies and daily posts
        # alike: the bot registers them, so a message posted before a restart answers again.
        self.add_dynamic_items(*VIDEO_BUTTONS)
        for extension in EXTENSIONS:
            await self.load_extension(extension)

    async def setup_hook(self) -> None:
        await self.prepare()

        guild_id = self.settings.dev_guild_id
        if guild_id is not None and self.sync_dev_guild:
            # Guild commands update instantly; global ones are synced only by `python -m bot sync`.
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to development server %s", len(synced), guild_id)

    @property
    def shard_slice(self) -> ShardSlice | None:
        """The shards whose servers this process owns (their daily posts too); None when it
        runs every shard there is."""
        ids, count = self.settings.shard_ids, self.settings.shard_count
        return None if ids is None or count is None else ShardSlice(frozenset(ids), count)

    def server_shard(self, guild_id: int | None) -> str | None:
        """Which shard a server is on, for /help; None while the bot runs unsharded."""
        count = self.shard_count
        if guild_id is None or count is None or count <= 1:
            return None
        return f"This server is on shard {shard_of(guild_id, count)} of {count}."

    async def launch_shards(self) -> None:
        """Settle the shards before any connects: SHARD_COUNT or Discord's recommendation,
        and, while today's session start budget cannot cover them, wait for its reset with
        one line in the log (StartRefused when no day's budget could)."""
        while True:
            if self.is_closed():
                return
            recommended, _, limit = await self.http.get_bot_gateway()
            count = self.shard_count or recommended
            wait = start_budget_wait(limit, self.shard_ids or range(count), count)
            if wait is None:
                break
            # One line per wait: the budget resets once a day. A supervisor sees the process
            # running, so it does not restart it every few seconds to be refused again.
            log.warning("%s", wait.sentence)
            await asyncio.sleep(wait.seconds)
        self.shard_count = count
        self.identify_turns = IdentifyTurns(limit["max_concurrency"], self.db.identify_turn)
        # With the count known, discord.py connects each shard to DISCORD_GATEWAY_URL (its
        # default is Discord's) and asks /gateway/bot nothing more.
        await super().launch_shards()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # Every IDENTIFY waits for its max_concurrency bucket's turn, among this process's
        # shards and every other process's on the database (bot/sharding.py says why
        # discord.py's own 5-second pause is replaced).
        await self.identify_turns.wait_turn(shard_id)

    def catalog_owner_ids(self) -> set[int]:
        """The Discord application's owners (its team, if it has one) and OWNER_IDS."""
        owners = set(self.settings.owner_ids)
        app = self.application
        if app is not None:
            if app.team is not None:
                owners |= {member.id for member in app.team.members}
            elif app.owner is not None:
                owners.add(app.owner.id)
        return owners

    def add_dynamic_items(self, *items: type[discord.ui.DynamicItem[Any]]) -> None:
        super().add_dynamic_items(*items)
        self._button_kinds.update(items)

    def remove_dynamic_items(self, *items: type[discord.ui.DynamicItem[Any]]) -> None:
        super().remove_dynamic_items(*items)
        self._button_kinds.difference_update(items)

    def answers_component(self, custom_id: str) -> bool:
        """Whether a button or select with this custom_id has code that will answer it:
        every component TakeTwo sends is a DynamicItem, registered above."""
        return any(
            kind.__discord_ui_compiled_template__.fullmatch(custom_id)
            for kind in self._button_kinds
        )

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        replies.watch(interaction, self.in_flight)
        await forms.answer(interaction)
        if interaction.type is discord.InteractionType.component:
            data: Mapping[str, object] = interaction.data or {}
            custom_id = str(data.get("custom_id", ""))
            if not self.answers_component(custom_id):
                # discord.py would drop it, and the watchdog's "thinking…" would never end.
                await replies.send(
                    interaction,
                    "This button has expired: run the command again. Nothing was saved.",
                    ephemeral=True,
                )

    async def on_ready(self) -> None:
        servers = len(self.guilds)
        count = self.shard_count or 1
        log.info(
            "TakeTwo is up as %s in %d %s on %s; %s",
            self.user,
            servers,
            "server" if servers == 1 else "servers",
            shards_phrase(self.shard_ids or range(count), count),
            await self.commands_status(),
        )

    async def commands_status(self) -> str:
        """Whether Discord shows the commands this code defines: one request at start."""
        if self.settings.dev_guild_id is not None and self.sync_dev_guild:
            return f"commands synced to development server {self.settings.dev_guild_id}"
        defined = [
            *self.tree.get_commands(),
            *self.tree.get_commands(type=discord.AppCommandType.message),
        ]
        local = [command_shape(c.to_dict(self.tree)) for c in defined]
        try:
            fetched = await self.tree.fetch_commands()
        except discord.HTTPException as exc:
            return f"could not check the published commands ({exc.status})"
        published = [command_shape(c.to_dict()) for c in fetched]
        if sorted(published) == sorted(local):
            return "global commands are published and up to date"
        return (
            "the global commands differ from this version's: run `python -m bot sync` once "
            "to publish them (Discord shows them within minutes)"
        )

    async def close(self) -> None:
        """Stop in an order that leaves no member unanswered: refuse new interactions, let
        the ones in flight finish, refuse commits to writes still waiting (their members
        are told nothing was saved), and only then close the gateway, the cogs and the
        database."""
        try:
            if self.accepting_interactions and not self.is_closed():
                self.accepting_interactions = False
                left = await self.in_flight.drain(SHUTDOWN_GRACE)
                if left:
                    self.db.refuse_writes("TakeTwo is restarting")
                    left = await self.in_flight.drain(REFUSAL_GRACE)
                if left:
                    log.warning("closing with %d interactions still unanswered", left)
            await super().close()
            await self.identify_turns.release_all()  # before the database closes
            # Cogs after the gateway: no interaction can reach an unloaded command. Their
            # background work (the daily scheduler) stops before the database closes.
            for extension in list(self.extensions):
                await self.unload_extension(extension)
        finally:
            await self.lookups.close()
            await self.db.close()
