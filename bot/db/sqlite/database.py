"""The database: one writer connection behind a lock, a few readers, and units of work.

    async with db.transaction() as tx:      # BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error
        await tx.quotes.add(...)
    async with db.read() as session:        # a read-only connection on its own thread
        rows = await session.videos.search(...)
    async with db.lookup() as session:      # a few index lookups, on the loop's thread
        credits = await session.videos.credits(...)
    await db.rate(...)                      # group commit, answered after the commit
    await db.video_page(...)                # read together with concurrent page requests

SQLite allows one writer at a time. Every write goes through the single writer connection
inside an asyncio lock, so two commands can never interleave statements in one transaction
and commit each other's half-done work. Reads use separate connections, which WAL lets run
while a write is in progress.

A round trip to an aiosqlite connection's thread costs 0.2 ms at best and 1-2 ms at the
99th percentile on a busy 2-core machine, while the hot reads (a random quote, credits,
a /review page, /top, autocomplete as typed) are a few index lookups that SQLite answers in
10-100 µs. Those run on one more read-only connection used on the event loop's own thread
(`db.lookup()`); anything that can take longer (typo search, exports, the daily pick) uses
`db.read()` and stays off the loop.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.db.coalesce import Coalescer
from bot.db.failures import FailureLog, cannot_save, is_storage_failure, unusable
from bot.db.models import ScoreSummary, Video, VideoPage
from bot.db.sqlite import pages
from bot.db.sqlite.daily import DailyQueries
from bot.db.sqlite.exports import ExportQueries
from bot.db.sqlite.members import MemberQueries
from bot.db.sqlite.migrations import MIGRATIONS_DIR, migrate
from bot.db.sqlite.quotes import QuoteQueries
from bot.db.sqlite.ratings import RatingQueries
from bot.db.sqlite.setup import SetupQueries
from bot.db.sqlite.takes import TakeQueries
from bot.db.sqlite.videos import VideoQueries
from bot.errors import CannotSaveError, NotFoundError, UserFacingError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
# Ratings that arrive together are written in one transaction of at most this many.
RATING_BATCH = 512
# Checkpoints (copying committed pages from the WAL back into the database file, with its
# fsync) run on a connection and thread of their own, so a commit only appends to the WAL
# and the writer never waits for a copy. Should that fall behind, the writer checkpoints
# by itself once the WAL holds this many pages (64 MB).
WRITER_AUTOCHECKPOINT = 16384
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
WAL_SWITCH_ATTEMPTS = 500
ERASE_ATTEMPTS = 3
# The lookup connection waits at most this long for a lock (in WAL mode a reader meets one
# only in rare moments, such as recovery after a crash), since it blocks the event loop.
LOOKUP_BUSY_TIMEOUT_MS = 50
# Page caches, in KiB (negative cache_size): the writer touches pages all over the rating
# tables; the lookup connection serves the hot reads; the thread readers the rest.
WRITER_CACHE_KIB = 32768
LOOKUP_CACHE_KIB = 24576
READER_CACHE_KIB = 8192
# /review pages asked for together are read in one statement of at most this many.
PAGE_BATCH = 200

RatingRow = tuple[int, int, int, int, str]


class Session:
    """The repositories bound to one connection, inside one transaction or snapshot."""

    def __init__(self, conn: aiosqlite.Connection | LookupConnection) -> None:
        self.conn = conn
        self.videos = VideoQueries(conn)
        self.ratings = RatingQueries(conn)
        self.quotes = QuoteQueries(conn)
        self.daily = DailyQueries(conn)
        self.takes = TakeQueries(conn)
        self.members = MemberQueries(conn)
        self.exports = ExportQueries(conn)  # type: ignore[arg-type]
        self.setup = SetupQueries(conn)  # type: ignore[arg-type]

    async def video_page(
        self, guild_id: int, video_id: int, user_id: int | None = None
    ) -> VideoPage:
        return await pages.video_page(self.conn, guild_id, video_id, user_id)


class LookupConnection:
    """A read-only sqlite3 connection used directly on the event loop's thread.

    It offers the one call the lookup queries use, `execute_fetchall`, so the same query
    classes run on it. Each statement runs in autocommit mode and so sees one snapshot."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def execute_fetchall(
        self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = ()
    ) -> list[Any]:
        return self._conn.execute(sql, parameters).fetchall()

    def close(self) -> None:
        self._conn.close()


