"""`python -m bot migrate --to postgresql://...`: a whole SQLite database copied into an empty
PostgreSQL database, all of it or nothing.

1. Each backend first brings its database to its newest schema: the SQLite file as any start
   would, the PostgreSQL database table by table (without the sample catalog).
2. One PostgreSQL transaction does the rest, so an interruption at any point (Ctrl-C,
   kill -9, a lost connection) rolls all of it back and leaves the target empty: it locks
   every table, checks that they are empty, switches off the triggers that keep the
   aggregates and takes the foreign keys away, copies every table with binary COPY (the
   aggregates as they are: exact, and far cheaper than adding two million ratings up one
   statement at a time), puts the foreign keys back (each checked by one query) and the
   triggers, moves every id sequence past the copied ids, verifies, and only then commits.
3. The SQLite side is read in one read transaction: a snapshot of the file as it was when
   the copy began, which needs no temporary copy of the file (no extra disk, no extra time)
   and lets the bot keep running beside it (WAL). What the bot writes after the snapshot is
   not copied: stop it first. Meanwhile the write-ahead log cannot be checkpointed past the
   snapshot and grows.

The verification compares, table by table, the number of rows and the sum of every number
column and of every text's length on both sides, and checks on the PostgreSQL side that every
aggregate (a server's and a video's scores, a video's take count, a take's agree count) is
what the copied rows add up to.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

from bot.db.failures import DatabaseBusy, DatabaseUnusable
from bot.db.models import TALLIED_PAST
from bot.db.postgres.connections import CONNECT_TIMEOUT_S, SERVER_SETTINGS, redacted
from bot.db.postgres.database import PostgresDatabase
from bot.db.postgres.failures import Storage, storage_failure, unusable
from bot.db.sqlite.connections import BUSY_TIMEOUT_MS
from bot.db.sqlite.database import SQLiteDatabase
from bot.db.sqlite.failures import unusable as sqlite_unusable

if TYPE_CHECKING:
    Connection = asyncpg.Connection[asyncpg.Record]

# Every table TakeTwo keeps, parents before the tables whose foreign keys name them.
# `schema_version` belongs to each backend's migration runner and is not copied.
TABLES = (
    "videos",
    "credits",
    "press_reviews",
    "video_sources",
    "video_drafts",
    "video_suggestions",
    "video_suggesters",
    "quotes",
    "ratings",
    "video_scores",
    "guild_scores",
    "member_rating_counts",
    "tallied_members",
    "member_people",
    "director_scores",
    "takes",
    "take_agrees",
    "video_take_counts",
    "moderation_log",
    "member_settings",
    "daily_schedules",
    "daily_posts",
    "daily_cycle",
    "catalog_decision",
    "catalog_version",
)
# What a new database holds before anything is copied: the catalog version's first row.
INITIAL_ROWS = {"catalog_version": [(1, 0)]}
INTEGER_TYPES = ("smallint", "integer", "bigint")
TURN_ROWS = 5_000
# The hash aggregates of the checks, and the foreign keys' validation, in memory.
WORK_MEM = "64MB"

_HISTOGRAM = ", ".join(f"s{k}" for k in range(1, 11))
_IMPLIED_HISTOGRAM = ", ".join(f"count(*) FILTER (WHERE score = {k})" for k in range(1, 11))
# Each server's ratings of each video, from the ratings alone.
_PER_VIDEO = "SELECT guild_id, video_id, count(*) AS n, sum(score) AS t FROM ratings GROUP BY 1, 2"
# Each aggregate beside what its rows add up to. A server's scores stay as a row of zeros
# once its last rating is gone; a video's and a take's counts are left out at zero.
AGGREGATES = {
    "video_scores (ratings per server and video)": (
        f"SELECT guild_id, video_id, count, total, {_HISTOGRAM} FROM video_scores",
        f"SELECT guild_id, video_id, count(*), sum(score), {_IMPLIED_HISTOGRAM} FROM ratings "
        "GROUP BY guild_id, video_id",
    ),
    "guild_scores (ratings per server)": (
        "SELECT guild_id, count, total FROM guild_scores WHERE count <> 0 OR total <> 0",
        "SELECT guild_id, count(*), sum(score) FROM ratings GROUP BY guild_id",
    ),
    "video_take_counts (takes per server and video)": (
        "SELECT guild_id, video_id, count FROM video_take_counts",
        "SELECT guild_id, video_id, count(*) FROM takes GROUP BY guild_id, video_id",
    ),
    "member_rating_counts (ratings per member)": (
        "SELECT guild_id, user_id, count FROM member_rating_counts",
        "SELECT guild_id, user_id, count(*) FROM ratings GROUP BY guild_id, user_id",
    ),
    "tallied_members (members past the bound)": (
        "SELECT guild_id, user_id FROM tallied_members",
        "SELECT guild_id, user_id FROM ratings GROUP BY guild_id, user_id "
        f"HAVING count(*) > {TALLIED_PAST}",
    ),
    "member_people (favourite people of members past the bound)": (
        "SELECT guild_id, user_id, role, name, videos, total FROM member_people",
        "SELECT guild_id, user_id, role, name, count(*), sum(score) FROM ("
        "SELECT DISTINCT r.guild_id, r.user_id, r.video_id, 'director' AS role, c.name, "
        "r.score FROM ratings AS r JOIN credits AS c ON c.video_id = r.video_id "
        "WHERE c.kind = 'video' AND lower(c.role) = 'director' "
        "UNION ALL SELECT r.guild_id, r.user_id, r.video_id, 'artist', v.artist, r.score "
        "FROM ratings AS r JOIN videos AS v ON v.id = r.video_id) AS rated "
        "WHERE (guild_id, user_id) IN (SELECT guild_id, user_id FROM ratings "
        f"GROUP BY guild_id, user_id HAVING count(*) > {TALLIED_PAST}) "
        "GROUP BY guild_id, user_id, role, name",
    ),
    "director_scores (ratings per server and director)": (
        "SELECT guild_id, name, videos, count, total FROM director_scores",
        "SELECT guild_id, name, count(*), sum(n), sum(t) FROM ("
        "SELECT DISTINCT s.guild_id, s.video_id, c.name, s.n, s.t "
        f"FROM ({_PER_VIDEO}) AS s JOIN credits AS c ON c.video_id = s.video_id "
        "WHERE c.kind = 'video' AND lower(c.role) = 'director') AS rated GROUP BY guild_id, name",
    ),
    "takes.agree_count (agrees per take)": (
        "SELECT id, agree_count FROM takes WHERE agree_count <> 0",
        "SELECT take_id, count(*) FROM take_agrees GROUP BY take_id",
    ),
}


class CopyRefused(Exception):
    """Nothing was copied: the source or the target is not one this command copies
    (no SQLite file, a target that is not empty). The message is the operator's line."""


