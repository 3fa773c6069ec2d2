"""Members' profiles, shared ratings and credited people (/profile, /taste, /person, /top by:)
as the data layer answers them, on either engine: every number worked out by hand below.

The catalog (years in brackets; credits in their order, "song" for a song credit):
  v1 Formation / Beyoncé (2016): Director Ann Example, Editor Ann Example, Writer Ann Example
     (song), Director Dee Song (song), Producer Cy Example (song)
  v2 Hold Up / Beyoncé (2016): Director Ann Example
  v3 Alright / Kendrick Lamar (2015): director Ann Example, Director Bo Example
  v4 Humble / Kendrick Lamar (2017): Director Bo Example, Director Bo Example (twice)
  v5 Solo Song / Ann Example (no year): Director Lamara Sky, Director Ann Example,
     Cast Annie Annsworth, Cast Mary Anne
  v6 Unrated / Eve Example (2010): Director Ann Example

Ratings in server 1 (member: video=score at time):
  A: v1=9 @1000 (with a take), v2=7 @1001, v3=8 @1002 (with a take), v4=4 @1003,
     v5=10 @1003
  B: v1=6, v2=7 (with a take), v3=5, v5=2
  C: v1=8, v3=10, v4=3
Server 2: A rated v1=1 and v6=1 (nothing of it shows in server 1).
Agrees: B and C agree with A's take on v3, C with A's take on v1, A and C with B's take.

Per video in server 1 (count, total): v1 (3, 23), v2 (2, 14), v3 (3, 23), v4 (2, 7),
v5 (2, 12), v6 none. The server: 12 ratings, 79 in all, a mean of 79/12.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import closing
from itertools import pairwise
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.db import Database
from bot.db.models import (
    MIN_RATINGS,
    NEUTRAL_MEAN,
    PRIOR_WEIGHT,
    Credit,
    PersonScore,
    ScoreSummary,
)
from bot.db.postgres import people as postgres_people
from bot.db.postgres.database import PostgresDatabase
from bot.db.sqlite import people
from bot.db.sqlite.connections import Statement, ThreadConnection, connect_on_thread
from bot.db.sqlite.database import SQLiteDatabase
from bot.db.text import fold
from tests import raw
from tests.postgres import Cluster, empty_database

GUILD, OTHER_GUILD, QUIET_GUILD = 1, 2, 3
A, B, C = 101, 102, 103
SONG = "song"


CATALOG: list[tuple[str, str, str, int | None, list[Credit]]] = [
    (
        "v1",
        "Formation",
        "Beyoncé",
        2016,
        [
            Credit("Director", "Ann Example"),
            Credit("Editor", "Ann Example"),
            Credit("Writer", "Ann Example", SONG),
            Credit("Director", "Dee Song", SONG),
            Credit("Producer", "Cy Example", SONG),
        ],
    ),
    ("v2", "Hold Up", "Beyoncé", 2016, [Credit("Director", "Ann Example")]),
    (
        "v3",
        "Alright",
        "Kendrick Lamar",
        2015,
        [Credit("director", "Ann Example"), Credit("Director", "Bo Example")],
    ),
    (
        "v4",
        "Humble",
        "Kendrick Lamar",
        2017,
        [Credit("Director", "Bo Example"), Credit("Director", "Bo Example")],
    ),
    (
        "v5",
        "Solo Song",
        "Ann Example",
        None,
        [
            Credit("Director", "Lamara Sky"),
            Credit("Director", "Ann Example"),
            Credit("Cast", "Annie Annsworth"),
            Credit("Cast", "Mary Anne"),
        ],
    ),
    ("v6", "Unrated", "Eve Example", 2010, [Credit("Director", "Ann Example")]),
]


async def add_catalog(db: Database) -> dict[str, int]:
    ids = {}
    async with db.transaction() as tx:
        for slug, title, artist, year, credits in CATALOG:
            ids[slug] = await tx.videos.upsert(
                slug=slug, title=title, artist=artist, album=None, year=year, url=None
            )
            await tx.videos.replace_credits(ids[slug], credits)
    return ids


async def rate_all(db: Database, ids: dict[str, int]) -> None:
    ratings = [
        (GUILD, B, "v1", 6, 900),
        (GUILD, B, "v3", 5, 901),
        (GUILD, B, "v5", 2, 902),
        (GUILD, C, "v1", 8, 903),
        (GUILD, C, "v3", 10, 904),
        (GUILD, C, "v4", 3, 905),
        (GUILD, A, "v2", 7, 1001),
        (GUILD, A, "v4", 4, 1003),
        (GUILD, A, "v5", 10, 1003),
        (OTHER_GUILD, A, "v1", 1, 1004),
        (OTHER_GUILD, A, "v6", 1, 1005),
    ]
    for guild, member, video, score, at in ratings:
        await db.rate(guild_id=guild, video_id=ids[video], user_id=member, score=score, rated_at=at)
    # A take is its author's rating too.
    on_v1 = await db.save_take(
        guild_id=GUILD, video_id=ids["v1"], user_id=A, score=9, text="Sharp.", now=1000
    )
    on_v3 = await db.save_take(
        guild_id=GUILD, video_id=ids["v3"], user_id=A, score=8, text="Loose.", now=1002
    )
    of_b = await db.save_take(
        guild_id=GUILD, video_id=ids["v2"], user_id=B, score=7, text="Fine.", now=950
    )
    async with db.transaction() as tx:
        for take, member in [(on_v3, B), (on_v3, C), (on_v1, C), (of_b, A), (of_b, C)]:
            assert await tx.takes.agree(take, member)


@pytest.fixture
async def rated(db: Database) -> dict[str, int]:
    ids = await add_catalog(db)
    await rate_all(db, ids)
    return ids


async def test_a_profile_counts_the_members_ratings_favourites_and_takes(
    db: Database, rated: dict[str, int]
) -> None:
    async with db.read() as session:
        profile = await session.profiles.profile(GUILD, A, last=3)
    # The same profile on the event loop's connection and inside a transaction.
    async with db.lookup() as lookup:
        assert await lookup.profiles.profile_of_few(GUILD, A, last=3) == profile
    async with db.transaction() as tx:
        assert await tx.profiles.profile(GUILD, A, last=3) == profile
    # A gave 9, 7, 8, 4 and 10: one each of 4, 7, 8, 9 and 10; 38 / 5 = 7.6.
    assert profile.histogram == (0, 0, 0, 1, 0, 0, 1, 1, 1, 1)
    assert profile.count == 5
    assert profile.mean == pytest.approx(7.6, abs=1e-12)
    assert profile.server_mean == pytest.approx(79 / 12, abs=1e-12)
    assert not profile.hides_ratings
    # Directors (video credits whose role reads "director", in any case):
    # Ann Example on v1 (9), v2 (7), v3 (8, as "director"), v5 (10): 34 / 4 = 8.5 (her
    # Editor and song credits on v1 do not count v1 twice); Bo Example on v3 (8) and v4
    # (4, credited twice there, counted once): 12 / 2 = 6.0. Lamara Sky has one video
    # rated (v5, a 10): left out. Dee Song's credit is the song's: not a director.
    assert profile.favourite_directors == [
        PersonScore("Ann Example", 4, 8.5),
        PersonScore("Bo Example", 2, 6.0),
    ]
    # Artists: Beyoncé v1 (9) and v2 (7): 8.0; Kendrick Lamar v3 (8) and v4 (4): 6.0; Ann
    # Example as the artist of v5 alone: left out.
    assert profile.favourite_artists == [
        PersonScore("Beyoncé", 2, 8.0),
        PersonScore("Kendrick Lamar", 2, 6.0),
    ]
    # A's takes: v1 (1 agree) and v3 (2 agrees); B's take, with 2 agrees, is not A's.
    assert profile.take_count == 2
    assert profile.most_agreed is not None
    assert profile.most_agreed.video.id == rated["v3"]
    assert (profile.most_agreed.take.text, profile.most_agreed.take.agree_count) == ("Loose.", 2)
    assert profile.most_agreed.take.user_id == A
    # Newest first; v4 and v5 were rated at the same second: the later video first.
    assert [(r.video.id, r.score, r.rated_at) for r in profile.last_ratings] == [
        (rated["v5"], 10, 1003),
        (rated["v4"], 4, 1003),
        (rated["v3"], 8, 1002),
    ]
    assert profile.last_ratings[0].video.title == "Solo Song"


async def test_profiles_asked_for_at_once_each_get_their_own(
    db: Database, rated: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A has 5 ratings in the server, past a bound of 4: no lookup for A, while B (4
    # ratings), C, a member with none and A in server 2 asked for at the same moment each
    # get the profile a read session gives them.
    for engine in (people, postgres_people):
        monkeypatch.setattr(engine, "PROFILE_LOOKUP_MOST", 4)
    asked = [(GUILD, B, 5), (GUILD, A, 5), (GUILD, C, 2), (GUILD, 999, 5), (OTHER_GUILD, A, 5)]
    async with db.read() as session:
        expected = [
            None if (g, u) == (GUILD, A) else await session.profiles.profile(g, u, last=last)
            for g, u, last in asked
        ]
    async with db.lookup() as lookup:
        found = await asyncio.gather(
            *(lookup.profiles.profile_of_few(g, u, last=last) for g, u, last in asked)
        )
    assert found == expected
    assert [p.count if p else None for p in found] == [4, None, 3, 0, 2]
    assert found[2] is not None and len(found[2].last_ratings) == 2


class CountedTrips:
    """A thread connection that notes each round trip and its statements."""

    def __init__(self, conn: ThreadConnection) -> None:
        self.conn = conn
        self.trips: list[int] = []

    async def run_in_one_trip(self, statements: Sequence[Statement]) -> list[list[sqlite3.Row]]:
        self.trips.append(len(statements))
        return await self.conn.run_in_one_trip(statements)


async def test_sqlite_profile_lookups_go_to_their_thread_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = SQLiteDatabase(tmp_path / "batched.sqlite3")
    await db.open()
    thread = await connect_on_thread(db.path, read_only=True)
    try:
        ids = await add_catalog(db)
        await rate_all(db, ids)
        counted = CountedTrips(thread)
        lookups = people.SQLiteProfileLookups(counted)
        members = [(GUILD, A), (GUILD, B), (GUILD, C), (OTHER_GUILD, A)] * 10
        found = await asyncio.gather(*(lookups.profile_of_few(g, u) for g, u in members))
        async with db.read() as session:
            for (g, u), profile in zip(members, found, strict=True):
                assert profile == await session.profiles.profile(g, u)
        # Asked for in one moment, read in one round trip, none on the event loop's thread.
        assert counted.trips == [len(members)]
        # A batch whose statements fail answers each member with the failure: none waits
        # forever, and the next batch is read again.
        await thread.close()
        failed = await asyncio.gather(
            *(lookups.profile_of_few(GUILD, u) for u in (A, B)), return_exceptions=True
        )
        assert all(isinstance(f, Exception) for f in failed), failed
        assert counted.trips == [len(members), 2]
        counted.conn = thread = await connect_on_thread(db.path, read_only=True)
        assert await lookups.profile_of_few(GUILD, B) == found[1]
    finally:
        await thread.close()
        await db.close()


class CountedStatements:
    """A PostgreSQL connection that notes each statement's first argument (the batch's
    servers)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.batches: list[int] = []

    async def fetch(self, query: str, /, *args: object) -> list[asyncpg.Record]:
        assert isinstance(args[0], list)
        self.batches.append(len(args[0]))
        return list(await self.conn.fetch(query, *args))

    async def fetchrow(self, query: str, /, *args: object) -> asyncpg.Record | None:
        raise AssertionError("a batch is read by fetch")

    async def fetchval(self, query: str, /, *args: object) -> Any:
        raise AssertionError("a batch is read by fetch")


