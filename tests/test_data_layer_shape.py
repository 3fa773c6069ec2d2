"""The data layer's rules, checked rather than remembered: the lookup session (used on the
event loop's own thread) offers only queries bounded by their answer, a read session cannot
write, and nothing outside bot/db/sqlite knows which engine keeps the data."""

from __future__ import annotations

import ast
import inspect
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from bot.db import Database, interface
from bot.db.sqlite.connections import Params, Statement
from bot.db.sqlite.database import SQLiteDatabase
from bot.db.sqlite.ratings import summaries_query
from bot.db.sqlite.sessions import SQLiteLookupSession, SQLiteReadSession

ROOT = Path(__file__).resolve().parent.parent
GUILD = 500


class CountingConnection:
    """A read-only connection that counts the steps SQLite's engine takes for each query:
    a query bounded by its answer takes as many steps on a big database as on a small one.
    The count does not see inside the full-text index (its own B-tree reads), so a trigram
    match is bounded by the LIMIT its statement puts on the rows it returns."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA query_only = ON")
        self.steps = 0

        def count() -> int:
            self.steps += 1
            return 0  # go on

        self.conn.set_progress_handler(count, 1)

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    async def run_in_one_trip(self, statements: Sequence[Statement]) -> list[list[sqlite3.Row]]:
        return [self.conn.execute(sql, params).fetchall() for sql, params in statements]


def protocol_methods(protocol: type) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(protocol)
        if not name.startswith("_") and inspect.iscoroutinefunction(member)
    }


LOOKUP_CALLS: dict[str, dict[str, list[tuple[Any, ...]]]] = {
    "videos": {
        "get": [(1,)],
        "get_by_slug": [("kendrick-lamar-humble",)],
        "page": [(GUILD, 1, 7)],
        "credits": [(1,)],
        "sources": [(1,)],
        "credits_and_sources": [(1,)],
        "reviews": [(1,)],
        # A prefix, a phrase, words in any order, and short words that hold back a match.
        "search_as_typed": [("extra video",), ("video 1",), ("someone extra",), ("extra zq",)],
        "resolve_exactly": [("Alright",), ("extra video 5",)],
        "same_title_and_artist": [("Alright", "Kendrick Lamar")],
        "many": [([1, 2, 99_999],)],
    },
    "ratings": {
        "summary": [(GUILD, 1)],
        "member_score": [(GUILD, 1, 7)],
        "server_mean": [(GUILD,)],
    },
    "takes": {
        "get": [(1,)],
        "in_guild": [(GUILD, 1)],
        "of_member": [(GUILD, 1, 7)],
        "count": [(GUILD, 1)],
    },
    "quotes": {
        "get": [(1,)],
        "in_guild": [(GUILD, 1)],
        "of_message": [(GUILD, 7, "https://discord.com/channels/1/2/3")],
        "random": [(GUILD,), (GUILD, 1)],
        "count": [(GUILD,), (GUILD, 1)],
    },
    "members": {"no_quotes": [(GUILD, 7)], "hides_ratings": [(GUILD, 7)]},
    # Member 1 rates every video grow() adds: past PROFILE_LOOKUP_MOST, the lookup says so
    # without reading the profile.
    "profiles": {"profile_of_few": [(GUILD, 7), (GUILD, 1)]},
}


async def steps_of_each_lookup(path: Path) -> dict[str, int]:
    conn = CountingConnection(path)
    session = SQLiteLookupSession(conn, conn)
    steps: dict[str, int] = {}
    try:
        for family, calls in LOOKUP_CALLS.items():
            for method, arg_sets in calls.items():
                for args in arg_sets:
                    conn.steps = 0
                    await getattr(getattr(session, family), method)(*args)
                    steps[f"{family}.{method}{args}"] = conn.steps
        # The group commit's answers (its own statement, not a lookup), bounded as well.
        conn.steps = 0
        await conn.fetchall(*summaries_query({(GUILD, 1), (GUILD, 2)}))
        steps["ratings: the group commit's aggregates"] = conn.steps
        conn.steps = 0
        # A ranking is no lookup: it is read off the loop, and must show up as growing.
        await SQLiteReadSession(conn).ratings.top(GUILD, 10)
        steps["ratings.top (a read)"] = conn.steps
    finally:
        conn.conn.close()
    return steps


def grow(path: Path, n: int) -> None:
    """What a busy community piles up, n of each: videos by one artist with credits,
    sources and reviews, each rated by three members and quoted in the server; ratings,
    takes and quotes on video 1; members' privacy choices."""
    with closing(sqlite3.connect(path)) as conn, conn:
        first = conn.execute("SELECT max(id) + 1 FROM videos").fetchone()[0]
        new = range(first, first + n)
        conn.executemany(
            "INSERT INTO videos (id, slug, title, artist, search_title, search_text) "
            "VALUES (?, ?, ?, 'Someone', ?, ?)",
            [(v, f"extra-{v}", f"Extra video {v}", f"extra video {v}", f"extra video {v} someone")
             for v in new],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO credits (video_id, position, role, name, kind) "
            "VALUES (?, 0, 'Director', 'Someone Else', 'video')",
            [(v,) for v in new],
        )
        conn.executemany(
            "INSERT INTO video_sources (video_id, position, url) VALUES (?, 0, ?)",
            [(v, f"https://example.com/{v}") for v in new],
        )
        conn.executemany(
            "INSERT INTO press_reviews (video_id, position, headline, summary) "
            "VALUES (?, 0, 'A headline', 'A summary')",
            [(v,) for v in new],
        )
        members = [first * 10_000 + u for u in range(n)]
        conn.executemany(
            "INSERT INTO ratings (guild_id, video_id, user_id, score, rated_at) "
            "VALUES (?, ?, ?, 7, 0)",
            [(GUILD, v, u) for v in new for u in (1, 2, 3)] + [(GUILD, 1, m) for m in members],
        )
        conn.executemany(
            "INSERT INTO takes (guild_id, video_id, user_id, score, text, created_at, "
            "updated_at) VALUES (?, 1, ?, 5, 'so so', 0, 0)",
            [(GUILD, m) for m in members],
        )
        conn.executemany(
            "INSERT INTO member_settings (guild_id, user_id, no_quotes) VALUES (?, ?, 1)",
            [(GUILD, m) for m in members],
        )
        slot, video_slot = conn.execute(
            "SELECT coalesce(max(slot), 0), "
            "(SELECT coalesce(max(video_slot), 0) FROM quotes WHERE guild_id = ? AND video_id = 1) "
            "FROM quotes WHERE guild_id = ?",
            (GUILD, GUILD),
        ).fetchone()
        conn.executemany(
            "INSERT INTO quotes (guild_id, video_id, text, author_id, created_at, slot, "
            "video_slot) VALUES (?, ?, 'words', 7, 0, ?, ?)",
            [(GUILD, v, slot + 1 + i, 1) for i, v in enumerate(new)]
            + [(GUILD, 1, slot + n + 1 + i, video_slot + 1 + i) for i in range(n)],
        )


