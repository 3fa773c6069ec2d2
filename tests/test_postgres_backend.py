"""The PostgreSQL backend against a real server: every query family answers exactly as the
SQLite backend does (SQLite is the oracle), and what only several processes on one server
can break holds: aggregates stay exact under concurrent writes, migrations run once, a
connection killed mid-transaction leaves nothing behind, read-decide-write units take turns.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

import bot.catalog
from bot.catalog import import_catalog, sample_catalog
from bot.daily import DailyScheduler
from bot.db.failures import (
    BROKEN_SENTENCE,
    BUSY_SENTENCE,
    FULL_SENTENCE,
    DatabaseBusy,
    DatabaseUnusable,
    FailureLog,
    MigrationError,
)
from bot.db.interface import Database
from bot.db.models import TALLIED_PAST, Credit, PressReview, Quote, ScoreSummary, ShardSlice
from bot.db.postgres import connections
from bot.db.postgres.database import PostgresDatabase, postgres_database
from bot.db.postgres.failures import cannot_save
from bot.db.postgres.migrations import MIGRATIONS_DIR
from bot.db.postgres.sessions import PostgresLookupSession, PostgresReadSession
from bot.db.sqlite.database import SQLiteDatabase
from bot.errors import CannotSaveError, UserFacingError
from bot.startup import prepare_database
from tests.test_data_layer_shape import assert_lookups_hold_no_scans_and_reads_no_writes

GUILD = 500
# Servers on shard 1 and shard 0 of two: (guild_id >> 22) % 2.
ODD_SHARD = (5 << 22) + 17
EVEN_SHARD = (6 << 22) + 3
IMPORTED_AT = 1_795_000_000


async def with_sample(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # The catalog's quotes are stamped with the import's time: the same on both backends.
    monkeypatch.setattr(bot.catalog, "now", lambda: IMPORTED_AT)
    async with db.transaction() as tx:
        await import_catalog(tx, sample_catalog())
        await tx.setup.record_catalog_decision(sample_loaded=True)


@pytest.fixture
async def pg_catalog(pg: PostgresDatabase, monkeypatch: pytest.MonkeyPatch) -> PostgresDatabase:
    await with_sample(pg, monkeypatch)
    return pg


@pytest.fixture
async def sqlite_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SQLiteDatabase]:
    database = SQLiteDatabase(tmp_path / "oracle.sqlite3")
    await database.open()
    await with_sample(database, monkeypatch)
    yield database
    await database.close()


async def outcome(call: Awaitable[Any]) -> Any:
    """What a call returns, or the sentence a member would read."""
    try:
        return await call
    except UserFacingError as exc:
        return (type(exc).__name__, exc.message)


async def video_id(db: Database, slug: str) -> int:
    async with db.read() as session:
        video = await session.videos.get_by_slug(slug)
    assert video is not None
    return video.id


# The oracle: the same members doing the same things on both backends.


async def act(db: Database) -> list[Any]:
    """A busy day on every query family; returns what each write answered."""
    alright = await video_id(db, "kendrick-lamar-alright")
    humble = await video_id(db, "kendrick-lamar-humble")
    we_cry = await video_id(db, "kendrick-lamar-we-cry-together")
    formation = await video_id(db, "beyonce-formation")
    out: list[Any] = []
    # Videos for a member who rates a great deal (below), added before any upsert edits a
    # video: PostgreSQL's upsert draws an id even when it edits, and ids must agree.
    async with db.transaction() as tx:
        many = []
        for n in range(TALLIED_PAST + 5):
            many.append(await tx.videos.upsert(
                slug=f"many-{n}", title=f"Many {n}", artist=f"Artist {n % 9}", album=None,
                year=2000 + n % 20, url=None,
            ))  # fmt: skip
            await tx.videos.replace_credits(many[-1], [Credit("Director", f"Director {n % 13}")])
    async with db.transaction() as tx:
        for title, artist in [
            ("Lemon", "米津玄師"),
            ("Formation (Live)", "Beyoncé"),
            ("Alright", "Kendrick Lamar"),
        ]:
            existing = await tx.videos.same_title_and_artist(title, artist)
            slug = await tx.videos.slug_for(artist, title)
            out.append((existing, slug))
            if existing is None:
                new_id = await tx.videos.upsert(
                    slug=slug, title=title, artist=artist, album=None, year=2018, url=None
                )
                await tx.videos.replace_credits(
                    new_id,
                    [Credit("Director", "Someone"), Credit("Producer", "Else", "song")],
                )
                await tx.videos.replace_sources(new_id, ["https://example.com/a"])
                await tx.videos.add_review(new_id, PressReview("Big", "Very big.", "Mag"))
                await tx.videos.add_review(new_id, PressReview("Bigger", "Even more.", None))
        out.append(await tx.videos.upsert(
            slug="beyonce-formation", title="Formation", artist="Beyoncé", album="Lemonade",
            year=2016, url="https://example.com/formation",
        ))  # fmt: skip
        await tx.videos.set_thumbnail(formation, "https://example.com/formation.jpg")
        out.append(await tx.videos.save_draft(
            url="https://vimeo.com/424242", facts="{}", now=7, keep_for=86400
        ))  # fmt: skip
    lemon = await video_id(db, "米津玄師-lemon")
    for guild, video, user, score in [
        (GUILD, alright, 1, 9), (GUILD, alright, 2, 7), (GUILD, alright, 3, 10),
        (GUILD, alright, 4, 2), (GUILD, humble, 1, 6), (GUILD, humble, 2, 6),
        (GUILD, humble, 3, 8), (GUILD, we_cry, 1, 5), (GUILD, formation, 5, 10),
        (GUILD, alright, 1, 8), (GUILD, lemon, 2, 4), (ODD_SHARD, alright, 1, 3),
    ]:  # fmt: skip
        out.append(
            await db.rate(guild_id=guild, video_id=video, user_id=user, score=score, rated_at=user)
        )
    out.append(await outcome(db.rate(guild_id=GUILD, video_id=alright, user_id=9, score=11,
                                     rated_at=0)))  # fmt: skip
    for user, video, score, text, at in [
        (1, alright, 9, "  The best one. ", 100), (2, alright, 7, "Good.", 101),
        (3, alright, 10, "Perfect", 102), (4, humble, 5, "Meh", 104),
        (5, lemon, 8, "Catchy", 105),
        # An edit last: PostgreSQL's upsert draws (and skips) an id even when it edits.
        (2, alright, 6, "Less good now.", 106),
    ]:  # fmt: skip
        out.append(await db.save_take(guild_id=GUILD, video_id=video, user_id=user, score=score,
                                      text=text, now=at))  # fmt: skip
    out.append(await outcome(db.save_take(guild_id=GUILD, video_id=alright, user_id=6, score=5,
                                          text="   ", now=1)))  # fmt: skip
    async with db.transaction() as tx:
        take = await tx.takes.of_member(GUILD, alright, 3)
        assert take is not None
        out.append(await tx.takes.agree(take, 1))
        out.append(await tx.takes.agree(take, 1))
        out.append(await tx.takes.agree(take, 2))
        out.append(await outcome(tx.takes.agree(take, 3)))
        other = await tx.takes.of_member(GUILD, alright, 2)
        assert other is not None
        out.append(await tx.takes.agree(other, 4))
    async with db.transaction() as tx:
        for n, (text, about, author, guild) in enumerate([
            ("First words", alright, 7, GUILD), ("Second words", None, 8, GUILD),
            ("Third words", alright, 7, GUILD), ("Fourth words", humble, 2, GUILD),
            ("Fifth words", None, 2, GUILD), ("Elsewhere", alright, 7, ODD_SHARD),
        ]):  # fmt: skip
            out.append(await tx.quotes.add(
                guild_id=guild, text=text, video_id=about, said_by=f"member {author}",
                source_url=f"https://discord.com/channels/{guild}/1/{n}", saved_by=3,
                author_id=author, created_at=1000 + n,
            ))  # fmt: skip
    async with db.transaction() as tx:
        first = await tx.quotes.of_message(GUILD, 7, "https://discord.com/channels/500/1/0")
        out.append(first)
        if first is not None:
            out.append(await tx.quotes.remove(first.id))
        out.append(await outcome(tx.quotes.remove(999)))
        out.append(await outcome(tx.quotes.in_guild(ODD_SHARD, 1)))
        await tx.members.set_no_quotes(GUILD, 8, True)
        await tx.members.set_no_quotes(GUILD, 9, True)
        await tx.members.set_no_quotes(GUILD, 9, False)
        await tx.members.log_removal(guild_id=GUILD, kind="quote", item_id=3, author_id=2,
                                     removed_by=9, reason="rude", now=2000)  # fmt: skip
    async with db.transaction() as tx:
        for guild, channel, due in [(GUILD, 11, 5000), (ODD_SHARD, 12, 4000),
                                    (EVEN_SHARD, 13, 4500), (77, 14, 100)]:  # fmt: skip
            await tx.daily.save_schedule(
                guild_id=guild, channel_id=channel, post_time="09:00", timezone="UTC",
                next_local_date="2026-11-23", due_at=due, updated_by=2, now=10,
            )  # fmt: skip
        await tx.daily.record_post(guild_id=GUILD, local_date="2026-11-22", status="sent",
                                   nonce="n1", now=20, quote_id=2, channel_id=11,
                                   message_id=555)  # fmt: skip
        await tx.daily.record_post(guild_id=GUILD, local_date="2026-11-23", status="claimed",
                                   nonce="n2", now=30, claimed_by="a", lease_until=90)  # fmt: skip
        await tx.daily.record_post(guild_id=GUILD, local_date="2026-11-21", status="skipped",
                                   nonce="n0", now=5, detail="skipped by member 2")  # fmt: skip
        out.append(await tx.daily.take_over_claim(GUILD, "2026-11-23", "b", 120))
        out.append(await tx.daily.take_over_claim(GUILD, "2026-11-22", "b", 120))
        rng = random.Random(5)
        for guild in (GUILD, EVEN_SHARD, GUILD, GUILD, GUILD, GUILD):
            chosen = await tx.daily.choose_quote(guild, rng)
            out.append(chosen)
            if chosen is not None:
                await tx.daily.mark_posted(guild, chosen)
        await tx.daily.set_next_quote(GUILD, 3)
        await tx.daily.move_to(ODD_SHARD, "2026-11-24", 9000)
        await tx.daily.retry_at(EVEN_SHARD, 4600)
        await tx.daily.pause(77, "channel gone", 50)
        await tx.daily.note_error(ODD_SHARD, "oops", 60)
        out.append(await tx.daily.delete_schedules_in_channel(14))
        out.append(await tx.daily.delete_schedule(12345))
    async with db.transaction() as tx:
        for url, guild, user, note, at in [
            ("https://vimeo.com/5", GUILD, 1, "Great", 40),
            ("https://vimeo.com/5", GUILD, 3, None, 41),
            ("https://vimeo.com/5", GUILD, 1, "Again", 42),
            ("https://vimeo.com/6", ODD_SHARD, 2, "Hm", 43),
            ("https://vimeo.com/7", GUILD, 2, "Mine", 44),  # forgotten below, with its member
            ("https://vimeo.com/8", GUILD, 3, "No", 45),
        ]:  # fmt: skip
            out.append(await tx.suggestions.suggest(url=url, guild_id=guild, user_id=user,
                                                    note=note, now=at))  # fmt: skip
        out.append(await tx.suggestions.approve("https://vimeo.com/5", lemon, 46))
        out.append(await tx.suggestions.reject(4, "Not a video", 47))
        out.append(await tx.suggestions.reject(4, "Twice", 48))
        out.append(await tx.suggestions.waiting(limit=5))
    # A member who rates a great deal: past TALLIED_PAST ratings, their favourite people are
    # tallied as their ratings change (a changed score, and a removed video, below).
    for n, video in enumerate([*many, humble]):
        out.append(await db.rate(guild_id=GUILD, video_id=video, user_id=10, score=n % 10 + 1,
                                 rated_at=n))  # fmt: skip
    out.append(await db.rate(guild_id=GUILD, video_id=many[0], user_id=10, score=3,
                             rated_at=500))  # fmt: skip
    async with db.transaction() as tx:
        out.append(await tx.members.forget(GUILD, 2))
        removed = await tx.takes.of_member(GUILD, humble, 4)
        assert removed is not None
        await tx.takes.remove(removed.id)
    async with db.transaction() as tx:
        out.append(await tx.videos.remove_everywhere(humble))
    out.append(await outcome(db.rate(guild_id=GUILD, video_id=humble, user_id=1, score=5,
                                     rated_at=9)))  # fmt: skip
    return out


SEARCHES = [
    "", "we", "we cry", "alright", "ALRIGHT!", "kendrick", "kendrick lamar we cry",
    "lamar alright", "fromation", "formaton", "swim", "swimming pools drank", "xyz", "米津",
    "lemon", "beyonce", "live formation", "a b", "we cry kendrick k",
]  # fmt: skip
RESOLVES = [
    "", "   ", "id:1", "id:999", "Alright", "alright kendrick lamar", "Formation", "formaton",
    "kendrick", "we cry", "lamar we cry", "nothing like it", "lemon", "form",
]  # fmt: skip


async def observe(db: Database) -> dict[str, Any]:
    """Every query's answer for a fixed set of questions."""
    seen: dict[str, Any] = {}
    async with db.read() as session:
        videos = await session.videos.all()
        ids = [v.id for v in videos]
        seen["videos"] = (videos, await session.videos.count())
        for text in SEARCHES:
            seen[f"search_as_typed {text!r}"] = await session.videos.search_as_typed(text, 4)
            seen[f"search {text!r}"] = await session.videos.search(text)
            seen[f"near_misses {text!r}"] = await session.videos.near_misses(text)
        for value in RESOLVES:
            seen[f"resolve {value!r}"] = await outcome(session.videos.resolve(value))
            seen[f"resolve_by_search {value!r}"] = await outcome(
                session.videos.resolve_by_search(value)
            )
        for guild in (GUILD, ODD_SHARD, 1):
            # SQLite's ranking reaches Python through JSON text, which keeps 15 digits.
            top = await session.ratings.top(guild, 10)
            seen[f"top {guild}"] = (
                [(e.video, e.count, e.mean, round(e.weighted, 12)) for e in top.entries],
                round(top.prior_mean, 12),
                top.prior_weight,
                top.min_ratings,
            )
        for video in ids:
            seen[f"catalog_quotes {video}"] = await session.quotes.catalog_quotes(video)
            for sort in ("newest", "highest"):
                for page in (0, 1, 7):
                    seen[f"takes {video} {sort} {page}"] = await session.takes.page(
                        GUILD, video, sort=sort, page=page, page_size=2
                    )
        seen["bad sort"] = await outcome(
            session.takes.page(GUILD, ids[0], sort="oldest", page=0, page_size=2)
        )
        for guild in (GUILD, ODD_SHARD, EVEN_SHARD, 77, 1):
            seen[f"schedule {guild}"] = await session.daily.schedule(guild)
            seen[f"last_sent {guild}"] = await session.daily.last_sent(guild)
            seen[f"unposted {guild}"] = await session.daily.unposted_count(guild)
            seen[f"export {guild}"] = {
                k: v for k, v in (await session.exports.server(guild)).items() if k != "exported_at"
            }
            for user in (1, 2, 3, 7, 8):
                export = await session.exports.member(guild, user)
                seen[f"export {guild} {user}"] = {
                    k: v for k, v in export.items() if k != "exported_at"
                }
        for date in ("2026-11-21", "2026-11-22", "2026-11-23"):
            seen[f"post {date}"] = await session.daily.post(GUILD, date)
        for shards in [
            None,
            ShardSlice(frozenset({0}), 2),
            ShardSlice(frozenset({1}), 2),
            ShardSlice(frozenset({0, 1}), 2),
            ShardSlice(frozenset({2}), 3),
        ]:
            seen[f"due {shards}"] = await session.daily.due(4700, 10, shards)
            seen[f"next_due_at {shards}"] = await session.daily.next_due_at(shards)
        seen["decided"] = await session.setup.catalog_decided()
        for user in (1, 3, 10):  # member 10 is past TALLIED_PAST ratings: tallied
            seen[f"profile {user}"] = await session.profiles.profile(GUILD, user)
        for suggestion in range(1, 6):
            seen[f"suggestion {suggestion}"] = await session.suggestions.get(suggestion)
        seen["waiting"] = await session.suggestions.waiting(limit=10)
        seen["waiting before"] = await session.suggestions.waiting(before=9, limit=1)
        seen["waiting count"] = await session.suggestions.waiting_count()
        for guild, user in [(GUILD, 1), (GUILD, 2), (GUILD, 3), (ODD_SHARD, 2)]:
            seen[f"suggestions of {guild} {user}"] = await session.suggestions.of_member(
                guild, user, 10
            )
            seen[f"waiting of {guild} {user}"] = await session.suggestions.waiting_of_member(
                guild, user
            )
    async with db.lookup() as lookup:
        pages = await asyncio.gather(
            *(lookup.videos.page(g, v, u) for g in (GUILD, 1) for v in ids for u in (1, 3, None))
        )
        seen["pages"] = pages
        seen["gets"] = await asyncio.gather(*(lookup.videos.get(v) for v in ids))
        seen["gone"] = await outcome(lookup.videos.get(999))
        for video in ids:
            seen[f"credits {video}"] = await lookup.videos.credits_and_sources(video)
            seen[f"credits only {video}"] = await lookup.videos.credits(video)
            seen[f"sources {video}"] = await lookup.videos.sources(video)
            seen[f"reviews {video}"] = await lookup.videos.reviews(video)
            for guild in (GUILD, ODD_SHARD):
                seen[f"summary {guild} {video}"] = await lookup.ratings.summary(guild, video)
                seen[f"take count {guild} {video}"] = await lookup.takes.count(guild, video)
                seen[f"quote count {guild} {video}"] = await lookup.quotes.count(guild, video)
                for user in (1, 2, 3, 5):
                    seen[f"score {guild} {video} {user}"] = await lookup.ratings.member_score(
                        guild, video, user
                    )
                    seen[f"take of {guild} {video} {user}"] = await lookup.takes.of_member(
                        guild, video, user
                    )
        for slug in ("kendrick-lamar-alright", "nope"):
            seen[f"slug {slug}"] = await lookup.videos.get_by_slug(slug)
        for value in RESOLVES:
            seen[f"resolve_exactly {value!r}"] = await outcome(lookup.videos.resolve_exactly(value))
        seen["same title"] = await lookup.videos.same_title_and_artist(
            "ALRIGHT", "kendrick lamar", other_than=None
        )
        for guild in (GUILD, ODD_SHARD, 1):
            seen[f"mean {guild}"] = await lookup.ratings.server_mean(guild)
            seen[f"quotes {guild}"] = await lookup.quotes.count(guild)
            rng = random.Random(guild)
            seen[f"random {guild}"] = [await lookup.quotes.random(guild, rng=rng) for _ in range(9)]
            seen[f"random of video {guild}"] = [
                await lookup.quotes.random(guild, ids[1], rng=rng) for _ in range(5)
            ]
        for take in range(1, 9):
            seen[f"take {take}"] = await lookup.takes.get(take)
            seen[f"take in guild {take}"] = await outcome(lookup.takes.in_guild(GUILD, take))
        for quote in range(1, 14):
            seen[f"quote {quote}"] = await lookup.quotes.get(quote)
            seen[f"quote in guild {quote}"] = await outcome(lookup.quotes.in_guild(GUILD, quote))
        seen["of_message"] = await lookup.quotes.of_message(
            GUILD, 7, "https://discord.com/channels/500/1/2"
        )
        for user in (8, 9, 10):
            seen[f"no_quotes {user}"] = await lookup.members.no_quotes(GUILD, user)
    return seen