async def test_postgres_profile_lookups_are_one_statement(pg: PostgresDatabase) -> None:
    ids = await add_catalog(pg)
    await rate_all(pg, ids)
    conn = await asyncpg.connect(pg.url)
    try:
        counted = CountedStatements(conn)
        lookups = postgres_people.PostgresProfileLookups(counted)
        members = [(GUILD, A), (GUILD, B), (GUILD, C), (OTHER_GUILD, A), (GUILD, 999)] * 8
        found = await asyncio.gather(*(lookups.profile_of_few(g, u) for g, u in members))
        async with pg.read() as session:
            for (g, u), profile in zip(members, found, strict=True):
                assert profile == await session.profiles.profile(g, u)
        assert counted.batches == [len(members)]
    finally:
        await conn.close()


@pytest.mark.sqlite_only
async def test_directors_are_read_through_their_own_index(db: Database) -> None:
    assert isinstance(db, SQLiteDatabase)
    with closing(sqlite3.connect(db.path)) as conn:
        plan = " ".join(
            str(row[3])
            for statement in (people._COUNTED_DIRECTORS, people._PROFILE)
            for row in conn.execute(
                f"EXPLAIN QUERY PLAN {statement}", {"g": GUILD, "u": A, "last": 5}
            )
        )
    assert "USING INDEX credits_of_directors" in plan


