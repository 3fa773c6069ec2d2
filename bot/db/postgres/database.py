"""The PostgreSQL database: the implementation of `bot.db.interface.Database` for several
bot processes (on several machines) sharing one database.

Its pieces, each in a module of its own:
- connections.py: the pool (every session's connections come from it);
- migrations.py + migrations/: the schema, applied once whoever starts first;
- locks.py: which units of work take turns, and on what (transactions are READ COMMITTED);
- sessions.py: which queries each kind of session offers;
- bot/db/group_commit.py: ratings and takes, batched into shared commits (`rate`,
  `save_take`), written here by `_write_batch` with one statement per table.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bot.db.failures import FailureLog
from bot.db.group_commit import (
    GroupCommit,
    RatingRow,
    Saved,
    TakeRow,
    check_score,
    take_text,
)
from bot.db.interface import Database
from bot.db.models import ScoreSummary, Take
from bot.db.postgres.catalog_watch import CatalogWatch
from bot.db.postgres.connections import MAX_CONNECTIONS, MIN_CONNECTIONS, create_pool, redacted
from bot.db.postgres.failures import (
    bad_url,
    cannot_read,
    cannot_save,
    is_conflict,
    is_storage_failure,
    is_video_removed,
    unusable,
)
from bot.db.postgres.locks import Locks
from bot.db.postgres.migrations import MIGRATIONS_DIR, migrate
from bot.db.postgres.ratings import write_ratings
from bot.db.postgres.sessions import (
    PostgresLookupSession,
    PostgresReadSession,
    PostgresWriteSession,
)
from bot.db.postgres.takes import write_takes
from bot.errors import CannotSaveError

if TYPE_CHECKING:
    from bot.db.postgres.connections import Connection, Pool

log = logging.getLogger(__name__)

# The tables that hold what members wrote, and so what /privacy forget-me deletes.
MEMBER_TABLES = (
    "ratings",
    "takes",
    "take_agrees",
    "quotes",
    "member_settings",
    "moderation_log",
    "daily_schedules",
    "daily_posts",
)


class PostgresDatabase:
    def __init__(
        self,
        url: str,
        *,
        min_connections: int = MIN_CONNECTIONS,
        max_connections: int = MAX_CONNECTIONS,
        migrations: Path = MIGRATIONS_DIR,
    ) -> None:
        self.url = url
        self.min_connections = min(min_connections, max_connections)
        self.max_connections = max_connections
        self.migrations = migrations
        self._failures = FailureLog()
        self._pool: Pool | None = None
        self._lookup: PostgresLookupSession | None = None
        self._read: PostgresReadSession | None = None
        self._refusing: str | None = None
        self._group_commit = self._new_group_commit()
        self._catalog = CatalogWatch(url)
        # The schema version found before migrating; 0 means the database was empty.
        self.started_at_version: int | None = None

    @property
    def where(self) -> str:
        """The database's URL as logs and operators see it: without the password."""
        return redacted(self.url)

    def _new_group_commit(self) -> GroupCommit:
        return GroupCommit(
            self._write_batch, video_removed=is_video_removed, conflicted=is_conflict
        )

    async def open(self) -> None:
        """Connect and migrate. A server that cannot be reached, refuses TakeTwo or cannot
        store anything raises DatabaseUnusable (DatabaseBusy when trying again later may
        help), with one line for the operator and every connection closed."""
        self._group_commit = self._new_group_commit()  # a closed one refuses every write
        self._refusing = None  # as a newly opened SQLite database, this one takes writes
        try:
            try:
                self._pool = await create_pool(
                    self.url, min_size=self.min_connections, max_size=self.max_connections
                )
            except ValueError as exc:  # asyncpg could not read the URL
                raise bad_url(exc) from exc
            async with self._pool.acquire() as conn:
                self.started_at_version = await migrate(conn, self.migrations)
            await self._catalog.start()
        except BaseException as exc:
            await self.close()
            if (reason := unusable(self.where, exc)) is not None:
                raise reason from exc
            raise
        self._lookup = PostgresLookupSession(self._pool)
        self._read = PostgresReadSession(self._pool)

    async def close(self) -> None:
        # Writes already queued are written (or refused) before the pool closes.
        await self._group_commit.close()
        await self._catalog.close()
        self._lookup = None
        self._read = None
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @property
    def is_open(self) -> bool:
        return self._pool is not None

    @property
    def is_new(self) -> bool:
        return self.started_at_version == 0

    @property
    def predates_catalog_decisions(self) -> bool:
        # Every PostgreSQL database TakeTwo uses was created by this code, which records
        # the decision.
        return False

    def _open_pool(self) -> Pool:
        if self._pool is None:
            raise RuntimeError("database is not open")
        return self._pool

    def refuse_writes(self, reason: str) -> None:
        self._refusing = reason

    def _refuse_if_closing(self) -> None:
        if self._refusing is not None:
            raise CannotSaveError(f"{self._refusing}: nothing was saved. Try again soon.")

    def _storage_failed(self, error: BaseException) -> CannotSaveError | None:
        """The member's sentence when the storage failed (logged once per kind a minute);
        None for any other error, such as a constraint, which is left to the caller."""
        return cannot_save(error, self._failures) if is_storage_failure(error) else None

    @contextmanager
    def _reads_answered(self) -> Iterator[None]:
        """Reads the storage failed (the server went away, no connection to spare) reach the
        member as a sentence (CannotReadError); any other error is left as it is. The pool
        connects again by itself once the server is back."""
        try:
            yield
        except Exception as exc:
            if is_storage_failure(exc):
                raise cannot_read(exc, self._failures) from exc
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresWriteSession]:
        """BEGIN ... COMMIT on a connection of the pool, or ROLLBACK on any error."""
        self._refuse_if_closing()
        pool = self._open_pool()
        try:
            conn = await pool.acquire()
        except Exception as exc:
            if (failed := self._storage_failed(exc)) is not None:
                raise failed from exc
            raise
        try:
            await conn.execute("BEGIN")
            yield PostgresWriteSession(conn)
            self._refuse_if_closing()
            await conn.execute("COMMIT")
        except BaseException as exc:
            await _roll_back(conn, exc)
            if (failed := self._storage_failed(exc)) is not None:
                raise failed from exc
            raise
        finally:
            await pool.release(conn)

    @asynccontextmanager
    async def identify_turn(self, bucket: int) -> AsyncIterator[None]:
        """An advisory lock per max_concurrency bucket, held by a transaction of its own
        (released with it, or with the connection if the process dies)."""
        async with self._open_pool().acquire() as conn, conn.transaction():
            await Locks(conn).identify_turn(bucket)
            yield

    @asynccontextmanager
    async def lookup(self) -> AsyncIterator[PostgresLookupSession]:
        """Lookups: each statement borrows a pool connection while it runs."""
        if self._lookup is None:
            raise RuntimeError("database is not open")
        with self._reads_answered():
            yield self._lookup

    @asynccontextmanager
    async def read(self) -> AsyncIterator[PostgresReadSession]:
        """Any read. Each statement sees what was committed when it began; the reads that
        must agree with each other are single statements."""
        if self._read is None:
            raise RuntimeError("database is not open")
        with self._reads_answered():
            yield self._read

    async def _write_batch(
        self, ratings: list[RatingRow], takes: list[TakeRow | None]
    ) -> list[Saved]:
        """A batch of ratings and takes in one transaction: the takes, the ratings (their
        triggers add them to the aggregates), then the aggregates the callers hear."""
        async with self.transaction() as tx:
            new_takes = [take for take in takes if take is not None]
            stored = await write_takes(tx.conn, new_takes) if new_takes else {}
            await write_ratings(tx.conn, ratings)
            summaries = await tx.ratings.summaries({(r.guild_id, r.video_id) for r in ratings})
        return [
            Saved(
                summaries[(rating.guild_id, rating.video_id)],
                stored[(take.guild_id, take.video_id, take.user_id)] if take else None,
            )
            for rating, take in zip(ratings, takes, strict=True)
        ]

    async def rate(
        self, *, guild_id: int, video_id: int, user_id: int, score: int, rated_at: int
    ) -> ScoreSummary:
        check_score(score)
        saved = await self._group_commit.submit(
            RatingRow(guild_id, video_id, user_id, score, rated_at)
        )
        return saved.summary

    async def save_take(
        self, *, guild_id: int, video_id: int, user_id: int, score: int, text: str, now: int
    ) -> Take:
        check_score(score)
        words = take_text(text)
        saved = await self._group_commit.submit(
            RatingRow(guild_id, video_id, user_id, score, now),
            TakeRow(guild_id, video_id, user_id, score, words, now),
        )
        assert saved.take is not None
        return saved.take

    async def catalog_version(self) -> int:
        if self._pool is None:
            raise RuntimeError("database is not open")
        with self._reads_answered():
            return await self._catalog.version(self._pool)

    async def erase_deleted_text(self) -> None:
        """Deleted rows are gone from every query the moment their transaction commits.
        VACUUM then removes them from the member tables' pages and indexes and makes their
        space free for new rows. PostgreSQL has no secure delete: until new rows reuse that
        space, and until the server recycles its write-ahead log segments, the old bytes
        may remain on its disk (as they do in its backups). Plain VACUUM runs beside reads
        and writes; it is not VACUUM FULL, which would lock every member table meanwhile."""
        async with self._open_pool().acquire() as conn:
            await conn.execute(f"VACUUM {', '.join(MEMBER_TABLES)}")


async def _roll_back(conn: Connection, error: BaseException) -> None:
    """Roll back after an error, if there is a transaction to roll back. A connection the
    server dropped has rolled back already: the pool has let go of it, and asking it
    anything raises."""
    try:
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")
    except Exception:  # the original error is the one to report
        if not is_storage_failure(error):
            log.warning("rollback failed after %r", error)


def postgres_database(
    url: str,
    *,
    min_connections: int = MIN_CONNECTIONS,
    max_connections: int = MAX_CONNECTIONS,
) -> Database:
    """The database at a postgresql:// URL, not yet opened, as the rest of the bot sees it."""
    return PostgresDatabase(url, min_connections=min_connections, max_connections=max_connections)