def _connect_lookup(path: Path) -> LookupConnection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {LOOKUP_BUSY_TIMEOUT_MS}")
    conn.execute(f"PRAGMA cache_size = {-LOOKUP_CACHE_KIB}")
    conn.execute("PRAGMA query_only = ON")
    return LookupConnection(conn)


async def _switch_to_wal(conn: aiosqlite.Connection) -> None:
    """On a brand-new file opened by two processes at once, the switch to WAL can fail at
    once with SQLITE_BUSY (the busy timeout does not cover it): try again shortly."""
    for attempt in range(WAL_SWITCH_ATTEMPTS):
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or attempt == WAL_SWITCH_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.01)


async def _connect(path: Path, *, read_only: bool) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a unit of work is explicit.
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute(
            f"PRAGMA cache_size = {-(READER_CACHE_KIB if read_only else WRITER_CACHE_KIB)}"
        )
        if read_only:
            await conn.execute("PRAGMA query_only = ON")
        else:
            await _switch_to_wal(conn)
            await conn.execute(f"PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT}")
            # After a burst the WAL file is cut back to this size when it restarts, not kept.
            await conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
            # In WAL mode NORMAL keeps the database consistent on power loss and commits fast.
            await conn.execute("PRAGMA synchronous = NORMAL")
            # Deleted text (forget-me, removed takes) is overwritten, not left in free pages.
            await conn.execute("PRAGMA secure_delete = ON")
    except BaseException:
        # aiosqlite's thread would otherwise outlive the failure and keep the process alive.
        await conn.close()
        raise
    return conn


