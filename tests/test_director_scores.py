"""Each server's tallies of each director's ratings (SQLite migration 0017, PostgreSQL 0010).

Per server and director: how many of the server's rated videos credit them, and those
videos' ratings and their sum, kept by triggers from the server's video scores as ratings
and credits change. /top by directors reads them instead of every rated video (/top by
artists still counts each video's artist). Each step below checks the stored tallies against
what the ratings imply (the query the copy to PostgreSQL verifies them with), and both
rankings against one worked out here in Python from the stored rows.
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
    MIN_RATINGS,
    NEUTRAL_MEAN,
    PRIOR_WEIGHT,
    Credit,
    PeopleTopList,
    RankedPerson,
)
from bot.db.postgres.database import PostgresDatabase
from bot.db.postgres.from_sqlite import AGGREGATES
from bot.db.sqlite.database import SQLiteDatabase
from bot.db.sqlite.migrations import MIGRATIONS_DIR, migrate
from tests import raw
from tests.test_member_tallies import execute, rating_upsert

GUILD, OTHER_GUILD = 7, 8
_KEPT, _IMPLIED = AGGREGATES["director_scores (ratings per server and director)"]


async def catalog(db: Database, count: int) -> list[int]:
    """Videos by five artists; each directed by one of seven people, every third by a
    second one too ("director" in lower case), every fourth crediting its director twice,
    and every video with a song credit that is no director."""
    ids = []
    async with db.transaction() as tx:
        for n in range(count):
            video = await tx.videos.upsert(
                slug=f"v-{n}", title=f"Video {n}", artist=f"Artist {n % 5}", album=None,
                year=2000, url=None,
            )  # fmt: skip
            credits = [Credit("Director", f"Director {n % 7}")]
            if n % 3 == 0:
                credits.append(Credit("director", f"Second {n % 2}"))
            if n % 4 == 0:
                credits.append(Credit("Director", f"Director {n % 7}"))
            credits.append(Credit("Director", f"Singer {n % 3}", "song"))
            await tx.videos.replace_credits(video, credits)
            ids.append(video)
    return ids


async def assert_tallies_add_up(db: Database) -> None:
    """Every stored tally is what the ratings imply, and nothing more."""
    kept = sorted(await raw.rows(db, _KEPT))
    assert kept == sorted(await raw.rows(db, _IMPLIED))


async def worked_out(db: Database, guild: int, role: str) -> PeopleTopList:
    """/top by: for the server, from the stored ratings and credits, in Python."""
    ratings: dict[int, list[int]] = defaultdict(list)
    for video, score in await raw.rows(
        db, "SELECT video_id, score FROM ratings WHERE guild_id = ?", guild
    ):
        ratings[video].append(score)
    videos: dict[str, set[int]] = defaultdict(set)
    if role == "directors":
        for video, credited, name, kind in await raw.rows(
            db, "SELECT video_id, role, name, kind FROM credits"
        ):
            if video in ratings and kind == "video" and credited.lower() == "director":
                videos[name].add(video)
    else:
        for video, artist in await raw.rows(db, "SELECT id, artist FROM videos"):
            if video in ratings:
                videos[artist].add(video)
    every = [score for scores in ratings.values() for score in scores]
    prior = sum(every) / len(every) if every else NEUTRAL_MEAN
    ranked = []
    for name, theirs in videos.items():
        scores = [score for video in theirs for score in ratings[video]]
        if len(scores) < MIN_RATINGS:
            continue
        weighted = (PRIOR_WEIGHT * prior + sum(scores)) / (PRIOR_WEIGHT + len(scores))
        ranked.append(
            RankedPerson(name, len(theirs), len(scores), sum(scores) / len(scores), weighted)
        )
    ranked.sort(key=lambda p: (-p.weighted, -p.count, p.name.encode("utf-8")))
    return PeopleTopList(role, ranked[:25], prior, PRIOR_WEIGHT, MIN_RATINGS)


async def top(db: Database, guild: int, role: str) -> PeopleTopList:
    async with db.read() as session:
        return await session.people.top(guild, role, 25)


def _rounded(ranking: PeopleTopList) -> tuple[Any, ...]:
    return (
        ranking.role,
        [
            (p.name, p.videos, p.count, round(p.mean, 9), round(p.weighted, 9))
            for p in ranking.entries
        ],
        round(ranking.prior_mean, 9),
        ranking.prior_weight,
        ranking.min_ratings,
    )


async def assert_top_as_worked_out(db: Database) -> None:
    for guild in (GUILD, OTHER_GUILD):
        for role in ("directors", "artists"):
            expected = await worked_out(db, guild, role)
            assert _rounded(await top(db, guild, role)) == _rounded(expected)


async def rate(db: Database, guild: int, member: int, videos: list[int], shift: int = 0) -> None:
    for n, video in enumerate(videos):
        await db.rate(
            guild_id=guild, video_id=video, user_id=member, score=(n * 3 + shift) % 10 + 1,
            rated_at=n,
        )  # fmt: skip


async def test_tallies_follow_every_change(db: Database) -> None:
    videos = await catalog(db, 40)
    await assert_tallies_add_up(db)
    assert await raw.rows(db, _KEPT) == []
    # First ratings of videos, more ratings of them, two servers, several members.
    for member in (1, 2, 3):
        await rate(db, GUILD, member, videos[: 10 + member * 5], shift=member)
    await rate(db, OTHER_GUILD, 1, videos[20:], shift=4)
    await assert_tallies_add_up(db)
    await assert_top_as_worked_out(db)
    assert (await top(db, GUILD, "directors")).entries
    assert (await top(db, OTHER_GUILD, "artists")).entries
    # A changed score, the same score again, a take's rating.
    for score in (2, 2, 9):
        await db.rate(guild_id=GUILD, video_id=videos[3], user_id=2, score=score, rated_at=5)
    await db.save_take(guild_id=GUILD, video_id=videos[30], user_id=4, score=8, text="Yes.", now=9)
    await assert_tallies_add_up(db)
    await assert_top_as_worked_out(db)
    # A rating removed, and a video's last rating in a server removed.
    await execute(
        db, "DELETE FROM ratings WHERE guild_id = ? AND video_id = ? AND user_id = ?",
        GUILD, videos[3], 1,
    )  # fmt: skip
    await execute(db, "DELETE FROM ratings WHERE guild_id = ? AND video_id = ?", GUILD, videos[4])
    await assert_tallies_add_up(db)
    await assert_top_as_worked_out(db)
    # Directors replaced on a video both servers rated: one gone, one new, one credited
    # twice, a song's; and every credit of another removed.
    async with db.transaction() as tx:
        await tx.videos.replace_credits(
            videos[21],
            [
                Credit("Director", "Newcomer"),
                Credit("DIRECTOR", "Newcomer"),
                Credit("Director", "Director 3"),
                Credit("Director", "Director 0", "song"),
            ],
        )
        await tx.videos.replace_credits(videos[22], [])
    await assert_tallies_add_up(db)
    await assert_top_as_worked_out(db)
    # Artists edited (one to a new name, one to another's), and an edit keeping the artist.
    async with db.transaction() as tx:
        for n, artist in [(12, "Artist 4"), (23, "Somebody New"), (24, "Artist 4")]:
            await tx.videos.upsert(
                slug=f"v-{n}", title=f"Video {n}", artist=artist, album="An album", year=2001,
                url=None,
            )  # fmt: skip
    await assert_tallies_add_up(db)
    await assert_top_as_worked_out(db)
    # A video removed everywhere, and a member forgotten.
    async with db.transaction() as tx:
        await tx.videos.remove_everywhere(videos[0])
        await tx.members.forget(GUILD, 3)
    await assert_tallies_add_up(db)
    await assert_top_as_worked_out(db)
    # Every rating gone: no tallies left, and an empty ranking at the neutral prior.
    await execute(db, "DELETE FROM ratings")
    assert await raw.rows(db, _KEPT) == []
    ranking = await top(db, GUILD, "directors")
    assert ranking.entries == [] and ranking.prior_mean == NEUTRAL_MEAN


async def test_a_statement_of_many_ratings_keeps_them_exact(db: Database) -> None:
    """As a group commit writes them: ratings of several videos and servers in one statement,
    new ones beside changed scores, then deletions in one statement."""
    videos = await catalog(db, 30)
    rows = [(g, u, v, (u + n) % 10 + 1) for g in (GUILD, OTHER_GUILD) for u in (1, 2)
            for n, v in enumerate(videos[:20])]  # fmt: skip
    await execute(db, rating_upsert(rows))
    await assert_tallies_add_up(db)
    await execute(db, rating_upsert([(GUILD, 1, v, 10) for v in videos[10:25]]))
    await assert_tallies_add_up(db)
    await assert_top_as_worked_out(db)
    await execute(
        db,
        "DELETE FROM ratings WHERE user_id = 1 AND video_id IN "
        f"({', '.join(str(v) for v in videos[:15])})",
    )
    await assert_tallies_add_up(db)
    await assert_top_as_worked_out(db)


async def test_top_by_people_reads_the_tallies(db: Database) -> None:
    """The tallies are what /top by: shows (changed by hand here, which TakeTwo never does):
    the ranking reads one row per person, not the server's rated videos."""
    videos = await catalog(db, 14)
    for member in range(1, 5):
        await rate(db, GUILD, member, videos, shift=member)
    last = (await top(db, GUILD, "directors")).entries[-1]
    await execute(
        db,
        "UPDATE director_scores SET total = count * 10 WHERE guild_id = ? AND name = ?",
        GUILD, last.name,
    )  # fmt: skip
    shown = (await top(db, GUILD, "directors")).entries[0]
    assert (shown.name, shown.mean) == (last.name, 10)