async def test_every_query_answers_as_the_sqlite_backend_does(
    sqlite_catalog: SQLiteDatabase, pg_catalog: PostgresDatabase
) -> None:
    assert await act(pg_catalog) == await act(sqlite_catalog)
    expected = await observe(sqlite_catalog)
    found = await observe(pg_catalog)
    assert found.keys() == expected.keys()
    differ = {key: (found[key], expected[key]) for key in expected if found[key] != expected[key]}
    assert differ == {}


async def test_a_typo_finds_the_video(pg_catalog: PostgresDatabase) -> None:
    async with pg_catalog.read() as session:
        assert [v.title for v in await session.videos.search_as_typed("fromation")] == []
        assert [v.title for v in await session.videos.near_misses("fromation")] == ["Formation"]
        assert [v.title for v in await session.videos.search("fromation")] == ["Formation"]
        assert (await session.videos.resolve("fromation")).title == "Formation"


# What several processes on one database must not break.


async def two_processes(url: str) -> tuple[PostgresDatabase, PostgresDatabase]:
    """Two databases on one server, as two bot processes would open them."""
    first, second = PostgresDatabase(url), PostgresDatabase(url)
    await asyncio.gather(first.open(), second.open())
    return first, second


async def test_ratings_from_two_processes_keep_every_aggregate_exact(
    pg_catalog: PostgresDatabase, postgres_url: str
) -> None:
    other = PostgresDatabase(postgres_url)
    await other.open()
    try:
        videos = [await video_id(pg_catalog, v.slug) for v in sample_catalog()[:3]]
        rng = random.Random(13)
        both = (pg_catalog, other)

        async def rate_at_once(writes: list[tuple[int, int, int, int]], first: int) -> None:
            answered = await asyncio.gather(
                *(
                    both[(first + n) % 2].rate(
                        guild_id=g, video_id=v, user_id=u, score=s, rated_at=n
                    )
                    for n, (g, v, u, s) in enumerate(writes)
                )
            )
            assert all(summary.count >= 1 for summary in answered)

        # 200 ratings at once, half through each process, on three videos of two servers:
        # every batch meets the other process's rows.
        writes = [
            (guild, rng.choice(videos), user, rng.randint(1, 10))
            for user in range(100)
            for guild in (GUILD, ODD_SHARD)
        ]
        await rate_at_once(writes, first=0)
        # Then 60 members change their minds through the other process, while 60 more rate
        # for the first time.
        changes = [(g, v, u, rng.randint(1, 10)) for g, v, u, _ in writes[:120:2]]
        changes += [(GUILD, rng.choice(videos), 1000 + u, rng.randint(1, 10)) for u in range(60)]
        await rate_at_once(changes, first=1)
        final = {(g, v, u): s for g, v, u, s in writes + changes}
        async with pg_catalog.lookup() as lookup:
            for guild in (GUILD, ODD_SHARD):
                for video in videos:
                    scores = [s for (g, v, _), s in final.items() if (g, v) == (guild, video)]
                    summary = await lookup.ratings.summary(guild, video)
                    assert (summary.count, summary.total) == (len(scores), sum(scores))
                    assert summary.histogram == tuple(scores.count(k) for k in range(1, 11))
                guild_scores = [s for (g, _, _), s in final.items() if g == guild]
                assert await lookup.ratings.server_mean(guild) == pytest.approx(
                    sum(guild_scores) / len(guild_scores)
                )
    finally:
        await other.close()