async def test_a_member_with_nothing_has_an_empty_profile(
    db: Database, rated: dict[str, int]
) -> None:
    async with db.read() as session:
        nobody = await session.profiles.profile(GUILD, 999)
        quiet = await session.profiles.profile(QUIET_GUILD, A)
    assert nobody.histogram == (0,) * 10
    assert nobody.mean is None
    assert nobody.server_mean == pytest.approx(79 / 12, abs=1e-12)
    assert (nobody.favourite_directors, nobody.favourite_artists) == ([], [])
    assert (nobody.take_count, nobody.most_agreed, nobody.last_ratings) == (0, None, [])
    assert quiet.server_mean is None
    assert quiet.count == 0


async def test_shared_ratings_are_the_videos_both_members_rated(
    db: Database, rated: dict[str, int]
) -> None:
    async with db.read() as session:
        a_and_b = await session.profiles.shared(GUILD, A, B)
        a_and_c = await session.profiles.shared(GUILD, A, C)
        elsewhere = await session.profiles.shared(OTHER_GUILD, A, B)
    # A rated v1..v5, B v1, v2, v3 and v5; C v1, v3 and v4. In video order.
    assert [(s.video.id, s.first, s.second) for s in a_and_b] == [
        (rated["v1"], 9, 6),
        (rated["v2"], 7, 7),
        (rated["v3"], 8, 5),
        (rated["v5"], 10, 2),
    ]
    assert [(s.video.id, s.first, s.second) for s in a_and_c] == [
        (rated["v1"], 9, 8),
        (rated["v3"], 8, 10),
        (rated["v4"], 4, 3),
    ]
    assert a_and_b[0].video.title == "Formation"
    assert elsewhere == []