@pytest.mark.sqlite_only
async def test_migration_tallies_the_ratings_already_there(tmp_path: Path) -> None:
    """A database from before migration 0017 gets every server's tallies at once."""
    path = tmp_path / "before.sqlite3"
    earlier = tmp_path / "migrations"
    earlier.mkdir()
    for migration in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if int(migration.name[:4]) < 17:
            (earlier / migration.name).write_text(migration.read_text())
    async with aiosqlite.connect(path, isolation_level=None) as runner:
        await migrate(runner, earlier)
    with closing(sqlite3.connect(path)) as file, file:
        file.executemany(
            "INSERT INTO videos (id, slug, title, artist, search_title, search_text) "
            "VALUES (?, ?, ?, ?, '', '')",
            [(n, f"v{n}", f"V{n}", f"Artist {n % 4}") for n in range(1, 60)],
        )
        file.executemany(
            "INSERT INTO credits (video_id, position, role, name) VALUES (?, 0, 'Director', ?)",
            [(n, f"Director {n % 6}") for n in range(1, 60)],
        )
        file.executemany(
            "INSERT INTO ratings (guild_id, user_id, video_id, score, rated_at) "
            "VALUES (?, ?, ?, ?, 0)",
            [(GUILD, u, n, (n + u) % 10 + 1) for u in (1, 2) for n in range(1, 50)]
            + [(OTHER_GUILD, 1, n, 5) for n in range(1, 10)],
        )
    async with aiosqlite.connect(path, isolation_level=None) as runner:
        assert await migrate(runner) == 16
    with closing(sqlite3.connect(path)) as file:
        kept = sorted(file.execute(_KEPT).fetchall())
        assert kept == sorted(file.execute(_IMPLIED).fetchall())
        # Director 1 directs videos 1, 7, ..., 49 among those rated in GUILD: 9 of them,
        # each rated twice.
        [row] = [r for r in kept if r[:2] == (GUILD, "Director 1")]
        assert row[2:4] == (9, 18)