async def test_takes_and_agrees_from_two_processes_keep_their_counts_exact(
    pg_catalog: PostgresDatabase, postgres_url: str
) -> None:
    other = PostgresDatabase(postgres_url)
    await other.open()
    try:
        alright = await video_id(pg_catalog, "kendrick-lamar-alright")
        both = (pg_catalog, other)
        await asyncio.gather(
            *(
                both[user % 2].save_take(
                    guild_id=GUILD, video_id=alright, user_id=user, score=1 + user % 10,
                    text=f"take {user}", now=user,
                )
                for user in range(60)
            ),
            *(  # edits of the first ten, at the same moment
                both[user % 2].save_take(
                    guild_id=GUILD, video_id=alright, user_id=user, score=10,
                    text="changed my mind", now=500,
                )
                for user in range(10)
            ),
        )  # fmt: skip
        async with pg_catalog.read() as session:
            top = await session.takes.page(GUILD, alright, sort="newest", page=0, page_size=1)
            take = top.takes[0]

        async def agree(db: PostgresDatabase, user: int) -> bool:
            async with db.transaction() as tx:
                return await tx.takes.agree(take, user)

        added = await asyncio.gather(*(agree(both[u % 2], 1000 + u % 30) for u in range(60)))
        assert sum(added) == 30
        async with pg_catalog.lookup() as lookup:
            assert await lookup.takes.count(GUILD, alright) == 60
            saved = await lookup.takes.get(take.id)
            assert saved is not None and saved.agree_count == 30
            summary = await lookup.ratings.summary(GUILD, alright)
            assert summary.count == 60
    finally:
        await other.close()