async def test_people_search_by_prefix_then_by_a_later_word(
    db: Database, rated: dict[str, int]
) -> None:
    async with db.read() as session:
        people = session.people
        # Accents and case aside; an artist with no credit is found.
        assert await people.search("beyonce") == ["Beyoncé"]
        assert await people.search("BEYONCÉ") == ["Beyoncé"]
        # A name starting with it first, then one with a later word starting with it.
        assert await people.search("lamar") == ["Lamara Sky", "Kendrick Lamar"]
        # Ann Example is credited five times and is an artist: once. Annie Annsworth both
        # starts with "ann" and has a later word starting with it: once.
        assert await people.search("ann") == ["Ann Example", "Annie Annsworth", "Mary Anne"]
        assert await people.search("ann", limit=2) == ["Ann Example", "Annie Annsworth"]
        assert await people.search("Example") == [
            "Ann Example",
            "Bo Example",
            "Cy Example",
            "Eve Example",
        ]
        assert await people.search("example", limit=3) == [
            "Ann Example",
            "Bo Example",
            "Cy Example",
        ]
        assert await people.search("zzz") == []
        # Nothing typed yet: every name, in folded order.
        assert await people.search("", limit=4) == [
            "Ann Example",
            "Annie Annsworth",
            "Beyoncé",
            "Bo Example",
        ]
        assert len(await people.search("")) == 10


