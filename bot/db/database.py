"""The database: one writer connection behind a lock, a few readers, and units of work.

    async with db.transaction() as tx:      # BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error
        await tx.ratings.rate(...)
    async with db.read() as session:        # a consistent read-only snapshot
        page = await session.video_page(...)

SQLite allows one writer at a time. Every write goes through the single writer connection
inside an asyncio lock, so two commands can never interleave statements in one transaction
and commit each other's half-done work. Reads use separate connections, which WAL lets run
while a write is in progress.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from bot.db.daily import DailyQueries
from bot.db.members import MemberQueries
from bot.db.migrations import MIGRATIONS_DIR, migrate
from bot.db.models import VideoPage
from bot.db.quotes import QuoteQueries
from bot.db.ratings import RatingQueries
from bot.db.takes import TakeQueries
from bot.db.videos import VideoQueries

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000


class Session:
    """The repositories bound to one connection, inside one transaction or snapshot."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self.videos = VideoQueries(conn)
        self.ratings = RatingQueries(conn)
        self.quotes = QuoteQueries(conn)
        self.daily = DailyQueries(conn)
        self.takes = TakeQueries(conn)
        self.members = MemberQueries(conn)

    async def video_page(
        self, guild_id: int, video_id: int, user_id: int | None = None
    ) -> VideoPage:
        video = await self.videos.require(video_id)
        return VideoPage(
            video=video,
            credits=await self.videos.credits(video_id),
            reviews=await self.videos.reviews(video_id),
            score=await self.ratings.summary(guild_id, video_id),
            member_score=(
                await self.ratings.member_score(guild_id, video_id, user_id)
                if user_id is not None
                else None
            ),
            take_count=await self.takes.count(guild_id, video_id),
            top_take=await self.takes.most_agreed(guild_id, video_id),
        )


async def _connect(path: Path, *, read_only: bool) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a unit of work is explicit.
    conn = await aiosqlite.connect(path, isolation_level=None)
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA foreign_keys = ON")
    if read_only:
        await conn.execute("PRAGMA query_only = ON")
    else:
        await conn.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL keeps the database consistent on power loss and commits fast.
        await conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class Database:
    def __init__(
        self, path: Path | str, *, readers: int = 2, migrations: Path = MIGRATIONS_DIR
    ) -> None:
        self.path = Path(path)
        self.reader_count = readers
        self.migrations = migrations
        self._writer: aiosqlite.Connection | None = None
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []
        self._write_lock = asyncio.Lock()
        # The schema version found before migrating; 0 means the file was new.
        self.started_at_version: int | None = None

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await _connect(self.path, read_only=False)
        try:
            self.started_at_version = await migrate(self._writer, self.migrations)
            for _ in range(self.reader_count):
                reader = await _connect(self.path, read_only=True)
                self._all_readers.append(reader)
                self._readers.put_nowait(reader)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        for reader in self._all_readers:
            await reader.close()
        self._all_readers.clear()
        self._readers = asyncio.Queue()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await writer.close()

    @property
    def is_new(self) -> bool:
        return self.started_at_version == 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """One unit of work: committed whole when the block ends, rolled back on any error."""
        if self._writer is None:
            raise RuntimeError("database is not open")
        async with self._write_lock:
            conn = self._writer
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield Session(conn)
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            else:
                await conn.execute("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Session]:
        """A read-only snapshot: every query inside sees the same committed state."""
        if not self._all_readers:
            raise RuntimeError("database is not open")
        conn = await self._readers.get()
        try:
            await conn.execute("BEGIN")
            try:
                yield Session(conn)
            finally:
                await conn.execute("COMMIT")
        finally:
            self._readers.put_nowait(conn)