async def test_two_processes_starting_on_an_empty_database_migrate_it_once(
    postgres_url: str,
) -> None:
    first, second = await two_processes(postgres_url)
    try:
        assert sorted([first.is_new, second.is_new]) == [False, True]
        conn = await asyncpg.connect(postgres_url)
        try:
            applied = await conn.fetch("SELECT version, name FROM schema_version ORDER BY version")
        finally:
            await conn.close()
        assert [tuple(row) for row in applied] == [
            (int(path.name[:4]), path.name) for path in sorted(MIGRATIONS_DIR.glob("*.sql"))
        ]
    finally:
        await first.close()
        await second.close()


async def test_two_processes_starting_on_an_empty_database_load_the_sample_once(
    postgres_url: str,
) -> None:
    first, second = PostgresDatabase(postgres_url), PostgresDatabase(postgres_url)
    await asyncio.gather(
        prepare_database(first, load_sample_catalog=True),
        prepare_database(second, load_sample_catalog=True),
    )
    try:
        async with first.read() as session:
            assert await session.videos.count() == len(sample_catalog())
            catalog_quotes = [
                q
                for v in await session.videos.all()
                for q in await session.quotes.catalog_quotes(v.id)
            ]
        assert len(catalog_quotes) == sum(len(v.quotes) for v in sample_catalog())
    finally:
        await first.close()
        await second.close()