async def test_a_name_is_resolved_as_credited(db: Database, rated: dict[str, int]) -> None:
    async with db.read() as session:
        people = session.people
        assert await people.resolve("Ann Example") == "Ann Example"
        assert await people.resolve("beyonce") == "Beyoncé"
        assert await people.resolve("  kendrick LAMAR! ") == "Kendrick Lamar"
        assert await people.resolve("Nobody Here") is None
        assert await people.resolve("!!!") is None


async def test_a_persons_page_lists_every_video_with_roles_and_scores(
    db: Database, rated: dict[str, int]
) -> None:
    async with db.read() as session:
        ann = await session.people.page(GUILD, "Ann Example")
        bo = await session.people.page(GUILD, "Bo Example")
        nobody = await session.people.page(GUILD, "Nobody Here")
    # Newest year first (v1 and v2 of 2016 by title), the video without a year last.
    assert [(c.video.id, c.roles) for c in ann.credits] == [
        (rated["v1"], ("Director", "Editor", "Writer (song)")),
        (rated["v2"], ("Director",)),
        (rated["v3"], ("director",)),
        (rated["v6"], ("Director",)),
        (rated["v5"], ("Artist", "Director")),
    ]
    # v1: 9, 6 and 8; v6 is not rated in this server (only in another).
    assert ann.credits[0].score == ScoreSummary(
        count=3, total=23, histogram=(0, 0, 0, 0, 0, 1, 0, 1, 1, 0)
    )
    assert ann.credits[3].score == ScoreSummary()
    assert [(c.score.count, c.score.total) for c in ann.credits] == [
        (3, 23),
        (2, 14),
        (3, 23),
        (0, 0),
        (2, 12),
    ]
    # 3 + 2 + 3 + 0 + 2 ratings, 23 + 14 + 23 + 12 = 72.
    assert (ann.score.count, ann.score.total) == (10, 72)
    assert ann.score.histogram == (0, 1, 0, 0, 1, 1, 2, 2, 1, 2)
    # Bo is credited twice on v4: one role.
    assert [(c.video.id, c.roles) for c in bo.credits] == [
        (rated["v4"], ("Director",)),
        (rated["v3"], ("Director",)),
    ]
    assert nobody.credits == []