class CopyNotVerified(Exception):
    """The copy differed from its source, so it was rolled back (a bug in TakeTwo)."""


class CopyInterrupted(Exception):
    """Ctrl-C stopped migrate. The message is the operator's line: what the target holds,
    which depends on how far the copy had gone; `complete` when it was committed."""

    def __init__(self, message: str, *, complete: bool) -> None:
        super().__init__(message)
        self.complete = complete


class _Progress:
    """How far the copy went, as an interruption must tell it: copying (nothing is kept),
    committing (COMMIT was sent and its answer not heard: the server may have kept all of
    it) or committed."""

    def __init__(self) -> None:
        self.committing = False
        self.committed = False

    def interrupted(self, where: str) -> CopyInterrupted:
        if self.committed:
            return CopyInterrupted(
                f"migrate was interrupted after the copy into {where} was committed: the "
                "copy is complete and verified. Set DATABASE_URL to that address and start "
                "TakeTwo.",
                complete=True,
            )
        if self.committing:
            return CopyInterrupted(
                f"migrate was interrupted as it committed the copy into {where}: the copy "
                "is either complete or not there at all. Run migrate again: if it says the "
                "database is not empty, the copy is complete.",
                complete=False,
            )
        return CopyInterrupted(
            "migrate was interrupted before it was done: nothing was copied; run it again.",
            complete=False,
        )


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "integer", "boolean" or "text"


@dataclass(frozen=True)
class Verified:
    table: str
    source_rows: int
    target_rows: int
    sums: int  # how many sums were compared
    equal: bool