async def test_a_migration_that_fails_leaves_the_database_as_it_was(
    postgres_url: str, tmp_path: Path
) -> None:
    for path in MIGRATIONS_DIR.glob("*.sql"):
        (tmp_path / path.name).write_text(path.read_text())
    broken_name = f"{len(list(MIGRATIONS_DIR.glob('*.sql'))) + 1:04d}_broken.sql"
    (tmp_path / broken_name).write_text(
        "CREATE TABLE half_done (n integer);\nINSERT INTO no_such_table VALUES (1);\n"
    )
    broken = PostgresDatabase(postgres_url, migrations=tmp_path)
    with pytest.raises(
        MigrationError, match=re.escape(f"{broken_name} failed and was rolled back")
    ):
        await broken.open()
    assert not broken.is_open
    conn = await asyncpg.connect(postgres_url)
    try:
        latest = len(list(MIGRATIONS_DIR.glob("*.sql")))  # every one before the broken one
        assert await conn.fetchval("SELECT max(version) FROM schema_version") == latest
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
    finally:
        await conn.close()


async def test_a_migration_may_not_manage_the_transaction_itself(
    postgres_url: str, tmp_path: Path
) -> None:
    (tmp_path / "0001_sneaky.sql").write_text(
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;\n"
        "COMMIT;\nCREATE TABLE t (n integer);\n"
    )
    sneaky = PostgresDatabase(postgres_url, migrations=tmp_path)
    with pytest.raises(
        MigrationError, match=re.escape("statement 2 (COMMIT) manages the transaction")
    ):
        await sneaky.open()
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('schema_version')") is None
    finally:
        await conn.close()


async def backend_pid(tx: Any) -> int:
    return int(await tx.conn.fetchval("SELECT pg_backend_pid()"))