async def test_a_change_of_directors_and_a_rating_take_turns(pg: PostgresDatabase) -> None:
    """PostgreSQL, where several processes write at once: a video's director replaced while
    a member changes their score of it. The score change waits for the credits (the video),
    then counts for the new director; counted from what it read before, it would go to the
    old one, whose tallies the credit change had just moved."""
    db = pg
    [video] = await catalog(db, 1)
    for someone in (1, 2, 3):
        await db.rate(guild_id=GUILD, video_id=video, user_id=someone, score=5, rated_at=1)
    editor, rater = await asyncpg.connect(db.url), await asyncpg.connect(db.url)
    try:
        await editor.execute("BEGIN")
        await editor.execute("DELETE FROM credits WHERE video_id = $1", video)
        await editor.execute(
            "INSERT INTO credits (video_id, position, role, name, kind) "
            "VALUES ($1, 0, 'Director', 'Newcomer', 'video')",
            video,
        )
        await rater.execute("BEGIN")
        waiting = asyncio.ensure_future(
            rater.execute(
                "UPDATE ratings SET score = 9 WHERE guild_id = $1 AND user_id = 1 "
                "AND video_id = $2",
                GUILD,
                video,
            )
        )
        await asyncio.sleep(0.3)
        assert not waiting.done()  # the video is the editor's until it commits
        await editor.execute("COMMIT")
        await asyncio.wait_for(waiting, 10)
        await rater.execute("COMMIT")
    finally:
        await editor.close()
        await rater.close()
    await assert_tallies_add_up(db)
    [newcomer] = (await top(db, GUILD, "directors")).entries
    assert (newcomer.name, newcomer.count, newcomer.mean) == ("Newcomer", 3, 19 / 3)