def _aggregate_disagreements(kept: str, implied: str) -> str:
    """How many rows are in one of the two queries' answers and not in the other (both
    answers are sets, keyed by their first columns); the same SQL on both engines."""
    return (
        f"WITH kept AS ({kept}), implied AS ({implied}) "
        "SELECT (SELECT count(*) FROM kept) + (SELECT count(*) FROM implied) "
        "- 2 * (SELECT count(*) FROM (SELECT * FROM kept INTERSECT SELECT * FROM implied) "
        "AS same)"
    )


def _kind(data_type: str) -> str:
    if data_type in INTEGER_TYPES:
        return "integer"
    if data_type in ("boolean", "text"):
        return data_type
    raise CopyNotVerified(f"a column of type {data_type} is new to migrate: teach it to copy it")


class Source:
    """The SQLite database, read in one read transaction: one snapshot for every table."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.conn.execute("PRAGMA query_only = ON")
        self.conn.execute("BEGIN")
        # The first read takes the snapshot; from then on data_version moves only when
        # another connection commits, which this transaction does not see.
        self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        self.version = self._data_version()
        self.last_row: tuple[Any, ...] = ()  # the row last handed to the copy

    def _data_version(self) -> int:
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def tables(self) -> set[str]:
        """TakeTwo's tables: not SQLite's own, nor the search index's (PostgreSQL keeps
        trigram indexes on videos instead)."""
        return {
            name
            for (name,) in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite!_%' ESCAPE '!' "
                "AND name NOT LIKE 'video!_search%' ESCAPE '!'"
            )
        }

    def columns(self, table: str) -> list[str]:
        return [
            row[0] for row in self.conn.execute("SELECT name FROM pragma_table_info(?)", (table,))
        ]

    def rows(self, table: str, columns: list[Column]) -> Iterator[tuple[Any, ...]]:
        names = ", ".join(c.name for c in columns)
        flags = [i for i, c in enumerate(columns) if c.kind == "boolean"]
        for row in self.conn.execute(f"SELECT {names} FROM {table}"):
            self.last_row = row
            yield _as_booleans(row, flags) if flags else row

    def sums(self, table: str, columns: list[Column]) -> list[int]:
        # SQLite's sum() of 64-bit ids overflows; the sums of their high and low halves never do.
        halves = ", ".join(
            f"sum({m} >> 32), sum({m} & 4294967295)"
            for m in (_measure(c, postgres=False) for c in columns)
        )
        row = self.conn.execute(f"SELECT count(*), {halves} FROM {table}").fetchone()
        found = [v or 0 for v in row]
        return [found[0]] + [
            high * 2**32 + low for high, low in zip(found[1::2], found[2::2], strict=True)
        ]

    def disagreements(self, kept: str, implied: str) -> int:
        return int(self.conn.execute(_aggregate_disagreements(kept, implied)).fetchone()[0])

    def changed_since_snapshot(self) -> bool:
        """Whether anyone committed to the file since the copy's snapshot (ends the read)."""
        self.conn.execute("COMMIT")
        return self._data_version() != self.version

    def close(self) -> None:
        self.conn.close()


def _as_booleans(row: tuple[Any, ...], flags: list[int]) -> tuple[Any, ...]:
    """SQLite keeps a truth value as 0 or 1; PostgreSQL's boolean takes False or True."""
    values = list(row)
    for i in flags:
        if values[i] not in (0, 1, None):
            raise ValueError(f"{values[i]!r} is not a truth value (0 or 1)")
        values[i] = None if values[i] is None else bool(values[i])
    return tuple(values)


def _measure(column: Column, *, postgres: bool) -> str:
    """What is summed of a column: the number, a text's length, a truth value as 0 or 1 (as
    SQLite keeps it)."""
    if column.kind == "text":
        return f"length({column.name})"
    return f"{column.name}::integer" if column.kind == "boolean" and postgres else column.name


