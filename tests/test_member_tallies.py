"""Tallies of a heavy rater's favourite people (SQLite migration 0016, PostgreSQL 0008).

A member with more than TALLIED_PAST ratings in a server has, per director and artist of
the videos they rated, how many of those videos they rated and the sum of the scores, kept by
triggers as ratings, credits and artists change. /profile reads them instead of every rating.
Each step below checks the stored tallies against what the ratings imply (the query the copy
to PostgreSQL verifies them with), and the member's profile against favourites worked out
here in Python from the stored rows.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import defaultdict
from contextlib import closing
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import pytest

from bot.db import Database
from bot.db.models import (
    FAVOURITE_MIN_VIDEOS,
    FAVOURITES,
    TALLIED_PAST,
    Credit,
    MemberProfile,
    PersonScore,
)
from bot.db.postgres.database import PostgresDatabase
from bot.db.postgres.from_sqlite import AGGREGATES
from bot.db.sqlite.database import SQLiteDatabase
from bot.db.sqlite.migrations import MIGRATIONS_DIR, migrate
from tests import raw

GUILD, OTHER_GUILD = 7, 8
HEAVY, LIGHT = 41, 42
_KEPT, _IMPLIED = AGGREGATES["member_people (favourite people of members past the bound)"]
_COUNTS_KEPT, _COUNTS_IMPLIED = AGGREGATES["member_rating_counts (ratings per member)"]
_TALLIED_KEPT, _TALLIED_IMPLIED = AGGREGATES["tallied_members (members past the bound)"]


async def catalog(db: Database, count: int) -> list[int]:
    """Videos by nine artists; each directed by one of thirteen people, every fifth by a
    second one too (credited as "director" in lower case), every seventh crediting its
    director twice, and every video with a song credit that is no director."""
    ids = []
    async with db.transaction() as tx:
        for n in range(count):
            video = await tx.videos.upsert(
                slug=f"v-{n}", title=f"Video {n}", artist=f"Artist {n % 9}", album=None,
                year=2000, url=None,
            )  # fmt: skip
            credits = [Credit("Director", f"Director {n % 13}")]
            if n % 5 == 0:
                credits.append(Credit("director", f"Second {n % 4}"))
            if n % 7 == 0:
                credits.append(Credit("Director", f"Director {n % 13}"))
            credits.append(Credit("Director", f"Singer {n % 3}", "song"))
            await tx.videos.replace_credits(video, credits)
            ids.append(video)
    return ids


async def rate(db: Database, videos: list[int], member: int = HEAVY, shift: int = 0) -> None:
    for n, video in enumerate(videos):
        await db.rate(
            guild_id=GUILD, video_id=video, user_id=member, score=(n + shift) % 10 + 1,
            rated_at=n,
        )  # fmt: skip


async def tallies(db: Database, member: int = HEAVY) -> list[tuple[Any, ...]]:
    return sorted(row for row in await raw.rows(db, _KEPT) if (row[0], row[1]) == (GUILD, member))


async def assert_tallies_add_up(db: Database) -> None:
    """Every stored tally (and count) is what the ratings imply, and nothing more."""
    assert sorted(await raw.rows(db, _KEPT)) == sorted(await raw.rows(db, _IMPLIED))
    assert sorted(await raw.rows(db, _COUNTS_KEPT)) == sorted(await raw.rows(db, _COUNTS_IMPLIED))
    assert sorted(await raw.rows(db, _TALLIED_KEPT)) == sorted(await raw.rows(db, _TALLIED_IMPLIED))


async def worked_out(db: Database, member: int) -> tuple[list[PersonScore], list[PersonScore]]:
    """The member's favourite directors and artists from the stored rows, in Python."""
    scores = dict(
        await raw.rows(
            db, "SELECT video_id, score FROM ratings WHERE guild_id = ? AND user_id = ?",
            GUILD, member,
        )
    )  # fmt: skip
    people: dict[str, dict[str, set[int]]] = {
        "director": defaultdict(set),
        "artist": defaultdict(set),
    }
    for video, role, name, kind in await raw.rows(
        db, "SELECT video_id, role, name, kind FROM credits"
    ):
        if video in scores and kind == "video" and role.lower() == "director":
            people["director"][name].add(video)
    for video, artist in await raw.rows(db, "SELECT id, artist FROM videos"):
        if video in scores:
            people["artist"][artist].add(video)
    favourites = []
    for role in ("director", "artist"):
        ranked = [
            PersonScore(name, len(videos), sum(scores[v] for v in videos) / len(videos))
            for name, videos in people[role].items()
            if len(videos) >= FAVOURITE_MIN_VIDEOS
        ]
        ranked.sort(key=lambda p: (-p.mean, -p.videos, p.name.encode("utf-8")))
        favourites.append(ranked[:FAVOURITES])
    return favourites[0], favourites[1]