async def test_a_connection_killed_mid_transaction_leaves_nothing_half_written(
    pg_catalog: PostgresDatabase, postgres_url: str
) -> None:
    admin = await asyncpg.connect(postgres_url)
    try:
        with pytest.raises(CannotSaveError) as refused:
            async with pg_catalog.transaction() as tx:
                await tx.quotes.add(guild_id=GUILD, text="half", created_at=1, saved_by=1)
                await tx.members.set_no_quotes(GUILD, 1, True)
                await admin.execute("SELECT pg_terminate_backend($1)", await backend_pid(tx))
                await tx.daily.set_next_quote(GUILD, None)
        assert refused.value.message == BROKEN_SENTENCE
        async with pg_catalog.lookup() as lookup:
            assert await lookup.quotes.count(GUILD) == 0
            assert not await lookup.members.no_quotes(GUILD, 1)
        # The pool replaces the lost connection: the next unit of work commits.
        async with pg_catalog.transaction() as tx:
            await tx.quotes.add(guild_id=GUILD, text="whole", created_at=1, saved_by=1)
        async with pg_catalog.lookup() as lookup:
            assert await lookup.quotes.count(GUILD) == 1
    finally:
        await admin.close()


async def test_a_batch_of_ratings_cut_off_mid_write_saves_none_of_them(
    pg_catalog: PostgresDatabase, postgres_url: str
) -> None:
    admin = await asyncpg.connect(postgres_url)
    alright = await video_id(pg_catalog, "kendrick-lamar-alright")
    try:
        # Hold the video's aggregate row, so the batch stops inside its transaction.
        holding = admin.transaction()
        await holding.start()
        await admin.execute(
            "INSERT INTO video_scores (guild_id, video_id, count, total) VALUES ($1, $2, 0, 0)",
            GUILD,
            alright,
        )
        rating = asyncio.gather(
            *(
                pg_catalog.rate(guild_id=GUILD, video_id=alright, user_id=u, score=5, rated_at=0)
                for u in range(20)
            ),
            return_exceptions=True,
        )
        await admin.execute("SELECT pg_terminate_backend($1)", await waiting_for_a_lock(admin))
        results = await rating
        await holding.rollback()
        assert results and all(
            isinstance(r, CannotSaveError) and r.message == BROKEN_SENTENCE for r in results
        )
        count = await admin.fetchval("SELECT count(*) FROM ratings WHERE guild_id = $1", GUILD)
        assert count == 0
        summary = await pg_catalog.rate(
            guild_id=GUILD, video_id=alright, user_id=1, score=5, rated_at=0
        )
        assert (summary.count, summary.total) == (1, 5)
    finally:
        await admin.close()


async def waiting_for_a_lock(admin: asyncpg.Connection[Any]) -> int:
    """The server process of the connection that waits for a lock (another holds it)."""
    for _ in range(1000):  # ten seconds at most: a wait that never comes fails the test
        pid = await admin.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database() LIMIT 1"
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.01)
    raise AssertionError("no connection waited for a lock")


async def test_writes_are_refused_once_shutdown_begins(pg_catalog: PostgresDatabase) -> None:
    alright = await video_id(pg_catalog, "kendrick-lamar-alright")
    pg_catalog.refuse_writes("TakeTwo is restarting")
    with pytest.raises(CannotSaveError, match="TakeTwo is restarting: nothing was saved"):
        await pg_catalog.rate(guild_id=GUILD, video_id=alright, user_id=1, score=5, rated_at=0)
    with pytest.raises(CannotSaveError, match="TakeTwo is restarting"):
        async with pg_catalog.transaction() as tx:
            await tx.quotes.add(guild_id=GUILD, text="late", created_at=1)
    async with pg_catalog.lookup() as lookup:
        assert await lookup.ratings.summary(GUILD, alright) == ScoreSummary()
        assert await lookup.quotes.count(GUILD) == 0