async def test_top_directors_and_artists_by_bayesian_mean(
    db: Database, rated: dict[str, int]
) -> None:
    async with db.read() as session:
        directors = await session.people.top(GUILD, "directors", 10)
        first = await session.people.top(GUILD, "directors", 1)
        artists = await session.people.top(GUILD, "artists", 10)
        quiet = await session.people.top(QUIET_GUILD, "directors", 10)
        with pytest.raises(ValueError):
            await session.people.top(GUILD, "songs", 10)
    prior = 79 / 12
    assert (PRIOR_WEIGHT, MIN_RATINGS) == (5, 3)  # the numbers below
    assert directors.prior_mean == pytest.approx(prior, abs=1e-12)
    assert (directors.prior_weight, directors.min_ratings) == (5, 3)
    # Ann Example directs v1 (3 ratings, 23), v2 (2, 14), v3 (3, 23), v5 (2, 12): 10
    # ratings, 72 in all: (5 * 79/12 + 72) / (5 + 10) = 1259/180 = 6.99444...
    # Bo Example: v3 (3, 23) and v4 (2, 7): (5 * 79/12 + 30) / 10 = 755/120 = 6.29166...
    # Lamara Sky has 2 ratings (v5): under the minimum of 3. Dee Song's is a song credit.
    assert [(p.name, p.videos, p.count) for p in directors.entries] == [
        ("Ann Example", 4, 10),
        ("Bo Example", 2, 5),
    ]
    assert directors.entries[0].weighted == pytest.approx(1259 / 180, abs=1e-9)
    assert directors.entries[1].weighted == pytest.approx(755 / 120, abs=1e-9)
    assert directors.entries[0].mean == pytest.approx(7.2, abs=1e-12)
    assert [p.name for p in first.entries] == ["Ann Example"]
    # Beyoncé: v1 (3, 23) and v2 (2, 14): (5 * 79/12 + 37) / 10 = 839/120 = 6.99166...
    # Kendrick Lamar: v3 (3, 23) and v4 (2, 7): 755/120. Ann Example as an artist (v5, 2
    # ratings) is under the minimum.
    assert [(p.name, p.videos, p.count) for p in artists.entries] == [
        ("Beyoncé", 2, 5),
        ("Kendrick Lamar", 2, 5),
    ]
    assert artists.entries[0].weighted == pytest.approx(839 / 120, abs=1e-9)
    assert artists.entries[1].weighted == pytest.approx(755 / 120, abs=1e-9)
    # A server with no ratings: no one, and the neutral prior.
    assert quiet.entries == []
    assert quiet.prior_mean == NEUTRAL_MEAN


async def test_hiding_ratings_is_a_setting_forget_me_deletes(
    db: Database, rated: dict[str, int]
) -> None:
    async with db.read() as session:
        assert not await session.members.hides_ratings(GUILD, A)
    async with db.transaction() as tx:
        await tx.members.set_no_quotes(GUILD, A, True)
        await tx.members.set_hide_ratings(GUILD, A, True)
        assert await tx.members.hides_ratings(GUILD, A)
    async with db.lookup() as session:
        assert await session.members.hides_ratings(GUILD, A)
        assert await session.members.no_quotes(GUILD, A)
        assert not await session.members.hides_ratings(OTHER_GUILD, A)
        assert not await session.members.hides_ratings(GUILD, B)
    async with db.read() as session:
        assert (await session.profiles.profile(GUILD, A)).hides_ratings
        exported = await session.exports.member(GUILD, A)
    assert exported["settings"] == {"no_quotes": True, "hide_ratings": True}
    # Turned off again, the other setting stays.
    async with db.transaction() as tx:
        await tx.members.set_hide_ratings(GUILD, A, False)
    async with db.read() as session:
        assert not await session.members.hides_ratings(GUILD, A)
        exported = await session.exports.member(GUILD, A)
    assert exported["settings"] == {"no_quotes": True, "hide_ratings": False}
    async with db.transaction() as tx:
        await tx.members.set_hide_ratings(GUILD, A, True)
        forgotten = await tx.members.forget(GUILD, A)
    assert forgotten["settings"] == 1
    assert await raw.value(db, "SELECT count(*) FROM member_settings") == 0
    async with db.read() as session:
        assert not await session.members.hides_ratings(GUILD, A)
        profile = await session.profiles.profile(GUILD, A)
    assert (profile.count, profile.take_count, profile.hides_ratings) == (0, 0, False)


async def write(db: Database, sql: str) -> None:
    """A statement run on the engine's own connection, past the bot's interface: rows as a
    version before folded names saved them."""
    if isinstance(db, SQLiteDatabase):
        with closing(sqlite3.connect(db.path)) as file, file:
            file.execute(sql)
        return
    assert isinstance(db, PostgresDatabase)
    server = await asyncpg.connect(db.url)
    try:
        await server.execute(sql)
    finally:
        await server.close()