async def profile(db: Database, member: int = HEAVY) -> MemberProfile:
    async with db.read() as session:
        return await session.profiles.profile(GUILD, member)


async def assert_profile_as_worked_out(db: Database, member: int = HEAVY) -> None:
    found = await profile(db, member)
    directors, artists = await worked_out(db, member)
    assert found.favourite_directors == directors
    assert found.favourite_artists == artists
    assert found.favourite_directors and found.favourite_artists


async def test_tallies_start_past_the_bound_and_follow_every_change(db: Database) -> None:
    videos = await catalog(db, TALLIED_PAST + 12)
    await rate(db, videos[:TALLIED_PAST])
    await rate(db, videos[:30], member=LIGHT, shift=3)
    # At the bound: counted from the ratings, nothing tallied.
    assert await tallies(db) == []
    await assert_tallies_add_up(db)
    await assert_profile_as_worked_out(db)
    # One past it: every rating is tallied, this one included.
    await rate(db, videos[TALLIED_PAST : TALLIED_PAST + 1], shift=TALLIED_PAST)
    assert len(await tallies(db)) > 13
    assert await tallies(db, LIGHT) == []
    await assert_tallies_add_up(db)
    await assert_profile_as_worked_out(db)
    # Later ratings, a changed score, the same score again, a rating in another server.
    await rate(db, videos[TALLIED_PAST + 1 : TALLIED_PAST + 8], shift=5)
    for score in (1, 1, 10):
        await db.rate(guild_id=GUILD, video_id=videos[5], user_id=HEAVY, score=score, rated_at=9)
    await db.rate(guild_id=OTHER_GUILD, video_id=videos[6], user_id=HEAVY, score=2, rated_at=9)
    await assert_tallies_add_up(db)
    await assert_profile_as_worked_out(db)
    # A rated video's directors replaced: one gone, one new, one credited twice, a song's.
    async with db.transaction() as tx:
        await tx.videos.replace_credits(
            videos[10],
            [
                Credit("Director", "Newcomer"),
                Credit("DIRECTOR", "Newcomer"),
                Credit("Director", "Director 3"),
                Credit("Director", "Director 10", "song"),
            ],
        )
        await tx.videos.replace_credits(videos[11], [])
    await assert_tallies_add_up(db)
    await assert_profile_as_worked_out(db)
    # A rated video's artist edited (and a video edited without a new artist).
    async with db.transaction() as tx:
        for n, artist in [(12, "Artist 4"), (13, "Somebody New"), (14, "Artist 5")]:
            await tx.videos.upsert(
                slug=f"v-{n}", title=f"Video {n}", artist=artist, album="An album", year=2001,
                url=None,
            )  # fmt: skip
    await assert_tallies_add_up(db)
    await assert_profile_as_worked_out(db)
    # A takes' rating counts as a rating.
    await db.save_take(
        guild_id=GUILD, video_id=videos[-1], user_id=HEAVY, score=10, text="Yes.", now=50
    )
    await assert_tallies_add_up(db)
    # Removed videos: back to the bound, the tallies go; one more, and they are back.
    rated = await raw.value(
        db, "SELECT count(*) FROM ratings WHERE guild_id = ? AND user_id = ?", GUILD, HEAVY
    )
    async with db.transaction() as tx:
        for video in videos[: rated - TALLIED_PAST]:
            await tx.videos.remove_everywhere(video)
    assert await tallies(db) == []
    await assert_tallies_add_up(db)
    await assert_profile_as_worked_out(db)
    async with db.transaction() as tx:
        again = await tx.videos.upsert(
            slug="again", title="Again", artist="Artist 1", album=None, year=None, url=None
        )
    await rate(db, [again], shift=9)
    assert await tallies(db) != []
    await assert_tallies_add_up(db)
    await assert_profile_as_worked_out(db)
    # Forget-me takes every rating, every count and every tally of the member.
    async with db.transaction() as tx:
        await tx.members.forget(GUILD, HEAVY)
    assert await tallies(db) == []
    await assert_tallies_add_up(db)
    assert (
        await raw.rows(
            db,
            "SELECT * FROM member_rating_counts WHERE guild_id = ? AND user_id = ?",
            GUILD,
            HEAVY,
        )
        == []
    )
    assert (await profile(db)).favourite_artists == []


