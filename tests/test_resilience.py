"""Every member is answered, and every answer tells the truth about the database: behind a
held lock, on a full disk, in a burst, and when a caller of the group commit goes away."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest

from bot.db import Database
from bot.db.models import ScoreSummary
from bot.db.sqlite import connections as database_module
from bot.errors import CannotSaveError, NotFoundError
from bot.ui import replies
from tests.standin_harness import World
from tests.stores import Stores
from tests.storm import answers, fire


async def video_ids(world: World, *titles: str) -> list[int]:
    async with world.db.read() as session:
        return [(await session.videos.resolve(title)).id for title in titles]


async def stored_score(world: World, video_id: int, user_id: int) -> int | None:
    async with world.db.read() as session:
        return await session.ratings.member_score(world.guild.id, video_id, user_id)


@pytest.mark.sqlite_only  # another SQLite program holding the file's write lock
async def test_writes_behind_a_held_lock_are_deferred_and_every_answer_is_true(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process (an import, a backup tool) holds the write lock for 1.6 s; the bot
    # waits for it at most 1 s a transaction and defers what is silent after 0.5 s (the
    # production numbers, 5 s and 2 s, scaled down to keep the test short).
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_MS", 1000)
    monkeypatch.setattr(replies, "DEFER_AFTER", 0.5)
    world = World(await stores.sample("e2e.sqlite3"))
    await world.start()
    blocker = sqlite3.connect(world.sqlite_db.path, isolation_level=None)
    try:
        [video] = await video_ids(world, "Alright")
        members = [world.member(f"m{n}") for n in range(8)]
        blocker.execute("BEGIN IMMEDIATE")
        asyncio.get_running_loop().call_later(1.6, blocker.execute, "ROLLBACK")
        first = [await fire(m, "rate", video=f"id:{video}", score=3) for m in members[:4]]
        await asyncio.sleep(0.4)
        second = [await fire(m, "rate", video=f"id:{video}", score=8) for m in members[4:]]
        records = first + second
        seen = await answers(world.standin, records, within=15)
        assert None not in seen, "a member was told nothing"
        assert any(r.response_type == 5 for r in records), "nothing needed a deferral"
        saved = 0
        for member, record, text in zip(members, records, seen, strict=True):
            assert text is not None
            score = await stored_score(world, video, member.id)
            if text.startswith("You rated"):
                assert score == (3 if record in first else 8)
                saved += 1
            else:
                assert "busy" in text and "Nothing was saved" in text, text
                assert score is None
        assert saved >= 4  # the second wave waits behind the failed first and then commits
        world.assert_discord_was_happy()
    finally:
        blocker.close()
        await world.close()


@pytest.mark.sqlite_only  # SQLite's size cap stands for the full disk
async def test_a_full_disk_refuses_writes_with_one_sentence_and_one_log_line(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # No free pages left in the file, and no room to grow: SQLite's own size cap fails a
    # write exactly as a full disk does (SQLITE_FULL).
    vacuum = sqlite3.connect(world.sqlite_db.path)
    vacuum.execute("VACUUM")
    vacuum.close()
    # A cap is a setting of one connection: the writer's own, reached past the interface.
    writer = world.sqlite_db._open_writer().conn
    [[pages]] = await writer.fetchall("PRAGMA page_count")
    await writer.execute(f"PRAGMA max_page_count = {pages}")
    videos = await video_ids(world, "Alright", "HUMBLE.", "We Cry Together")
    members = [world.member(f"m{n}") for n in range(150)]
    caplog.set_level(logging.INFO)
    records = [
        await fire(m, "rate", video=f"id:{videos[n % 3]}", score=n % 10 + 1)
        for n, m in enumerate(members)
    ]
    seen = await answers(world.standin, records, within=20)
    full = 0
    for n, (member, text) in enumerate(zip(members, seen, strict=True)):
        assert text is not None, "a member was told nothing"
        score = await stored_score(world, videos[n % 3], member.id)
        if text.startswith("You rated"):
            assert score == n % 10 + 1
        else:
            assert "disk it saves to is full" in text and "Nothing was saved" in text, text
            assert score is None
            full += 1
    assert full > 0
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert "SQLITE_FULL" in errors[0].getMessage()
    world.assert_discord_was_happy()


async def test_no_rating_caller_waits_forever(catalog_db: Database) -> None:
    db = catalog_db
    async with db.read() as session:
        video = (await session.videos.resolve("Alright")).id

    def rate(user_id: int, video_id: int) -> asyncio.Task[ScoreSummary]:
        return asyncio.create_task(
            db.rate(guild_id=1, video_id=video_id, user_id=user_id, score=7, rated_at=1_795_219_200)
        )

    # One caller goes away, one rates a video that no longer exists, one is ordinary: all in
    # one batch.
    gone = rate(1, video)
    ordinary = rate(2, video)
    removed_video = rate(3, 10**9)
    await asyncio.sleep(0)
    gone.cancel()
    result, refused = await asyncio.wait_for(
        asyncio.gather(ordinary, removed_video, return_exceptions=True), 5
    )
    assert isinstance(result, ScoreSummary) and result.count >= 1
    assert isinstance(refused, NotFoundError)
    # And the flusher still works for the next caller.
    after = await asyncio.wait_for(rate(4, video), 5)
    assert after.count == result.count + 1 or after.count == result.count + 2


async def test_commits_are_refused_once_shutdown_refuses_writes(catalog_db: Database) -> None:
    db = catalog_db
    async with db.read() as session:
        video = (await session.videos.resolve("Alright")).id
    db.refuse_writes("TakeTwo is restarting")
    with pytest.raises(CannotSaveError, match="restarting"):
        await db.rate(guild_id=1, video_id=video, user_id=5, score=4, rated_at=1_795_219_200)
    async with db.read() as session:
        assert await session.ratings.member_score(1, video, 5) is None