class Target:
    """The PostgreSQL database, written in one transaction on one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def columns(self) -> dict[str, list[Column]]:
        rows = await self.conn.fetch(
            "SELECT table_name::text, column_name::text, data_type::text "
            "FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ANY($1::text[]) "
            "ORDER BY table_name, ordinal_position",
            TABLES,
        )
        found: dict[str, list[Column]] = {}
        for table, name, data_type in rows:
            found.setdefault(table, []).append(Column(name, _kind(data_type)))
        return found

    async def lock(self) -> None:
        """Anyone else waits for the transaction to end (its foreign keys come and go); a
        second migrate into the same database then finds it full."""
        await self.conn.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        # The checks compare whole tables, planned before any statistics exist (ANALYZE runs
        # after the commit): the director credits were guessed at one row, and a nested loop
        # compared each of them with every server's scores of every video (over 16 minutes
        # at the benchmark's scale, where hash joins take seconds).
        await self.conn.execute("SET LOCAL enable_nestloop = off")
        await self.conn.execute(f"LOCK TABLE {', '.join(TABLES)} IN ACCESS EXCLUSIVE MODE")

    async def holding(self) -> list[str]:
        """The tables that hold anything besides what a new database holds."""
        full = []
        for table in TABLES:
            rows = [tuple(r) for r in await self.conn.fetch(f"SELECT * FROM {table} LIMIT 2")]
            if rows != INITIAL_ROWS.get(table, []):
                full.append(table)
        return full

    async def set_triggers(self, *, enabled: bool) -> None:
        """The triggers TakeTwo wrote (aggregates, the catalog version), not the ones that
        enforce foreign keys."""
        action = "ENABLE" if enabled else "DISABLE"
        for table in TABLES:
            await self.conn.execute(f"ALTER TABLE {table} {action} TRIGGER USER")

    async def drop_foreign_keys(self) -> list[tuple[str, str, str]]:
        """Each foreign key is checked once, by one query, when it is added back: checked as
        each row arrives, they cost twice as much as copying the rows."""
        keys = [
            (table, name, definition)
            for table, name, definition in await self.conn.fetch(
                "SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype = 'f' "
                "AND connamespace = current_schema()::regnamespace "
                # TakeTwo's own tables only: another application's are not ours to touch.
                "AND conrelid::regclass::text = ANY($1::text[])",
                list(TABLES),
            )
        ]
        for table, name, _ in keys:
            await self.conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        return keys

    async def add_foreign_keys(self, keys: list[tuple[str, str, str]]) -> None:
        for table, name, definition in keys:
            await self.conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')

    async def copy(self, table: str, columns: list[Column], rows: Iterator[tuple[Any, ...]]) -> int:
        await self.conn.execute(f"DELETE FROM {table}")  # the catalog version's first row
        status = await self.conn.copy_records_to_table(
            table, records=self._with_turns(rows), columns=[c.name for c in columns]
        )
        return int(status.split()[-1])

    async def _with_turns(self, rows: Iterator[tuple[Any, ...]]) -> AsyncIterator[tuple[Any, ...]]:
        """The rows, with a turn for the event loop every TURN_ROWS. asyncpg sends a COPY's
        rows without giving it one, so this is where a Ctrl-C or a lost connection is heard:
        within a few thousand rows, not after the whole table."""
        for n, row in enumerate(rows, 1):
            yield row
            if n % TURN_ROWS == 0:
                await asyncio.sleep(0)
                if self.conn.is_closed():
                    raise asyncpg.ConnectionDoesNotExistError("the connection was lost")

    async def continue_ids(self) -> None:
        """Every id column's next value follows the largest copied id."""
        identities = await self.conn.fetch(
            "SELECT table_name::text, column_name::text FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND is_identity = 'YES' "
            "AND table_name::text = ANY($1::text[])",
            list(TABLES),
        )
        for table, column in identities:
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max({column}), 0) + 1, "
                f"false) FROM {table}",
                table,
                column,
            )

    async def sums(self, table: str, columns: list[Column]) -> list[int]:
        parts = ["count(*)"] + [f"sum({_measure(c, postgres=True)})" for c in columns]
        row = await self.conn.fetchrow(f"SELECT {', '.join(parts)} FROM {table}")
        assert row is not None
        return [int(v or 0) for v in row]

    async def disagreements(self, kept: str, implied: str) -> int:
        return int(await self.conn.fetchval(_aggregate_disagreements(kept, implied)))


async def _bring_up_to_date(sqlite_path: Path, url: str) -> None:
    """Both schemas at their newest, as each backend's own start would leave them."""
    source = SQLiteDatabase(sqlite_path, readers=0)
    await source.open()
    try:
        if source.predates_catalog_decisions:
            # The file decided about the sample catalog when it was made, without recording
            # it (as bot.startup reads it): recorded here, so that PostgreSQL, which has no
            # such past, does not decide again and add the sample to the copied catalog.
            async with source.transaction() as tx:
                if not await tx.setup.catalog_decided():
                    await tx.setup.record_catalog_decision(sample_loaded=False)
    finally:
        await source.close()
    target = PostgresDatabase(url, min_connections=1, max_connections=1)
    await target.open()
    await target.close()