async def test_names_saved_without_their_folded_form_are_folded(db: Database) -> None:
    ids = await add_catalog(db)
    await write(db, "UPDATE credits SET search_name = NULL")
    await write(db, "UPDATE videos SET search_artist = NULL")
    async with db.read() as session:
        assert await session.people.search("beyonce") == []
        assert await session.people.resolve("bo example") is None
    async with db.transaction() as tx:
        # 5 + 1 + 2 + 2 + 4 + 1 credits and 6 videos.
        assert await tx.videos.fold_names() == 21
    async with db.transaction() as tx:
        assert await tx.videos.fold_names() == 0
    folded = await raw.rows(
        db, "SELECT name, search_name FROM credits WHERE video_id = ? ORDER BY position", ids["v1"]
    )
    assert folded == [
        (name, fold(name))
        for name in ["Ann Example", "Ann Example", "Ann Example", "Dee Song", "Cy Example"]
    ]
    async with db.read() as session:
        assert await session.people.search("beyonce") == ["Beyoncé"]
        assert await session.people.search("lamar") == ["Lamara Sky", "Kendrick Lamar"]
        assert await session.people.resolve("bo example") == "Bo Example"


# Both engines, one generated catalog: the same answers, order and floats included. The
# PostgreSQL database sorts and lowercases text as its locale says, which is not SQLite's
# way (code points, ASCII letters only): with glibc's C.UTF-8 (the test server's own),
# lower('DİRECTOR') is 'director'; with ICU's English, 'ann' sorts before 'Ann'.

LOCALES = {
    "libc": "LOCALE 'C.UTF-8'",
    "icu": "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'",
}
NAMES = [
    "Ann Example",
    "ann example",
    "Ann-Marie Example",
    "Anna",
    "Beyoncé",
    "Beyonce",
    "Kendrick Lamar",
    "Lamar Jones",
    "Zoë Made",
    "Zoe Made",
    "Émile Test",
    "Ólafur Arnalds Test",
    "Łukasz Ōta",
    "Mc Example",
    "DJ Example Example",
    "Bo",
]
ROLES = ["Director", "director", "DIRECTOR", "DİRECTOR", "Producer", "Cast", "Co-Director"]
TITLE_WORDS = ["Neon", "River", "Heart", "Ghost", "echo", "Écho"]
TYPED = [
    "",
    "a",
    "an",
    "ann",
    "ANN",
    "anna",
    "beyo",
    "beyoncé",
    "lamar",
    "la",
    "e",
    "ex",
    "example",
    "zoe",
    "zoë",
    "o",
    "ola",
    "made",
    "m",
    "emile",
    "ó",
    "lukasz o",
    "bo",
    "nothing",
    "!!",
    "zed",
]
MEMBERS = range(1, 13)
TIED = 99


async def fill(db: Database) -> None:
    """The same catalog and ratings, written in the same order on every engine."""
    rng = random.Random(15)
    videos = []
    async with db.transaction() as tx:
        for n in range(150):
            title = " ".join(rng.sample(TITLE_WORDS, rng.choice((1, 2))))
            video_id = await tx.videos.upsert(
                slug=f"video-{n}",
                title=title,
                artist=rng.choice(NAMES),
                album=None,
                year=rng.choice((None, 2001, 2002, 2003)),
                url=None,
            )
            credits = [
                Credit(rng.choice(ROLES), rng.choice(NAMES), rng.choice(("video", "video", SONG)))
                for _ in range(rng.randint(1, 4))
            ]
            await tx.videos.replace_credits(video_id, credits)
            videos.append(video_id)
    for member in MEMBERS:
        for video_id in rng.sample(videos, rng.randint(5, 40)):
            await db.rate(
                guild_id=rng.choice((GUILD, GUILD, OTHER_GUILD)),
                video_id=video_id,
                user_id=member,
                score=rng.randint(1, 10),
                rated_at=rng.randint(1000, 1010),
            )
    # Takes (each its author's rating too) and agrees, with ties in both.
    takes = [
        await db.save_take(
            guild_id=GUILD,
            video_id=rng.choice(videos),
            user_id=member,
            score=rng.randint(1, 10),
            text="A take.",
            now=rng.randint(1000, 1003),
        )
        for member in MEMBERS
        for _ in range(rng.randint(0, 3))
    ]
    async with db.transaction() as tx:
        for take in takes:
            others = [member for member in MEMBERS if member != take.user_id]
            for member in rng.sample(others, rng.randint(0, 2)):
                await tx.takes.agree(take, member)
    # Ties that only the names' order breaks: two names folded alike, each directing and
    # performing two videos rated alike, by TIED (whose favourites they are) and another.
    async with db.transaction() as tx:
        tied = []
        for n, name in enumerate(["zed example", "Zed Example"] * 2):
            video_id = await tx.videos.upsert(
                slug=f"tie-{n}", title="Tie", artist=name, album=None, year=2004, url=None
            )
            await tx.videos.replace_credits(video_id, [Credit("Director", name)])
            tied.append(video_id)
    for video_id in tied:
        for member, score in [(TIED, 7), (1, 5)]:
            await db.rate(
                guild_id=GUILD, video_id=video_id, user_id=member, score=score, rated_at=1000
            )