async def test_a_read_only_server_refuses_writes_with_one_log_line(
    pg_catalog: PostgresDatabase, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    alright = await video_id(pg_catalog, "kendrick-lamar-alright")
    admin = await asyncpg.connect(postgres_url)
    try:
        database = await admin.fetchval("SELECT current_database()")
        await admin.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
        standby = PostgresDatabase(postgres_url)
        await standby.open()  # reading the schema version needs no write
        try:
            with caplog.at_level(logging.ERROR, logger="taketwo.db"):
                for user in (1, 2, 3):
                    with pytest.raises(CannotSaveError) as refused:
                        await standby.rate(
                            guild_id=GUILD, video_id=alright, user_id=user, score=5, rated_at=0
                        )
                    assert refused.value.message == BROKEN_SENTENCE
            assert len([r for r in caplog.records if "read-only" in r.getMessage()]) == 1
        finally:
            await standby.close()
    finally:
        await admin.close()


async def test_a_lock_held_too_long_tells_the_member_to_try_again(
    pg_catalog: PostgresDatabase, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(connections.SERVER_SETTINGS, "lock_timeout", "200")
    impatient = PostgresDatabase(postgres_url)
    await impatient.open()
    admin = await asyncpg.connect(postgres_url)
    try:
        async with admin.transaction():  # a long import beside the bot, say
            await admin.execute("LOCK TABLE member_settings IN EXCLUSIVE MODE")
            with pytest.raises(CannotSaveError) as refused:
                async with impatient.transaction() as tx:
                    await tx.members.set_no_quotes(GUILD, 1, True)
        assert refused.value.message == BUSY_SENTENCE
    finally:
        await admin.close()
        await impatient.close()


def test_a_full_disk_is_named_as_such() -> None:
    """PostgreSQL's own error for a full disk (SQLSTATE 53100), as asyncpg raises it."""
    full = asyncpg.DiskFullError("could not extend file: No space left on device")
    assert cannot_save(full, FailureLog()).message == FULL_SENTENCE


@pytest.mark.parametrize(
    ("url", "kind", "line"),
    [
        ("postgresql://postgres@127.0.0.1:1/taketwo", DatabaseBusy, "cannot be reached"),
        ("mysql://root@127.0.0.1/taketwo", DatabaseUnusable, "not a PostgreSQL address"),
        (
            "postgresql://postgres@127.0.0.1:notaport/x",
            DatabaseUnusable,
            "not a PostgreSQL address",
        ),
    ],
)
async def test_a_server_that_cannot_be_used_gets_one_line_for_the_operator(
    url: str, kind: type[Exception], line: str
) -> None:
    database = PostgresDatabase(url)
    with pytest.raises(kind, match=line) as refused:
        await database.open()
    assert type(refused.value) is kind
    assert "\n" not in str(refused.value)
    assert not database.is_open


async def test_a_wrong_database_name_is_named_without_the_password(postgres_url: str) -> None:
    base, _, _ = postgres_url.rpartition("/")
    url = base.replace("postgres@", "postgres:hunter2@") + "/no_such_database"
    with pytest.raises(DatabaseUnusable, match="refused TakeTwo") as refused:
        await PostgresDatabase(url).open()
    assert type(refused.value) is DatabaseUnusable
    assert "no_such_database" in str(refused.value) and "hunter2" not in str(refused.value)


async def test_no_connection_left_means_try_again_later(
    pg: PostgresDatabase, postgres_url: str
) -> None:
    admin = await asyncpg.connect(postgres_url)
    role = f"limited_{await admin.fetchval('SELECT current_database()')}"
    try:
        # Superusers are not held to connection limits: the bot's user is an ordinary one.
        # Room for one process: its pool of two and its catalog listener.
        await admin.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 3')
        await admin.execute(f'GRANT SELECT ON schema_version, catalog_version TO "{role}"')
    finally:
        await admin.close()
    url = postgres_url.replace("postgres@", f"{role}@")
    first = PostgresDatabase(url, min_connections=2, max_connections=2)
    await first.open()
    try:
        with pytest.raises(DatabaseBusy, match=re.escape("is busy (too many connections")):
            await PostgresDatabase(url, min_connections=1).open()
    finally:
        await first.close()


# Units of work that read, decide and write take turns.


def once_it_waits(postgres_url: str, second: Awaitable[Any]) -> Awaitable[asyncio.Future[Any]]:
    """Start `second` and return it once it waits for a lock: called inside an open unit of
    work, this is the worst moment for another one to read, decide and write."""

    async def started() -> asyncio.Future[Any]:
        task = asyncio.ensure_future(second)
        admin = await asyncpg.connect(postgres_url)
        try:
            await waiting_for_a_lock(admin)
        finally:
            await admin.close()
        return task

    return started()


async def test_two_processes_adding_quotes_at_once_keep_the_slots_dense(
    pg_catalog: PostgresDatabase, postgres_url: str
) -> None:
    other = PostgresDatabase(postgres_url)
    await other.open()
    try:

        async def add(db: PostgresDatabase, text: str) -> Quote:
            async with db.transaction() as tx:
                return await tx.quotes.add(guild_id=GUILD, text=text, created_at=1, saved_by=1)

        async with pg_catalog.transaction() as tx:
            await tx.quotes.add(guild_id=GUILD, text="first", created_at=1, saved_by=1)
            waiting = await once_it_waits(postgres_url, add(other, "second"))
        await waiting
        quotes = await asyncio.gather(
            *(add((pg_catalog, other)[n % 2], f"q{n}") for n in range(40))
        )
        assert len(quotes) == 40
        conn = await asyncpg.connect(postgres_url)
        try:
            slots = await conn.fetch("SELECT slot FROM quotes WHERE guild_id = $1", GUILD)
        finally:
            await conn.close()
        assert sorted(row[0] for row in slots) == list(range(1, 43))
    finally:
        await other.close()


async def test_the_same_message_saved_twice_at_once_is_saved_once(
    pg_catalog: PostgresDatabase, postgres_url: str
) -> None:
    other = PostgresDatabase(postgres_url)
    await other.open()
    link = "https://discord.com/channels/500/1/2"
    try:

        async def save(db: PostgresDatabase) -> Quote:
            """What /quote-this-message does: look for the message, else save it."""
            async with db.transaction() as tx:
                saved = await tx.quotes.of_message(GUILD, 7, link)
                if saved is not None:
                    return saved
                return await tx.quotes.add(
                    guild_id=GUILD, text="words", created_at=1, author_id=7, source_url=link
                )

        async with pg_catalog.transaction() as tx:
            assert await tx.quotes.of_message(GUILD, 7, link) is None
            waiting = await once_it_waits(postgres_url, save(other))
            first = await tx.quotes.add(
                guild_id=GUILD, text="words", created_at=1, author_id=7, source_url=link
            )
        assert await waiting == first
        async with pg_catalog.lookup() as lookup:
            assert await lookup.quotes.count(GUILD) == 1
    finally:
        await other.close()


async def test_two_editors_adding_the_same_title_at_once_get_two_slugs(
    pg_catalog: PostgresDatabase, postgres_url: str
) -> None:
    other = PostgresDatabase(postgres_url)
    await other.open()
    try:

        async def add_video(db: PostgresDatabase) -> str:
            async with db.transaction() as tx:
                slug = await tx.videos.slug_for("Kendrick Lamar", "DNA.")
                await tx.videos.upsert(
                    slug=slug, title="DNA.", artist="Kendrick Lamar", album=None, year=None,
                    url=None,
                )  # fmt: skip
                return slug

        async with pg_catalog.transaction() as tx:
            slug = await tx.videos.slug_for("Kendrick Lamar", "DNA.")
            waiting = await once_it_waits(postgres_url, add_video(other))
            await tx.videos.upsert(
                slug=slug, title="DNA.", artist="Kendrick Lamar", album=None, year=None, url=None
            )
        assert (slug, await waiting) == ("kendrick-lamar-dna", "kendrick-lamar-dna-2")
        async with pg_catalog.read() as session:
            assert await session.videos.count() == 7
    finally:
        await other.close()


async def test_two_moderators_removing_one_take_at_once_log_one_removal(
    pg_catalog: PostgresDatabase, postgres_url: str
) -> None:
    other = PostgresDatabase(postgres_url)
    await other.open()
    alright = await video_id(pg_catalog, "kendrick-lamar-alright")
    take = await pg_catalog.save_take(
        guild_id=GUILD, video_id=alright, user_id=1, score=2, text="Spoilers!", now=1
    )
    try:

        async def remove(db: PostgresDatabase, moderator: int) -> None:
            """What /take-remove does."""
            async with db.transaction() as tx:
                found = await tx.takes.in_guild(GUILD, take.id)
                await tx.takes.remove(found.id)
                await tx.members.log_removal(
                    guild_id=GUILD, kind="take", item_id=found.id, author_id=found.user_id,
                    removed_by=moderator, reason=None, now=2,
                )  # fmt: skip

        async with pg_catalog.transaction() as tx:
            found = await tx.takes.in_guild(GUILD, take.id)
            waiting = await once_it_waits(postgres_url, remove(other, 9))
            await tx.takes.remove(found.id)
            await tx.members.log_removal(
                guild_id=GUILD, kind="take", item_id=found.id, author_id=1, removed_by=8,
                reason=None, now=2,
            )  # fmt: skip
        with pytest.raises(UserFacingError, match=f"There is no take #{take.id} in this server"):
            await waiting
        async with pg_catalog.read() as session:
            log = (await session.exports.server(GUILD))["moderation_log"]
        assert [(entry["item_id"], entry["removed_by"]) for entry in log] == [(str(take.id), "8")]
    finally:
        await other.close()


class CountingSender:
    """Discord as the daily scheduler sees it: counts each server's posts."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def send(
        self, *, guild_id: int, channel_id: int, local_date: str, quote: Quote, nonce: str
    ) -> int:
        await asyncio.sleep(0)  # the other process runs meanwhile
        self.sent.append((guild_id, local_date))
        return len(self.sent)

    async def find_post(
        self, *, guild_id: int, channel_id: int, local_date: str, nonce: str, since: datetime
    ) -> int | None:
        return None


async def test_two_processes_running_the_same_shard_post_each_day_once(
    pg_catalog: PostgresDatabase, postgres_url: str
) -> None:
    """A rolling deploy: for a moment two processes run the same shard's daily posts."""
    other = PostgresDatabase(postgres_url)
    await other.open()
    morning = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    posting_time = morning + timedelta(hours=1, seconds=30)
    sender = CountingSender()
    try:
        setup = DailyScheduler(pg_catalog, sender, clock=lambda: morning)
        guilds = [GUILD + n for n in range(20)]
        for guild in guilds:
            await setup.configure(
                guild_id=guild, channel_id=guild, post_time="09:00", timezone="UTC", user_id=1
            )
        old, new = (
            DailyScheduler(db, sender, clock=lambda: posting_time, send_gap=0, owner=name)
            for db, name in ((pg_catalog, "old"), (other, "new"))
        )
        outcomes = await asyncio.gather(old.run_due(), new.run_due())
        assert sorted(sender.sent) == [(g, "2026-11-23") for g in guilds]
        assert sum(o.get("sent", 0) for o in outcomes) == 20
    finally:
        await other.close()


async def test_erasing_deleted_text_removes_it_from_every_row_of_the_tables(
    pg_catalog: PostgresDatabase, postgres_url: str
) -> None:
    alright = await video_id(pg_catalog, "kendrick-lamar-alright")
    secret = "a sentence nobody should find again"
    await pg_catalog.save_take(
        guild_id=GUILD, video_id=alright, user_id=2, score=3, text=secret, now=1
    )
    await pg_catalog.save_take(
        guild_id=GUILD, video_id=alright, user_id=3, score=3, text="stays", now=2
    )
    async with pg_catalog.transaction() as tx:
        await tx.quotes.add(guild_id=GUILD, text=secret, created_at=1, author_id=2)
        await tx.members.forget(GUILD, 2)
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")

        async def rows_holding(table: str) -> int:
            """Tuples, live or dead, on the table's pages that hold the text."""
            return int(
                await admin.fetchval(
                    "SELECT count(*) FROM generate_series(0, pg_relation_size($1::regclass) "
                    "/ current_setting('block_size')::integer - 1) AS page, "
                    "heap_page_items(get_raw_page($1::text, page::integer)) AS item "
                    "WHERE position(convert_to($2, 'UTF8') IN item.t_data) > 0",
                    table,
                    secret,
                )
            )

        # Gone from every query at once, but still on the pages as dead rows...
        assert (await rows_holding("takes"), await rows_holding("quotes")) == (1, 1)
        await pg_catalog.erase_deleted_text()
        # ...until the erase makes them no row at all.
        assert (await rows_holding("takes"), await rows_holding("quotes")) == (0, 0)
    finally:
        await admin.close()


async def test_a_lookup_session_has_no_scans_and_a_read_session_no_writes(
    pg: PostgresDatabase,
) -> None:
    async with pg.lookup() as lookup:
        assert isinstance(lookup, PostgresLookupSession)
    async with pg.read() as read:
        assert isinstance(read, PostgresReadSession)
    await assert_lookups_hold_no_scans_and_reads_no_writes(pg)


async def test_the_factory_gives_a_database_the_bot_can_start_on(postgres_url: str) -> None:
    database = postgres_database(postgres_url, max_connections=3)
    await database.open()
    try:
        assert database.is_open and database.is_new and not database.predates_catalog_decisions
        async with database.read() as session:
            assert not await session.setup.catalog_decided()
    finally:
        await database.close()
    assert not database.is_open
