"""The SQLite database: the embedded default implementation of `bot.db.interface.Database`.

Its pieces, each in a module of its own:
- connections.py: the connections and their pragmas. One writer, a few readers on
  aiosqlite's threads, and one read-only connection used on the event loop's own thread for
  lookups (a few index probes cost far less than a round trip to a thread), but for
  profiles, which go in batches to a reader of their own;
- writer.py: the writer's lock and units of work (`transaction()`);
- bot/db/group_commit.py: ratings and takes, batched into shared commits (`rate`,
  `save_take`), with `_write_batch` below writing a batch;
- checkpoints.py: copying the write-ahead log back into the file, off the writer's path;
- sessions.py: which queries each kind of connection offers.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from bot.db.failures import FailureLog, ReferenceGone, damaged
from bot.db.group_commit import (
    GroupCommit,
    RatingRow,
    Saved,
    TakeRow,
    check_score,
    take_text,
)
from bot.db.models import ScoreSummary, Take
from bot.db.sqlite.checkpoints import Checkpointer
from bot.db.sqlite.connections import (
    LoopConnection,
    ThreadConnection,
    connect_on_loop,
    connect_on_thread,
)
from bot.db.sqlite.failures import Storage, storage_failure, unusable
from bot.db.sqlite.migrations import MIGRATIONS_DIR, migrate
from bot.db.sqlite.ratings import rating_writes, summaries_query, summaries_read
from bot.db.sqlite.sessions import SQLiteLookupSession, SQLiteReadSession, SQLiteWriteSession
from bot.db.sqlite.setup import CATALOG_DECISION_VERSION
from bot.db.sqlite.takes import saved_takes_query, saved_takes_read, take_writes
from bot.db.sqlite.writer import Writer


class SQLiteDatabase:
    def __init__(
        self, path: Path | str, *, readers: int = 4, migrations: Path = MIGRATIONS_DIR
    ) -> None:
        self.path = Path(path)
        self.reader_count = readers
        self.migrations = migrations
        self._failures = FailureLog()
        self._writer: Writer | None = None
        self._checkpointer: Checkpointer | None = None
        self._loop_conn: LoopConnection | None = None
        self._profiles_conn: ThreadConnection | None = None
        self._lookup: SQLiteLookupSession | None = None
        self._reader_conns: list[ThreadConnection] = []
        self._readers: asyncio.Queue[SQLiteReadSession] = asyncio.Queue()
        self._group_commit: GroupCommit | None = None
        # The schema version found before migrating; 0 means the file was new.
        self.started_at_version: int | None = None

    async def open(self) -> None:
        """Open every connection and migrate. A file that cannot be used (damaged, not a
        database, not writable) raises DatabaseUnusable, with every connection closed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            writer = await connect_on_thread(self.path, read_only=False)
            self._writer = Writer(writer, self._failures, self._committed)
            self._group_commit = GroupCommit(
                self._write_batch, video_removed=lambda error: isinstance(error, ReferenceGone)
            )
            self.started_at_version = await migrate(writer.raw, self.migrations)
            await _check_writable(writer)
            for _ in range(self.reader_count):
                reader = await connect_on_thread(self.path, read_only=True)
                self._reader_conns.append(reader)
                self._readers.put_nowait(SQLiteReadSession(reader))
            self._loop_conn = connect_on_loop(self.path)
            self._profiles_conn = await connect_on_thread(self.path, read_only=True)
            self._lookup = SQLiteLookupSession(self._loop_conn, self._profiles_conn)
            self._checkpointer = Checkpointer(
                await connect_on_thread(self.path, read_only=False), self._failures
            )
            self._checkpointer.start()
        except BaseException as exc:
            await self.close()
            if (reason := unusable(self.path, exc)) is not None:
                raise reason from exc
            raise

    async def close(self) -> None:
        """Close every piece, each even if another fails to: queued ratings and takes are
        answered first, a transaction under way ends before the writer closes, and whatever
        tries to write meanwhile hears that nothing was saved."""
        async with AsyncExitStack() as stack:  # callbacks run last-pushed first
            stack.push_async_callback(self._close_readers)
            if (checkpointer := self._checkpointer) is not None:
                stack.push_async_callback(checkpointer.close)
            if (writer := self._writer) is not None:
                stack.push_async_callback(writer.close)
            if (group_commit := self._group_commit) is not None:
                stack.push_async_callback(group_commit.close)
        self._writer = self._checkpointer = self._group_commit = None

    async def _close_readers(self) -> None:
        self._lookup = None
        if self._loop_conn is not None:
            loop_conn, self._loop_conn = self._loop_conn, None
            loop_conn.close()
        readers, self._reader_conns = self._reader_conns, []
        if self._profiles_conn is not None:
            readers.append(self._profiles_conn)
            self._profiles_conn = None
        self._readers = asyncio.Queue()
        for reader in readers:
            await reader.close()

    def _committed(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.committed()

    @property
    def is_open(self) -> bool:
        return self._writer is not None

    @property
    def is_new(self) -> bool:
        return self.started_at_version == 0

    @property
    def predates_catalog_decisions(self) -> bool:
        return 0 < (self.started_at_version or 0) < CATALOG_DECISION_VERSION

    def _open_writer(self) -> Writer:
        if self._writer is None:
            raise RuntimeError("database is not open")
        return self._writer

    def _open_group_commit(self) -> GroupCommit:
        if self._group_commit is None:
            raise RuntimeError("database is not open")
        return self._group_commit

    def refuse_writes(self, reason: str) -> None:
        self._open_writer().refuse_writes(reason)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SQLiteWriteSession]:
        async with self._open_writer().transaction() as tx:
            yield tx

    @asynccontextmanager
    async def identify_turn(self, bucket: int) -> AsyncIterator[None]:
        yield  # one process: bot/sharding.py's own turns are every turn there is

    @asynccontextmanager
    async def lookup(self) -> AsyncIterator[SQLiteLookupSession]:
        """Lookups, on the event loop's own thread: their queries run when awaited (but for
        profiles, whose batches go to a thread of their own while the loop waits)."""
        if self._lookup is None:
            raise RuntimeError("database is not open")
        try:
            yield self._lookup
        except sqlite3.DatabaseError as exc:
            self._raise_if_damaged(exc)
            raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SQLiteReadSession]:
        """A read-only connection on its own thread. Each statement sees committed state
        (the hot reads are single statements; an export reads table by table)."""
        if not self._reader_conns:
            raise RuntimeError("database is not open")
        session = await self._readers.get()
        try:
            yield session
        except sqlite3.DatabaseError as exc:
            self._raise_if_damaged(exc)
            raise
        finally:
            self._readers.put_nowait(session)

    def _raise_if_damaged(self, error: sqlite3.DatabaseError) -> None:
        """A damaged page met while reading is the operator's one line (DatabaseUnusable);
        any other error is left as it is."""
        if storage_failure(error) is Storage.DAMAGED:
            raise damaged(self.path, str(error)) from error

    async def rate(
        self, *, guild_id: int, video_id: int, user_id: int, score: int, rated_at: int
    ) -> ScoreSummary:
        check_score(score)
        saved = await self._open_group_commit().submit(
            RatingRow(guild_id, video_id, user_id, score, rated_at)
        )
        return saved.summary

    async def save_take(
        self, *, guild_id: int, video_id: int, user_id: int, score: int, text: str, now: int
    ) -> Take:
        check_score(score)
        words = take_text(text)
        saved = await self._open_group_commit().submit(
            RatingRow(guild_id, video_id, user_id, score, now),
            TakeRow(guild_id, video_id, user_id, score, words, now),
        )
        assert saved.take is not None
        return saved.take

    async def _write_batch(
        self, ratings: list[RatingRow], takes: list[TakeRow | None]
    ) -> list[Saved]:
        """A batch of ratings and takes in one transaction and one round trip: the takes,
        the ratings (their triggers add them to the aggregates), then what the callers hear."""
        new_takes = [take for take in takes if take is not None]
        keys = {(r.guild_id, r.video_id) for r in ratings}
        statements = [rating_writes(ratings), summaries_query(keys)]
        if new_takes:
            statements = [take_writes(new_takes), *statements, saved_takes_query(new_takes)]
        results = await self._open_writer().run_unit(statements)
        summaries = summaries_read(results[-2 if new_takes else -1], keys)
        stored = saved_takes_read(results[-1]) if new_takes else {}
        return [
            Saved(
                summaries[(rating.guild_id, rating.video_id)],
                stored[(take.guild_id, take.video_id, take.user_id)] if take else None,
            )
            for rating, take in zip(ratings, takes, strict=True)
        ]

    async def catalog_version(self) -> int:
        # One row by primary key, on the loop's own connection: microseconds.
        if self._loop_conn is None:
            raise RuntimeError("database is not open")
        [row] = await self._loop_conn.fetchall("SELECT version FROM catalog_version WHERE id = 1")
        return int(row["version"])

    async def erase_deleted_text(self) -> None:
        if self._checkpointer is None:
            raise RuntimeError("database is not open")
        await self._checkpointer.erase_deleted_text()


async def _check_writable(conn: ThreadConnection) -> None:
    """SQLite opens a file it may not write read-only without a word, and the first write
    fails much later: write the schema version back unchanged, and roll it back."""
    [row] = await conn.fetchall("PRAGMA user_version")
    await conn.execute("BEGIN IMMEDIATE")
    try:
        await conn.execute(f"PRAGMA user_version = {int(row[0])}")
    finally:
        await conn.execute("ROLLBACK")