@pytest.fixture(params=list(LOCALES))
async def postgres_in_a_locale(
    postgres_cluster: Cluster, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    """An empty PostgreSQL database in one of LOCALES."""
    name = f"people_{request.param}_{os.getpid()}"
    options = f"TEMPLATE template0 {LOCALES[request.param]}"
    async with empty_database(postgres_cluster, name, options) as url:
        yield url


@pytest.fixture
async def both(tmp_path: Path, postgres_in_a_locale: str) -> AsyncIterator[list[Database]]:
    databases: list[Database] = [
        SQLiteDatabase(tmp_path / "people.sqlite3"),
        PostgresDatabase(postgres_in_a_locale),
    ]
    try:
        for db in databases:
            await db.open()
            await fill(db)
        yield databases
    finally:
        for db in databases:
            await db.close()


async def answers(db: Database) -> dict[str, Any]:
    found: dict[str, Any] = {}
    async with db.read() as session:
        people, profiles = session.people, session.profiles
        for text in TYPED:
            for limit in (25, 5, 1):
                found[f"search {text!r} {limit}"] = await people.search(text, limit)
        for value in [*NAMES, "ANN EXAMPLE", "zoe made", "lamar", "", "?"]:
            found[f"resolve {value!r}"] = await people.resolve(value)
        for name in NAMES:
            for guild in (GUILD, OTHER_GUILD):
                found[f"page {name} {guild}"] = await people.page(guild, name)
        for role in ("directors", "artists"):
            for guild in (GUILD, OTHER_GUILD, QUIET_GUILD):
                for limit in (3, 50):
                    found[f"top {role} {guild} {limit}"] = await people.top(guild, role, limit)
        for member in [*MEMBERS, TIED]:
            found[f"profile {member}"] = await profiles.profile(GUILD, member, last=4)
            found[f"shared {member}"] = await profiles.shared(GUILD, member, member % 12 + 1)
    return found


async def test_people_and_profiles_are_the_same_on_both_engines(both: list[Database]) -> None:
    sqlite, postgresql = both
    expected = await answers(sqlite)
    # The data shows what it should: full searches, ranked people, favourites.
    assert sum(len(v) == 5 for k, v in expected.items() if k.startswith("search")) > 5
    assert all(
        len(expected[f"top {role} {GUILD} 50"].entries) > 3 for role in ("directors", "artists")
    )
    assert any(expected[f"profile {m}"].favourite_directors for m in MEMBERS)
    assert any(expected[f"profile {m}"].most_agreed for m in MEMBERS)
    tie = ["Zed Example", "zed example"]  # in code point order, as SQLite sorts
    assert [p.name for p in expected[f"profile {TIED}"].favourite_directors] == tie
    assert tie in [
        [p.name for p in pair] for pair in pairwise(expected[f"top directors {GUILD} 50"].entries)
    ]
    assert expected["search 'zed' 5"] == tie
    got = await answers(postgresql)
    assert [key for key in expected if got[key] != expected[key]] == []