async def execute(db: Database, sql: str, *args: object) -> None:
    """A statement run straight on the engine, as another program would."""
    if isinstance(db, SQLiteDatabase):
        with closing(sqlite3.connect(db.path)) as file, file:
            file.execute(sql, args)
        return
    assert isinstance(db, PostgresDatabase)
    server = await asyncpg.connect(db.url)
    try:
        await server.execute(raw._numbered(sql), *args)
    finally:
        await server.close()


async def test_a_credit_is_replaced_never_edited(db: Database) -> None:
    [video] = await catalog(db, 1)
    for edit in ("name = 'Someone Else'", "role = 'Producer'", "kind = 'song'"):
        with pytest.raises(Exception, match="replaced"):
            await execute(db, f"UPDATE credits SET {edit} WHERE video_id = ?", video)
    # Its folded form is no tally's business.
    await execute(db, "UPDATE credits SET search_name = 'x' WHERE video_id = ?", video)
    assert {row[0] for row in await raw.rows(db, "SELECT search_name FROM credits")} == {"x"}


@pytest.mark.sqlite_only
async def test_migration_tallies_members_already_past_the_bound(tmp_path: Path) -> None:
    """A database from before migration 0016 gets its heavy raters' tallies at once."""
    path = tmp_path / "before.sqlite3"
    earlier = tmp_path / "migrations"
    earlier.mkdir()
    for migration in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if int(migration.name[:4]) < 16:
            (earlier / migration.name).write_text(migration.read_text())
    async with aiosqlite.connect(path, isolation_level=None) as runner:
        await migrate(runner, earlier)
    with closing(sqlite3.connect(path)) as file, file:
        file.executemany(
            "INSERT INTO videos (id, slug, title, artist, search_title, search_text) "
            "VALUES (?, ?, ?, ?, '', '')",
            [(n, f"v{n}", f"V{n}", f"Artist {n % 4}") for n in range(1, 260)],
        )
        file.executemany(
            "INSERT INTO credits (video_id, position, role, name) VALUES (?, 0, 'Director', ?)",
            [(n, f"Director {n % 6}") for n in range(1, 260)],
        )
        file.executemany(
            "INSERT INTO ratings (guild_id, user_id, video_id, score, rated_at) "
            "VALUES (?, ?, ?, ?, 0)",
            [(GUILD, HEAVY, n, n % 10 + 1) for n in range(1, 230)]
            + [(GUILD, LIGHT, n, 5) for n in range(1, 40)],
        )
    async with aiosqlite.connect(path, isolation_level=None) as runner:
        assert await migrate(runner) == 15
    with closing(sqlite3.connect(path)) as file:
        kept = sorted(file.execute(_KEPT).fetchall())
        assert kept == sorted(file.execute(_IMPLIED).fetchall())
        assert {(g, u) for g, u, *_ in kept} == {(GUILD, HEAVY)}
        # Director 1 directs videos 1, 7, ..., 229 among those rated: 39 of them.
        assert kept[[row[3] for row in kept].index("Director 1")][:5] == (
            GUILD,
            HEAVY,
            "director",
            "Director 1",
            39,
        )


def rating_upsert(rows: list[tuple[int, int, int, int]]) -> str:
    """One statement writing every (guild, user, video, score), as a group commit does: new
    ratings, and new scores of ratings already there."""
    values = ", ".join(f"({g}, {u}, {v}, {s}, 0)" for g, u, v, s in rows)
    return (
        f"INSERT INTO ratings (guild_id, user_id, video_id, score, rated_at) VALUES {values} "
        "ON CONFLICT (guild_id, user_id, video_id) DO UPDATE SET score = excluded.score"
    )


