from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.db import Database
from bot.db.models import MIN_RATINGS, PRIOR_WEIGHT, ScoreSummary, VideoPage
from bot.db.sqlite.database import SQLiteDatabase
from bot.errors import UserFacingError
from tests import raw

GUILD = 500


async def rate(
    db: Database, video_id: int, user_id: int, score: int, guild: int = GUILD
) -> ScoreSummary:
    return await db.rate(
        guild_id=guild, video_id=video_id, user_id=user_id, score=score, rated_at=1_795_219_200
    )


async def page(db: Database, guild: int, video_id: int, user_id: int) -> VideoPage:
    async with db.lookup() as session:
        return await session.videos.page(guild, video_id, user_id)


async def recomputed(db: Database, guild: int, video_id: int) -> tuple[int, int, list[int]]:
    scores = [
        r[0]
        for r in await raw.rows(
            db, "SELECT score FROM ratings WHERE guild_id = ? AND video_id = ?", guild, video_id
        )
    ]
    return len(scores), sum(scores), [scores.count(k) for k in range(1, 11)]


async def test_rating_again_replaces_the_score(catalog_db: Database) -> None:
    summary = await rate(catalog_db, 1, 7, 4)
    assert (summary.count, summary.mean) == (1, 4.0)
    summary = await rate(catalog_db, 1, 7, 9)
    assert (summary.count, summary.mean) == (1, 9.0)
    assert summary.histogram[8] == 1 and summary.histogram[3] == 0
    async with catalog_db.read() as session:
        assert await session.ratings.member_score(GUILD, 1, 7) == 9


async def test_scores_are_per_server(catalog_db: Database) -> None:
    await rate(catalog_db, 1, 7, 10, guild=1)
    await rate(catalog_db, 1, 7, 2, guild=2)
    async with catalog_db.read() as session:
        assert (await session.ratings.summary(1, 1)).mean == 10
        assert (await session.ratings.summary(2, 1)).mean == 2


async def test_out_of_range_score_is_refused_and_writes_nothing(catalog_db: Database) -> None:
    for bad in (0, 11, -3):
        with pytest.raises(UserFacingError):
            await rate(catalog_db, 1, 7, bad)
    async with catalog_db.read() as session:
        assert (await session.ratings.summary(GUILD, 1)).count == 0


async def test_concurrent_ratings_from_many_members_keep_exact_aggregates(
    catalog_db: Database,
) -> None:
    members = range(1, 201)
    await asyncio.gather(*(rate(catalog_db, 1, m, m % 10 + 1) for m in members))
    # Half of them change their minds at the same time as new members arrive.
    await asyncio.gather(
        *(rate(catalog_db, 1, m, (m * 7) % 10 + 1) for m in range(1, 101)),
        *(rate(catalog_db, 1, m, 10) for m in range(201, 251)),
    )
    async with catalog_db.read() as session:
        summary = await session.ratings.summary(GUILD, 1)
    count, total, histogram = await recomputed(catalog_db, GUILD, 1)
    assert (summary.count, summary.total, list(summary.histogram)) == (count, total, histogram)
    assert summary.count == 250


async def test_failed_unit_of_work_leaves_no_half_write(catalog_db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with catalog_db.transaction() as tx:
            await tx.quotes.add(guild_id=GUILD, text="Half", created_at=1_795_219_200)
            await tx.daily.set_next_quote(GUILD, None)
            raise RuntimeError("crash after the first write")
    async with catalog_db.read() as session:
        assert await session.quotes.count(GUILD) == 0


async def test_top_uses_a_bayesian_mean_and_a_minimum_count(catalog_db: Database) -> None:
    # Video 1: many 9s. Video 2: a few 10s, which the prior pulls below video 1.
    # Video 3: too few ratings to be listed. Video 4: many 3s.
    for user in range(20):
        await rate(catalog_db, 1, user, 9)
    for user in range(MIN_RATINGS):
        await rate(catalog_db, 2, user, 10)
    await rate(catalog_db, 3, 1, 10)
    for user in range(30):
        await rate(catalog_db, 4, user, 3)
    async with catalog_db.read() as session:
        top = await session.ratings.top(GUILD, 10)
    assert [e.video.id for e in top.entries] == [1, 2, 4]
    ratings = [9] * 20 + [10] * MIN_RATINGS + [10] + [3] * 30
    prior = sum(ratings) / len(ratings)
    assert top.prior_mean == pytest.approx(prior)
    expected_2 = (PRIOR_WEIGHT * prior + 10 * MIN_RATINGS) / (PRIOR_WEIGHT + MIN_RATINGS)
    assert top.entries[1].weighted == pytest.approx(expected_2)
    assert top.entries[1].mean == 10


async def test_concurrent_review_pages_share_one_read(catalog_db: Database) -> None:
    import asyncio

    from bot.errors import NotFoundError

    await rate(catalog_db, 1, 7, 9)
    await rate(catalog_db, 2, 8, 4, guild=77)
    results = await asyncio.gather(
        page(catalog_db, GUILD, 1, 7),
        page(catalog_db, 77, 2, 8),
        page(catalog_db, GUILD, 999_999, 7),
        page(catalog_db, GUILD, 1, 8),
        return_exceptions=True,
    )
    first, second, missing, other_member = results
    assert first.video.title == "We Cry Together" and first.member_score == 9  # type: ignore[union-attr]
    assert first.score.count == 1 and len(first.credits) == 6  # type: ignore[union-attr]
    assert second.score.mean == 4 and second.member_score == 4  # type: ignore[union-attr]
    assert isinstance(missing, NotFoundError)
    assert other_member.member_score is None  # type: ignore[union-attr]


async def test_one_batch_repeating_a_member_keeps_the_last_score(
    catalog_db: Database,
) -> None:
    """Ratings that share a batch are applied in the order they arrived."""
    summaries = await asyncio.gather(
        *(
            catalog_db.rate(guild_id=GUILD, video_id=1, user_id=7, score=s, rated_at=1_795_219_200)
            for s in (3, 8, 6)
        )
    )
    assert [s.count for s in summaries] == [1, 1, 1]
    assert summaries[-1].total == 6
    assert await recomputed(catalog_db, GUILD, 1) == (1, 6, [0, 0, 0, 0, 0, 1, 0, 0, 0, 0])


async def test_committed_ratings_reach_the_database_file_in_the_background(
    sqlite_catalog_db: SQLiteDatabase,
) -> None:
    """Checkpoints run on their own connection: the writer commits to the WAL only, and the
    rows still land in the main file soon after, long before the writer's own threshold.
    (SQLite's write-ahead log: PostgreSQL has nothing like it to check.)"""
    catalog_db = sqlite_catalog_db
    await asyncio.gather(
        *(
            catalog_db.rate(guild_id=GUILD, video_id=2, user_id=u, score=7, rated_at=1_795_219_200)
            for u in range(50)
        )
    )
    # immutable=1 reads the main file alone, ignoring the WAL.
    uri = f"file:{catalog_db.path}?immutable=1"
    count = None
    for _ in range(500):
        try:
            with sqlite3.connect(uri, uri=True) as conn:
                (count,) = conn.execute(
                    "SELECT count(*) FROM ratings WHERE guild_id = ? AND video_id = 2", (GUILD,)
                ).fetchone()
        except sqlite3.DatabaseError:
            count = None  # read while the checkpoint was still copying: look again
        if count == 50:
            break
        await asyncio.sleep(0.01)
    assert count == 50
