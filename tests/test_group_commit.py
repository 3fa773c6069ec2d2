"""Ratings and takes share one way in: batches of concurrent writes committed together, each
member answered after the commit, with their own write's outcome."""

from __future__ import annotations

import asyncio

import pytest

from bot.db import Database
from bot.db.models import Take
from bot.errors import CannotSaveError, NotFoundError

GUILD = 500
AT = 1_795_219_200


async def take(db: Database, user: int, score: int, text: str, video: int = 1) -> Take:
    return await db.save_take(
        guild_id=GUILD, video_id=video, user_id=user, score=score, text=text, now=AT
    )


async def test_two_takes_of_one_member_in_one_batch_each_hear_their_own(
    catalog_db: Database,
) -> None:
    first, second = await asyncio.gather(
        take(catalog_db, 7, 7, "First thoughts."), take(catalog_db, 7, 3, "Second thoughts.")
    )
    assert (first.score, first.text) == (7, "First thoughts.")
    assert (second.score, second.text) == (3, "Second thoughts.")
    assert first.id == second.id  # one take per member per video: the second edited it
    async with catalog_db.read() as session:
        stored = await session.takes.of_member(GUILD, 1, 7)
        assert stored is not None and (stored.score, stored.text) == (3, "Second thoughts.")
        assert await session.ratings.member_score(GUILD, 1, 7) == 3


async def test_a_take_and_a_rating_in_one_batch_apply_in_the_order_they_came(
    catalog_db: Database,
) -> None:
    await asyncio.gather(
        take(catalog_db, 7, 9, "Loved it."),
        catalog_db.rate(guild_id=GUILD, video_id=1, user_id=7, score=4, rated_at=AT),
    )
    async with catalog_db.read() as session:
        assert await session.ratings.member_score(GUILD, 1, 7) == 4
        stored = await session.takes.of_member(GUILD, 1, 7)
        assert stored is not None and stored.text == "Loved it."
        assert (await session.ratings.summary(GUILD, 1)).count == 1


async def test_a_take_on_a_video_removed_meanwhile_is_refused_and_the_others_saved(
    catalog_db: Database,
) -> None:
    async with catalog_db.transaction() as tx:
        await tx.videos.remove_everywhere(2)
    results = await asyncio.gather(
        take(catalog_db, 7, 8, "Still here."),
        take(catalog_db, 8, 6, "Gone?", video=2),
        return_exceptions=True,
    )
    kept, refused = results
    assert isinstance(kept, Take) and kept.text == "Still here."
    assert isinstance(refused, NotFoundError)
    assert refused.message == "That video is no longer in the catalog."
    async with catalog_db.read() as session:
        assert await session.takes.of_member(GUILD, 2, 8) is None
        assert await session.ratings.member_score(GUILD, 2, 8) is None


async def test_a_take_sent_while_the_bot_closes_is_refused_and_not_saved(
    catalog_db: Database,
) -> None:
    catalog_db.refuse_writes("TakeTwo is restarting")
    with pytest.raises(CannotSaveError, match="nothing was saved"):
        await take(catalog_db, 7, 8, "Too late.")
    async with catalog_db.read() as session:
        assert await session.takes.of_member(GUILD, 1, 7) is None


async def test_nothing_queued_is_left_unanswered_when_the_database_closes(
    catalog_db: Database,
) -> None:
    writes = [
        asyncio.ensure_future(
            catalog_db.rate(guild_id=GUILD, video_id=1, user_id=u, score=5, rated_at=AT)
        )
        for u in range(50)
    ]
    await asyncio.sleep(0)  # queued, the first batch under way
    await catalog_db.close()
    late = await asyncio.gather(
        catalog_db.rate(guild_id=GUILD, video_id=1, user_id=99, score=5, rated_at=AT),
        return_exceptions=True,
    )
    answered = await asyncio.gather(*writes, return_exceptions=True)
    assert all(not isinstance(a, BaseException) for a in answered), answered
    assert isinstance(late[0], (CannotSaveError, RuntimeError))