async def test_every_lookup_costs_the_same_on_twenty_times_more_data(
    catalog_db: SQLiteDatabase,
) -> None:
    await catalog_db.rate(guild_id=GUILD, video_id=1, user_id=7, score=8, rated_at=0)
    await catalog_db.save_take(guild_id=GUILD, video_id=1, user_id=8, score=6, text="Hm", now=0)
    async with catalog_db.transaction() as tx:
        await tx.quotes.add(guild_id=GUILD, text="Said", video_id=1, author_id=7, created_at=0)
        await tx.members.set_no_quotes(GUILD, 9, True)
    grow(catalog_db.path, 150)
    small = await steps_of_each_lookup(catalog_db.path)
    grow(catalog_db.path, 3000)
    big = await steps_of_each_lookup(catalog_db.path)
    # A deeper index costs a few steps more; a scan costs a hundred times more.
    grew = {name: (small[name], big[name]) for name in small if big[name] > 1.5 * small[name] + 50}
    assert grew == {"ratings.top (a read)": grew["ratings.top (a read)"]}, grew


def test_the_lookup_calls_above_cover_the_whole_lookup_interface() -> None:
    families = {
        "videos": interface.VideoLookups,
        "ratings": interface.RatingLookups,
        "takes": interface.TakeLookups,
        "quotes": interface.QuoteLookups,
        "members": interface.MemberLookups,
        "profiles": interface.ProfileLookups,
    }
    assert {f: protocol_methods(p) for f, p in families.items()} == {
        f: set(calls) - BACKEND_HELPERS.get(f, set()) for f, calls in LOOKUP_CALLS.items()
    }


