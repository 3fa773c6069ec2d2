from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.db import Database
from bot.db.models import Credit, ScoreSummary, VideoPage
from bot.db.sqlite.database import SQLiteDatabase
from bot.db.sqlite.migrations import MIGRATIONS_DIR
from bot.db.text import fold
from bot.errors import NotFoundError, UserFacingError
from tests import raw
from tests.made_up import add_made_up_video


def test_fold_ignores_case_accents_and_punctuation() -> None:
    assert fold("Beyoncé – “Formation”") == "beyonce formation"
    assert fold("HUMBLE.") == "humble"
    assert fold("Ça Plane Pour Moi") == "ca plane pour moi"
    assert fold("夜に駆ける") == "夜に駆ける"


async def titles(db: Database, text: str) -> list[str]:
    async with db.read() as session:
        return [v.title for v in await session.videos.search(text)]


async def test_search_by_prefix_substring_artist_and_accent(catalog_db: Database) -> None:
    assert (await titles(catalog_db, "we cry"))[0] == "We Cry Together"
    assert (await titles(catalog_db, "WE CRY"))[0] == "We Cry Together"
    assert "We Cry Together" in await titles(catalog_db, "together")
    assert "Formation" in await titles(catalog_db, "beyonce")
    assert "Formation" in await titles(catalog_db, "Beyoncé")
    assert "Swimming Pools (Drank)" in await titles(catalog_db, "drank")
    kendrick = await titles(catalog_db, "kendrick")
    assert {"Alright", "HUMBLE.", "We Cry Together"} <= set(kendrick)


async def test_search_tolerates_a_typo(catalog_db: Database) -> None:
    assert (await titles(catalog_db, "we cyr togther"))[0] == "We Cry Together"
    assert (await titles(catalog_db, "formaton"))[0] == "Formation"


async def test_empty_search_lists_videos_and_never_more_than_the_limit(
    catalog_db: Database,
) -> None:
    async with catalog_db.transaction() as tx:
        for n in range(40):
            await tx.videos.upsert(
                slug=f"demo-{n}", title=f"Demo {n}", artist="Band", album=None, year=None, url=None
            )
    assert len(await titles(catalog_db, "")) == 25
    assert len(await titles(catalog_db, "demo")) == 25
    async with catalog_db.read() as session:
        assert len(await session.videos.search("demo", limit=5)) == 5


async def test_resolve_choice_typed_title_and_typo(catalog_db: Database) -> None:
    async with catalog_db.read() as session:
        video = await session.videos.resolve("we cry together")
        assert video.title == "We Cry Together"
        assert (await session.videos.resolve(f"id:{video.id}")).id == video.id
        assert (
            await session.videos.resolve("We Cry Together — Kendrick Lamar & Taylour Paige")
        ).id == video.id
        assert (await session.videos.resolve("We Cyr Together")).id == video.id


async def test_unknown_video_names_the_closest_titles(catalog_db: Database) -> None:
    async with catalog_db.read() as session:
        with pytest.raises(NotFoundError) as caught:
            await session.videos.resolve("Swimming Together")
        assert caught.value.message.startswith("No video matches “Swimming Together”")
        assert "Closest titles" in caught.value.message
        with pytest.raises(UserFacingError):
            await session.videos.resolve("   ")
        with pytest.raises(NotFoundError):
            await session.videos.resolve("id:999999")


async def test_credits_and_sources_read_together_in_order(catalog_db: Database) -> None:
    credits = [Credit("Director", "D"), Credit("Producer", "P", "song"), Credit("cast", "C")]
    sources = ["https://example.org/2", "https://example.org/1"]
    vid = await add_made_up_video(catalog_db, credits, sources)
    # The hot-lookup connection serves /credits; a thread reader serves the rest.
    for session_of in (catalog_db.lookup, catalog_db.read):
        async with session_of() as session:
            assert await session.videos.credits_and_sources(vid) == (credits, sources)
            assert await session.videos.credits(vid) == credits
            assert await session.videos.sources(vid) == sources
    async with catalog_db.read() as session:
        assert await session.videos.credits_and_sources(999_999) == ([], [])


async def test_a_song_credit_is_not_a_director_on_the_review_page(
    catalog_db: Database,
) -> None:
    vid = await add_made_up_video(
        catalog_db, [Credit("director", "Ann Example"), Credit("Director", "Bo Example", "song")]
    )
    async with catalog_db.read() as session:
        video = await session.videos.resolve(f"id:{vid}")
        credits = await session.videos.credits(vid)
    page = VideoPage(video=video, credits=credits, reviews=[], score=ScoreSummary())
    assert page.credits_for("Director") == ["Ann Example"]


async def test_removing_a_video_removes_its_sources(catalog_db: Database) -> None:
    async with catalog_db.transaction() as tx:
        video = await tx.videos.resolve("HUMBLE.")
        assert await tx.videos.sources(video.id)
        await tx.videos.remove_everywhere(video.id)
    async with catalog_db.read() as session:
        assert await session.videos.credits_and_sources(video.id) == ([], [])
    left = await raw.value(
        catalog_db, "SELECT count(*) FROM video_sources WHERE video_id = ?", video.id
    )
    assert left == 0


@pytest.mark.sqlite_only  # a SQLite database from before a SQLite migration
async def test_credits_saved_before_credit_kinds_are_the_videos(tmp_path: Path) -> None:
    """A database made before migration 0005 keeps its credits, read as the video's, and its
    videos start with no sources."""
    older = tmp_path / "migrations"
    older.mkdir()
    for script in sorted(MIGRATIONS_DIR.glob("*.sql"))[:4]:
        shutil.copy(script, older)
    path = tmp_path / "old.sqlite3"
    db = SQLiteDatabase(path, migrations=older)
    await db.open()
    await db.close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "INSERT INTO videos (id, slug, title, artist, search_title, search_text) "
            "VALUES (1, 'one', 'One', 'Someone', 'one', 'one someone')"
        )
        conn.execute(
            "INSERT INTO credits (video_id, position, role, name) VALUES (1, 0, 'Producer', 'P')"
        )
    db = SQLiteDatabase(path)
    await db.open()
    try:
        async with db.read() as session:
            assert await session.videos.credits_and_sources(1) == (
                [Credit("Producer", "P", "video")],
                [],
            )
        with closing(sqlite3.connect(path)) as conn, pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO credits (video_id, position, role, name, kind) "
                "VALUES (1, 1, 'Producer', 'Q', 'album')"
            )
    finally:
        await db.close()