async def _connect(url: str, where: str) -> Connection:
    try:
        conn: Connection = await asyncpg.connect(
            url, timeout=CONNECT_TIMEOUT_S, server_settings=SERVER_SETTINGS
        )
    except Exception as exc:
        if (reason := unusable(where, exc)) is not None:
            raise reason from exc
        raise
    return conn


async def _close(conn: Connection) -> None:
    """An open transaction is rolled back by the server as the connection closes."""
    try:
        await conn.close(timeout=5)
    except Exception:
        conn.terminate()


def _check_same_tables(source: Source, target_columns: dict[str, list[Column]]) -> None:
    """Both schemas hold the tables TABLES names, with the same columns: a table added by a
    later migration and missing from TABLES would otherwise be left behind unnoticed."""
    if (found := source.tables()) != set(TABLES):
        raise CopyNotVerified(
            f"the SQLite tables {sorted(found)} are not the ones migrate copies {sorted(TABLES)}"
        )
    for table in TABLES:
        wanted = sorted(c.name for c in target_columns.get(table, []))
        if sorted(source.columns(table)) != wanted:
            raise CopyNotVerified(
                f"{table} has the columns {sorted(source.columns(table))} in SQLite but "
                f"{wanted} in PostgreSQL"
            )


def copy_to_postgres(sqlite_path: Path, url: str, report: Callable[[str], None]) -> list[Verified]:
    """Copy the SQLite database at `sqlite_path` into the empty PostgreSQL database at `url`,
    telling `report` each step. Raises CopyRefused (nothing copied: no source, a full target),
    DatabaseUnusable / DatabaseBusy (a database that cannot be used, or not now: nothing
    copied), CopyNotVerified (rolled back), CopyInterrupted (Ctrl-C: its line says whether
    the copy was kept)."""
    if not sqlite_path.is_file():
        raise CopyRefused(
            f"there is no SQLite database at {sqlite_path} to copy: set DATABASE_PATH to the "
            "file TakeTwo has been using."
        )
    progress = _Progress()
    try:
        return asyncio.run(_copy_everything(sqlite_path, url, report, progress))
    except KeyboardInterrupt as exc:
        raise progress.interrupted(redacted(url)) from exc


async def _copy_everything(
    sqlite_path: Path, url: str, report: Callable[[str], None], progress: _Progress
) -> list[Verified]:
    started = time.perf_counter()
    where = redacted(url)
    await _bring_up_to_date(sqlite_path, url)
    conn = await _connect(url, where)
    try:
        source = Source(sqlite_path)
        try:
            verified = await _copy(source, Target(conn), sqlite_path, where, report, progress)
            changed = source.changed_since_snapshot()
        finally:
            source.close()
        await _prepare_for_reading(conn, report)
    except sqlite3.Error as exc:
        if (problem := sqlite_unusable(sqlite_path, exc)) is not None:
            raise problem from exc
        raise
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise _copy_failed(where, exc) from exc
    finally:
        await _close(conn)
    if changed:
        report(
            f"Note: {sqlite_path} changed while it was copied (is the bot running?). The copy "
            "holds it as it was when migrate began."
        )
    total = sum(v.target_rows for v in verified)
    report(
        f"Done: {total:,} rows copied in {time.perf_counter() - started:.1f} s. Set "
        "DATABASE_URL to that address and start TakeTwo."
    )
    return verified


async def _copy(
    source: Source,
    target: Target,
    sqlite_path: Path,
    where: str,
    report: Callable[[str], None],
    progress: _Progress,
) -> list[Verified]:
    async with target.conn.transaction():
        await target.lock()
        if full := await target.holding():
            raise CopyRefused(
                f"the PostgreSQL database at {where} is not empty ({', '.join(full)} hold "
                "rows): migrate copies into an empty database only. Nothing was copied."
            )
        columns = await target.columns()
        _check_same_tables(source, columns)
        report(f"Copying {sqlite_path} into {where} (rows per table):")
        await target.set_triggers(enabled=False)
        keys = await target.drop_foreign_keys()
        for table in TABLES:
            copied = await _copy_table(source, target, table, columns[table])
            report(f"  {table:<20}{copied:>12,}")
        try:
            await target.add_foreign_keys(keys)
        except asyncpg.ForeignKeyViolationError as exc:
            raise _bad_row(exc.table_name or "?", _said(exc)) from exc
        await target.set_triggers(enabled=True)
        await target.continue_ids()
        verified = await _verify(source, target, columns, report)
        progress.committing = True  # nothing is awaited from here to COMMIT
    progress.committed = True
    return verified