async def test_a_statement_of_many_ratings_keeps_them_exact(db: Database) -> None:
    """As a group commit writes them: several ratings of one member in one statement, one
    that crosses the bound, new scores beside new ratings, and deletions in one statement."""
    videos = await catalog(db, TALLIED_PAST + 30)
    await execute(db, rating_upsert([(GUILD, HEAVY, v, 5) for v in videos[:150]]))
    await assert_tallies_add_up(db)
    # Crossing within one statement, with changed scores of earlier ratings in it too.
    crossing = [(GUILD, HEAVY, v, 9) for v in videos[140:210]] + [(GUILD, LIGHT, videos[0], 2)]
    await execute(db, rating_upsert(crossing))
    assert await tallies(db) != []
    await assert_tallies_add_up(db)
    await assert_profile_as_worked_out(db)
    # Past it: more ratings and changed scores in one statement.
    more = [(GUILD, HEAVY, v, n % 10 + 1) for n, v in enumerate(videos[100:230])]
    await execute(db, rating_upsert(more))
    await assert_tallies_add_up(db)
    await assert_profile_as_worked_out(db)
    # Deletions in one statement that stay past the bound, then one that goes back to it.
    await execute(
        db,
        "DELETE FROM ratings WHERE guild_id = ? AND user_id = ? AND video_id IN "
        f"({', '.join(str(v) for v in videos[:5])})",
        GUILD, HEAVY,
    )  # fmt: skip
    assert await tallies(db) != []
    await assert_tallies_add_up(db)
    await execute(
        db,
        "DELETE FROM ratings WHERE guild_id = ? AND user_id = ? AND video_id IN "
        f"({', '.join(str(v) for v in videos[5:40])})",
        GUILD, HEAVY,
    )  # fmt: skip
    assert await tallies(db) == []
    await assert_tallies_add_up(db)
    await assert_profile_as_worked_out(db)


async def test_a_profile_past_the_bound_reads_the_tallies(db: Database) -> None:
    """The tallies are what the profile shows (changed by hand here, which TakeTwo never
    does): the profile of a member past the bound does not count their ratings again."""
    videos = await catalog(db, TALLIED_PAST + 1)
    await rate(db, videos)
    [best] = [p.name for p in (await profile(db)).favourite_artists[:1]]
    other = "Artist 0" if best != "Artist 0" else "Artist 1"
    await execute(
        db, "UPDATE member_people SET total = videos * 10 WHERE role = 'artist' AND name = ?", other
    )
    shown = (await profile(db)).favourite_artists
    assert shown[0].name == other and shown[0].mean == 10


async def test_two_transactions_removing_one_members_ratings_take_turns(
    pg: PostgresDatabase,
) -> None:
    """PostgreSQL, where several processes write at once: two removals, each taking a member
    from 202 ratings toward the bound. The second waits for the first (the member's count
    row), then, at 200, drops the tallies; deciding from what it read before waiting, each
    would have kept them."""
    db = pg
    videos = await catalog(db, TALLIED_PAST + 2)
    await rate(db, videos)
    first, second = await asyncpg.connect(db.url), await asyncpg.connect(db.url)
    try:
        await first.execute("BEGIN")
        await first.execute(
            "DELETE FROM ratings WHERE guild_id = $1 AND user_id = $2 AND video_id = $3",
            GUILD, HEAVY, videos[0],
        )  # fmt: skip
        await second.execute("BEGIN")
        waiting = asyncio.ensure_future(
            second.execute(
                "DELETE FROM ratings WHERE guild_id = $1 AND user_id = $2 AND video_id = $3",
                GUILD,
                HEAVY,
                videos[1],
            )
        )
        await asyncio.sleep(0.3)
        assert not waiting.done()  # the member's count row is the first's until it commits
        await first.execute("COMMIT")
        await asyncio.wait_for(waiting, 10)
        await second.execute("COMMIT")
    finally:
        await first.close()
        await second.close()
    assert await tallies(db) == []
    await assert_tallies_add_up(db)
    # And the next rating takes the member past the bound again, from all their ratings.
    await rate(db, videos[:1], shift=3)
    await assert_tallies_add_up(db)
    await assert_profile_as_worked_out(db)


@pytest.mark.sqlite_only
async def test_a_videos_tallied_raters_are_found_without_reading_every_rating(
    db: Database,
) -> None:
    """A credit or artist change reads its video's ratings by tallied members (the view the
    triggers use): one lookup per tallied member, also in a database never analysed."""
    assert isinstance(db, SQLiteDatabase)
    with closing(sqlite3.connect(db.path)) as file:
        plan = [
            str(row[3])
            for row in file.execute(
                "EXPLAIN QUERY PLAN SELECT guild_id, user_id, score FROM tallied_ratings "
                "WHERE video_id = 5"
            )
        ]
    assert plan[0].startswith("SCAN m")
    assert plan[1].startswith(
        "SEARCH r USING PRIMARY KEY (guild_id=? AND user_id=? AND video_id=?)"
    )