async def test_a_forget_me_beside_a_two_pass_rating_statement_takes_its_turn(
    pg: PostgresDatabase,
) -> None:
    """PostgreSQL: a group commit's upsert writes a changed score (its update pass) and a new
    rating (its insert pass), each pass locking its directors' tallies in order. A forget-me
    in the same server between the two passes needs both directors too. The server's scores
    row, locked first by every pass, makes it wait for the whole statement; with the
    directors locked first, each held one the other wanted (a deadlock, one of them lost)."""
    db = pg
    videos = {}
    async with db.transaction() as tx:
        for slug, director in [("x", "D2"), ("y", "D1"), ("z1", "D1"), ("z2", "D2"), ("w", "")]:
            videos[slug] = await tx.videos.upsert(
                slug=slug, title=slug, artist="Someone", album=None, year=None, url=None
            )
            credits = [Credit("Director", director)] if director else []
            await tx.videos.replace_credits(videos[slug], credits)
    a, b, c = 1, 2, 3
    for member, slug in [(a, "x"), (b, "w"), (c, "z1"), (c, "z2")]:
        await db.rate(guild_id=GUILD, video_id=videos[slug], user_id=member, score=5, rated_at=1)
    holder, batch, forget = [await asyncpg.connect(db.url) for _ in range(3)]
    try:
        # The insert pass waits for member b's count row, held here: the update pass is done.
        await holder.execute("BEGIN")
        await holder.execute(
            "SELECT 1 FROM member_rating_counts WHERE guild_id = $1 AND user_id = $2 FOR UPDATE",
            GUILD, b,
        )  # fmt: skip
        await batch.execute("BEGIN")
        upsert = asyncio.ensure_future(
            batch.execute(
                "INSERT INTO ratings (guild_id, user_id, video_id, score, rated_at) "
                "VALUES ($1, $2, $3, 9, 2), ($1, $4, $5, 7, 2) "
                "ON CONFLICT (guild_id, user_id, video_id) DO UPDATE SET score = excluded.score",
                GUILD,
                a,
                videos["x"],
                b,
                videos["y"],
            )
        )
        await asyncio.sleep(0.3)
        await forget.execute("BEGIN")
        forgetting = asyncio.ensure_future(
            forget.execute("DELETE FROM ratings WHERE guild_id = $1 AND user_id = $2", GUILD, c)
        )
        await asyncio.sleep(0.3)
        await holder.execute("ROLLBACK")
        await asyncio.wait_for(upsert, 10)
        await batch.execute("COMMIT")
        await asyncio.wait_for(forgetting, 10)
        await forget.execute("COMMIT")
    finally:
        for conn in (holder, batch, forget):
            await conn.close()
    await assert_tallies_add_up(db)
    assert sorted(await raw.rows(db, "SELECT name, videos, count, total FROM director_scores")) == [
        ("D1", 1, 1, 7),
        ("D2", 1, 1, 9),
    ]


@pytest.mark.sqlite_only
async def test_a_videos_servers_are_found_one_lookup_each(db: Database) -> None:
    """A change of a video's directors reads its scores in every server (the view the
    triggers use) one lookup per server, also in a database never analysed: not every
    server's scores of every video."""
    assert isinstance(db, SQLiteDatabase)
    with closing(sqlite3.connect(db.path)) as file:
        plan = [
            str(row[3])
            for row in file.execute(
                "EXPLAIN QUERY PLAN SELECT guild_id, count, total FROM video_scores_everywhere "
                "WHERE video_id = 5"
            )
        ]
    assert plan[0].startswith("SCAN g")
    assert plan[1].startswith("SEARCH s USING PRIMARY KEY (guild_id=? AND video_id=?)")