def _settle(
    future: asyncio.Future[ScoreSummary],
    result: ScoreSummary | None = None,
    *,
    error: BaseException | None = None,
) -> None:
    """Answer a waiting caller unless it has gone (cancelled) or was answered already."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


class Database:
    def __init__(
        self, path: Path | str, *, readers: int = 4, migrations: Path = MIGRATIONS_DIR
    ) -> None:
        self.path = Path(path)
        self.reader_count = readers
        self.migrations = migrations
        self._writer: aiosqlite.Connection | None = None
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []
        self._checkpointer: aiosqlite.Connection | None = None
        self._lookup: LookupConnection | None = None
        self._checkpoints: asyncio.Task[None] | None = None
        self._committed = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._refusing_writes: str | None = None
        self._failures = FailureLog()
        # The schema version found before migrating; 0 means the file was new.
        self.started_at_version: int | None = None
        self._pending_ratings: list[tuple[RatingRow, asyncio.Future[ScoreSummary]]] = []
        self._rating_flusher: asyncio.Task[None] | None = None
        gone = lambda: NotFoundError("That video is no longer in the catalog.")  # noqa: E731
        self._pages = Coalescer(self._fetch_pages, gone, PAGE_BATCH)
        self._videos = Coalescer(self._fetch_videos, gone, PAGE_BATCH)

    async def open(self) -> None:
        """Open every connection and migrate. A file that cannot be used (damaged, not a
        database, not writable) raises DatabaseUnusable, with every connection closed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = await _connect(self.path, read_only=False)
            self.started_at_version = await migrate(self._writer, self.migrations)
            await self._check_writable(self._writer)
            for _ in range(self.reader_count):
                reader = await _connect(self.path, read_only=True)
                self._all_readers.append(reader)
                self._readers.put_nowait(reader)
            self._lookup = _connect_lookup(self.path)
            self._checkpointer = await _connect(self.path, read_only=False)
            self._checkpoints = asyncio.create_task(self._checkpoint_after_commits())
            self._committed.set()  # the migrations, if any ran
        except BaseException as exc:
            await self.close()
            if (reason := unusable(self.path, exc)) is not None:
                raise reason from exc
            raise

    @staticmethod
    async def _check_writable(conn: aiosqlite.Connection) -> None:
        """SQLite opens a file it may not write read-only without a word, and the first write
        fails much later: write the schema version back unchanged, and roll it back."""
        version = (await conn.execute_fetchall("PRAGMA user_version"))[0][0]
        await conn.execute("BEGIN IMMEDIATE")
        try:
            await conn.execute(f"PRAGMA user_version = {int(version)}")
        finally:
            await conn.execute("ROLLBACK")

    def refuse_writes(self, reason: str) -> None:
        """From now on no transaction commits: each is rolled back and its caller hears
        CannotSaveError. For shutdown, so nothing commits that no member will hear about."""
        self._refusing_writes = reason

    async def close(self) -> None:
        if self._rating_flusher is not None:
            # Ratings already queued are written (or refused) before the writer closes.
            await asyncio.gather(self._rating_flusher, return_exceptions=True)
            self._rating_flusher = None
        if self._checkpoints is not None:
            self._checkpoints.cancel()
            await asyncio.gather(self._checkpoints, return_exceptions=True)
            self._checkpoints = None
        if self._checkpointer is not None:
            checkpointer, self._checkpointer = self._checkpointer, None
            await checkpointer.close()
        if self._lookup is not None:
            lookup, self._lookup = self._lookup, None
            lookup.close()
        for reader in self._all_readers:
            await reader.close()
        self._all_readers.clear()
        self._readers = asyncio.Queue()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await writer.close()

    @property
    def is_open(self) -> bool:
        return self._writer is not None

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
            self._refuse_if_closing()
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._raise_if_storage_failure(exc)
                raise
            try:
                yield Session(conn)
                self._refuse_if_closing()
                await conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    try:
                        await conn.execute("ROLLBACK")
                    except sqlite3.Error:  # the original error is the one to report
                        log.warning("rollback failed after %r", exc)
                if isinstance(exc, sqlite3.Error):
                    self._raise_if_storage_failure(exc)
                raise
            self._committed.set()

    def _refuse_if_closing(self) -> None:
        if self._refusing_writes is not None:
            raise CannotSaveError(f"{self._refusing_writes}: nothing was saved. Try again soon.")

    def _raise_if_storage_failure(self, error: sqlite3.Error) -> None:
        """A failure of the storage becomes the member's sentence (logged once per kind a
        minute); any other error, such as a constraint, is left to the caller."""
        if is_storage_failure(error):
            raise cannot_save(error, self._failures) from error

    async def _checkpoint_after_commits(self) -> None:
        """Copy committed pages back into the database file whenever there are new ones.
        PASSIVE never blocks the writer or the readers; a busy page is left for next time."""
        assert self._checkpointer is not None
        while True:
            await self._committed.wait()
            self._committed.clear()
            try:
                await self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:
                # Once per kind a minute: a full disk fails every checkpoint.
                self._failures.record(
                    getattr(exc, "sqlite_errorname", type(exc).__name__),
                    f"background checkpoint failed (the writer checkpoints instead): {exc}",
                )

    async def erase_deleted_text(self) -> None:
        """Copy every committed page into the database file (where secure_delete has zeroed
        what was deleted) and empty the write-ahead log, which still holds the old pages:
        after /privacy forget-me nothing of the member may linger in either file."""
        if self._checkpointer is None:
            raise RuntimeError("database is not open")
        for _ in range(ERASE_ATTEMPTS):
            # TRUNCATE waits (busy timeout) for readers and writers; busy=1 means it could
            # not finish this time.
            [[busy, _, _]] = await self._checkpointer.execute_fetchall(
                "PRAGMA wal_checkpoint(TRUNCATE)"
            )
            if not busy:
                return
        log.warning("the write-ahead log could not be emptied after forget-me; it will be soon")

    async def video_page(
        self, guild_id: int, video_id: int, user_id: int | None = None
    ) -> VideoPage:
        """The /review data of one video in one server, read in one statement together with
        any other pages asked for at the same moment."""
        return await self._pages.get((guild_id, video_id, user_id))

    async def video(self, video_id: int) -> Video:
        """One catalog video, looked up together with any others asked for at the moment."""
        return await self._videos.get(video_id)

    async def _fetch_pages(self, keys: list[tuple[int, int, int | None]]) -> list[VideoPage | None]:
        async with self.lookup() as session:
            return await pages.video_pages(session.conn, keys)

    async def _fetch_videos(self, ids: list[int]) -> list[Video | None]:
        async with self.lookup() as session:
            return await session.videos.many(ids)

    async def rate(
        self, *, guild_id: int, video_id: int, user_id: int, score: int, rated_at: str
    ) -> ScoreSummary:
        """Write one rating with group commit; return the video's server aggregate.

        Ratings that arrive while a batch is being written wait for the next batch and share
        its transaction. Each caller gets its answer only after that transaction committed,
        so nothing is acknowledged that could still be lost or rolled back.
        """
        if type(score) is not int or not 1 <= score <= 10:
            raise UserFacingError("A score is a whole number from 1 to 10.")
        future: asyncio.Future[ScoreSummary] = asyncio.get_running_loop().create_future()
        self._pending_ratings.append(((guild_id, video_id, user_id, score, rated_at), future))
        if self._rating_flusher is None or self._rating_flusher.done():
            self._rating_flusher = asyncio.create_task(self._flush_ratings())
        return await future

    async def _flush_ratings(self) -> None:
        batch: list[tuple[RatingRow, asyncio.Future[ScoreSummary]]] = []
        try:
            while self._pending_ratings:
                batch = self._pending_ratings[:RATING_BATCH]
                del self._pending_ratings[:RATING_BATCH]
                try:
                    summaries = await self._write_ratings([row for row, _ in batch])
                except sqlite3.IntegrityError:
                    # One rating of a video removed meanwhile must not sink the others.
                    await self._write_ratings_one_by_one(batch)
                except Exception as exc:
                    # The storage failed (a full disk, a lock held too long): every rating in
                    # the batch would fail the same way on its own.
                    for _, future in batch:
                        _settle(future, error=exc)
                else:
                    for row, future in batch:
                        _settle(future, summaries[(row[0], row[1])])
                batch = []
        finally:
            # Whatever stopped this loop (even its cancellation), no caller waits forever.
            stranded = batch + self._pending_ratings
            self._pending_ratings = []
            for _, future in stranded:
                _settle(future, error=CannotSaveError("Your rating was not saved: try again."))

    async def _write_ratings(self, rows: list[RatingRow]) -> dict[tuple[int, int], ScoreSummary]:
        async with self.transaction() as tx:
            await tx.ratings.rate_many(rows)
            return await tx.ratings.summaries({(r[0], r[1]) for r in rows})

    async def _write_ratings_one_by_one(
        self, batch: list[tuple[RatingRow, asyncio.Future[ScoreSummary]]]
    ) -> None:
        for row, future in batch:
            try:
                summary = (await self._write_ratings([row]))[(row[0], row[1])]
            except sqlite3.IntegrityError:
                _settle(future, error=NotFoundError("That video is no longer in the catalog."))
            except Exception as exc:
                _settle(future, error=exc)
            else:
                _settle(future, summary)

    @asynccontextmanager
    async def lookup(self) -> AsyncIterator[Session]:
        """The lookup connection, on the event loop's thread: only for statements that are a
        few index lookups (see the module docstring). Its queries run when awaited."""
        if self._lookup is None:
            raise RuntimeError("database is not open")
        yield Session(self._lookup)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Session]:
        """A read-only connection. Each statement sees committed state; the hot reads
        (/review, a random quote, /top) are single statements, so they are consistent
        without the two extra round trips of BEGIN and COMMIT."""
        if not self._all_readers:
            raise RuntimeError("database is not open")
        conn = await self._readers.get()
        try:
            yield Session(conn)
        finally:
            self._readers.put_nowait(conn)
