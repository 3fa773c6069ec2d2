"""Runs the real bot, through its ordinary startup path, against the local Discord stand-in."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.client import TakeTwoBot
from bot.db import Database
from bot.db.sqlite.database import SQLiteDatabase
from bot.settings import Settings
from bot.standin.member import Member
from bot.standin.server import Guild, StandIn
from bot.startup import use_endpoints
from tests.stores import Store
from tests.templates import sample_database

MANAGE_MESSAGES = 1 << 13


class World:
    def __init__(self, store: Store | Path) -> None:
        """`store` holds the bot's database (on either engine), as its first start left it.
        Given a folder instead (as tests/test_sharding_e2e.py and test_migrate_to_postgres.py
        do), the bot uses the SQLite file `e2e.sqlite3` there, which start() fills."""
        self._copy_sample = isinstance(store, Path)
        if isinstance(store, Path):
            store = Store(store / "e2e.sqlite3")
        # A restarted bot identifies again at once: Discord's five seconds between identifies
        # would only make every restart here wait (tests/test_standin_shards.py checks them).
        self.standin = StandIn(identify_interval=0)
        self.store = store
        self.guild: Guild
        self.bot: TakeTwoBot | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._copy_sample:
            await sample_database(self.store.path)
        await self.standin.start()
        self.guild = self.standin.add_guild("Video Club")
        await self.start_bot()

    def settings(self) -> Settings:
        return self.store.settings(
            token=self.standin.token,
            dev_guild_id=self.guild.id,
            api_base=self.standin.api_base,
            gateway_url=self.standin.gateway_url,
        )

    async def start_bot(self) -> TakeTwoBot:
        # The stand-in sends every GUILD_CREATE right after READY: no need to wait 2 s.
        use_endpoints(self.settings())  # as startup does: discord.py's endpoints are global
        bot = TakeTwoBot(self.settings(), guild_ready_timeout=0.05)
        self.bot = bot
        self._task = asyncio.create_task(bot.start(self.standin.token))
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=20, return_when=asyncio.FIRST_COMPLETED
        )
        if self._task in done:
            ready.cancel()
            self._task.result()
        assert ready in done, "the bot did not become ready"
        return bot

    async def stop_bot(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        if self._task is not None:
            await self._task
        self.bot = None
        self._task = None

    async def restart_bot(self) -> TakeTwoBot:
        await self.stop_bot()
        await self.standin.disconnect_bot()
        return await self.start_bot()

    async def close(self) -> None:
        await self.stop_bot()
        await self.standin.close()

    def member(self, name: str, *, permissions: int = 0) -> Member:
        return Member(self.standin, self.guild, name=name, permissions=permissions)

    @property
    def running_bot(self) -> TakeTwoBot:
        assert self.bot is not None, "the bot is not running"
        return self.bot

    @property
    def database_path(self) -> Path:
        return self.store.path

    @property
    def db(self) -> Database:
        """The running bot's database (tests/raw.py reads it straight from its engine)."""
        return self.running_bot.db

    @property
    def sqlite_db(self) -> SQLiteDatabase:
        """The running bot's database, for a test of what only SQLite has."""
        db = self.running_bot.db
        assert isinstance(db, SQLiteDatabase), "this test runs on SQLite alone"
        return db

    def assert_discord_was_happy(self) -> None:
        assert self.standin.invalid == [], self.standin.invalid
        assert self.standin.late == [], "an interaction was answered after 3 seconds"
        assert self.standin.unknown_routes == [], self.standin.unknown_routes