# Bounded helpers the SQLite lookup tier offers beyond the interface: videos by many ids (the
# coalesced gets). The cost test covers them too.
BACKEND_HELPERS = {"videos": {"many"}}


async def test_the_sqlite_lookup_session_offers_nothing_else(db: SQLiteDatabase) -> None:
    async with db.lookup() as session:
        offered = {
            family: protocol_methods(type(getattr(session, family))) for family in LOOKUP_CALLS
        }
    assert offered == {
        family: set(calls) | BACKEND_HELPERS.get(family, set())
        for family, calls in LOOKUP_CALLS.items()
    }


async def assert_lookups_hold_no_scans_and_reads_no_writes(db: Database) -> None:
    """What the interface promises of any engine's sessions (the PostgreSQL tests call it
    too)."""
    async with db.lookup() as lookup:
        for family, scan in [
            ("takes", "page"),
            ("ratings", "top"),
            ("videos", "count"),
            ("videos", "near_misses"),
            ("videos", "resolve_by_search"),
            ("quotes", "catalog_quotes"),
            ("profiles", "profile"),
            ("profiles", "shared"),
        ]:
            with pytest.raises(AttributeError):
                getattr(getattr(lookup, family), scan)
        assert not hasattr(lookup, "daily") and not hasattr(lookup, "exports")
    async with db.read() as read:
        for family, write in [
            ("videos", "upsert"),
            ("quotes", "add"),
            ("takes", "agree"),
            ("daily", "record_post"),
            ("members", "forget"),
            ("setup", "record_catalog_decision"),
        ]:
            with pytest.raises(AttributeError):
                getattr(getattr(read, family), write)


async def test_a_lookup_session_has_no_scans_and_a_read_session_no_writes(
    db: SQLiteDatabase,
) -> None:
    async with db.lookup() as lookup:
        assert isinstance(lookup, SQLiteLookupSession)
    async with db.read() as read:
        assert isinstance(read, SQLiteReadSession)
        # The connection refuses a write even if one were attempted.
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await read.videos._conn.fetchall("DELETE FROM videos")
    await assert_lookups_hold_no_scans_and_reads_no_writes(db)


async def test_every_connection_keeps_temporary_btrees_in_memory(db: SQLiteDatabase) -> None:
    """A profile's statement sorts and groups in several temporary b-trees; kept in a
    temporary file (SQLite's default) they cost five times its reads."""
    memory = 2  # PRAGMA temp_store: 0 default (a file), 1 file, 2 memory
    async with db.lookup() as lookup:
        [[found]] = await lookup.videos._conn.fetchall("PRAGMA temp_store")
        assert found == memory
    async with db.read() as read:
        [[found]] = await read.videos._conn.fetchall("PRAGMA temp_store")
        assert found == memory
    async with db.transaction() as tx:
        [[found]] = await tx.videos._writer.fetchall("PRAGMA temp_store")
        assert found == memory


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


# Only these choose the engine: startup builds the database the settings ask for, the
# backup command copies SQLite's file, and migrate copies it into PostgreSQL.
ENGINE_CHOOSERS = {
    ROOT / "bot" / "startup.py",
    ROOT / "bot" / "admin.py",
    ROOT / "bot" / "db" / "postgres" / "from_sqlite.py",
}


def test_nothing_outside_the_sqlite_backend_knows_sqlite() -> None:
    for path in [*(ROOT / "cogs").glob("*.py"), *(ROOT / "bot").rglob("*.py")]:
        if path.is_relative_to(ROOT / "bot" / "db" / "sqlite") or path in ENGINE_CHOOSERS:
            continue
        found = {m for m in imports(path) if m.split(".")[0] in ("sqlite3", "aiosqlite")}
        found |= {m for m in imports(path) if m.startswith("bot.db.sqlite")}
        assert not found, f"{path.relative_to(ROOT)} imports {found}"