async def _prepare_for_reading(
    conn: asyncpg.Connection[asyncpg.Record], report: Callable[[str], None]
) -> None:
    """After the commit: VACUUM (ANALYZE) gives the planner its statistics and marks every
    copied page all-visible. Without it the first minutes of the bot pay for it instead:
    autovacuum reworks millions of fresh rows while the reads run, and index-only scans
    visit the table. The copy is complete whether or not this finishes."""
    report("Preparing the tables for reading (VACUUM ANALYZE) ...")
    try:
        await conn.execute(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        report(f"Note: VACUUM ANALYZE did not finish ({_said(exc)}); autovacuum will do it.")


async def _copy_table(source: Source, target: Target, table: str, columns: list[Column]) -> int:
    try:
        return await target.copy(table, columns, source.rows(table, columns))
    except (TypeError, ValueError, OverflowError) as exc:  # a value asyncpg cannot send
        row = repr(source.last_row)
        raise _bad_row(table, f"{exc}, in the row {row[:200]}") from exc
    except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as exc:
        raise _bad_row(table, _said(exc)) from exc


def _bad_row(table: str, why: str) -> DatabaseUnusable:
    return DatabaseUnusable(
        f"PostgreSQL cannot take a row of the SQLite table {table} ({why}); nothing was "
        "copied. Fix that row in the SQLite file and run migrate again."
    )


def _said(error: BaseException) -> str:
    """What PostgreSQL said, on one line: its message, detail and where it was."""
    parts = [getattr(error, "message", None) or str(error)]
    parts += [p for p in (getattr(error, "detail", None), getattr(error, "context", None)) if p]
    return " ".join("; ".join(parts).split())


async def _verify(
    source: Source,
    target: Target,
    columns: dict[str, list[Column]],
    report: Callable[[str], None],
) -> list[Verified]:
    report("Verifying (rows, and the sums of every number and every text's length):")
    report(f"  {'table':<20}{'SQLite':>12}{'PostgreSQL':>12}  sums")
    verified = []
    for table in TABLES:
        mine, theirs = source.sums(table, columns[table]), await target.sums(table, columns[table])
        check = Verified(table, mine[0], theirs[0], len(mine) - 1, mine == theirs)
        verified.append(check)
        outcome = "equal" if check.equal else "DIFFER"
        report(
            f"  {table:<20}{check.source_rows:>12,}{check.target_rows:>12,}  {check.sums} {outcome}"
        )
    differ = [v.table for v in verified if not v.equal]
    if differ:
        raise CopyNotVerified(f"the copy of {', '.join(differ)} differs from the SQLite database")
    for name, (kept, implied) in AGGREGATES.items():
        wrong = await target.disagreements(kept, implied)
        if wrong and source.disagreements(kept, implied):
            raise DatabaseUnusable(
                f"the SQLite database's {name} disagree with its rows ({wrong:,} rows differ), "
                "which TakeTwo's own writes never leave behind: was the file edited by hand? "
                "Nothing was copied."
            )
        if wrong:
            raise CopyNotVerified(f"the copy's {name} disagree with its rows ({wrong:,} rows)")
        report(f"  {name}: as the rows add up")
    return verified


def _copy_failed(where: str, error: BaseException) -> Exception:
    """The operator's line for an error during the copy, which was rolled back."""
    kind = storage_failure(error)
    if kind is Storage.GONE or kind is Storage.BUSY:
        # Ending the transaction on a lost connection fails too; what happened first says why.
        first, seen = error, {id(error)}
        while first.__context__ is not None and id(first.__context__) not in seen:
            first = first.__context__
            seen.add(id(first))
        return DatabaseBusy(
            f"the copy into {where} stopped ({_said(first) or type(first).__name__}); nothing "
            "of it was kept: run migrate again."
        )
    return unusable(where, error) or DatabaseUnusable(
        f"the copy into {where} failed ({_said(error)}); it was rolled back."
    )
