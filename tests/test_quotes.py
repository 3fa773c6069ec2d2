from __future__ import annotations

import random
import re
from collections import Counter

from bot.db import Database
from bot.db.models import CATALOG_GUILD
from tests import raw
from tests.standin_harness import World

GUILD = 500


async def add(db: Database, text: str, video_id: int | None = None, guild: int = GUILD) -> int:
    async with db.transaction() as tx:
        quote = await tx.quotes.add(
            guild_id=guild,
            text=text,
            video_id=video_id,
            saved_by=1,
            created_at=1_795_219_200,
        )
    return quote.id


async def slots_are_dense(db: Database, guild: int) -> bool:
    slots = sorted(
        r[0] for r in await raw.rows(db, "SELECT slot FROM quotes WHERE guild_id = ?", guild)
    )
    by_video: dict[int, list[int]] = {}
    for video_id, slot in await raw.rows(
        db,
        "SELECT video_id, video_slot FROM quotes WHERE guild_id = ? AND video_id IS NOT NULL",
        guild,
    ):
        by_video.setdefault(video_id, []).append(slot)
    return slots == list(range(1, len(slots) + 1)) and all(
        sorted(s) == list(range(1, len(s) + 1)) for s in by_video.values()
    )


async def test_random_quote_covers_every_quote_evenly(catalog_db: Database) -> None:
    ids = [await add(catalog_db, f"quote {n}") for n in range(5)]
    rng = random.Random(7)
    seen: Counter[int] = Counter()
    async with catalog_db.read() as session:
        for _ in range(2000):
            quote = await session.quotes.random(GUILD, rng=rng)
            assert quote is not None
            seen[quote.id] += 1
    assert set(seen) == set(ids)
    assert min(seen.values()) > 300  # 400 expected each


async def test_removed_quote_never_comes_back(catalog_db: Database) -> None:
    ids = [await add(catalog_db, f"quote {n}", video_id=1 if n % 2 else None) for n in range(9)]
    for removed in (ids[0], ids[4], ids[8], ids[3]):
        async with catalog_db.transaction() as tx:
            await tx.quotes.remove(removed)
        assert await slots_are_dense(catalog_db, GUILD)
    gone = {ids[0], ids[4], ids[8], ids[3]}
    rng = random.Random(1)
    async with catalog_db.read() as session:
        drawn = {(await session.quotes.random(GUILD, rng=rng)).id for _ in range(500)}  # type: ignore[union-attr]
        about_video = {
            (await session.quotes.random(GUILD, 1, rng=rng)).id  # type: ignore[union-attr]
            for _ in range(300)
        }
    assert drawn == set(ids) - gone
    assert about_video == {i for n, i in enumerate(ids) if n % 2} - gone


async def test_server_without_quotes_gets_the_catalogs(catalog_db: Database) -> None:
    async with catalog_db.read() as session:
        quote = await session.quotes.random(GUILD)
        assert quote is not None and quote.guild_id == CATALOG_GUILD and quote.is_sample
        assert await session.quotes.random(GUILD, video_id=999) is None
    await add(catalog_db, "our own")
    async with catalog_db.read() as session:
        for _ in range(20):
            own = await session.quotes.random(GUILD)
            assert own is not None and own.text == "our own"


async def test_other_servers_quotes_are_not_visible(catalog_db: Database) -> None:
    other = await add(catalog_db, "elsewhere", guild=777)
    async with catalog_db.read() as session:
        for _ in range(30):
            quote = await session.quotes.random(GUILD)
            assert quote is not None and quote.id != other


async def test_saving_the_same_message_twice_names_the_quote(world: World) -> None:
    alice, carol = world.member("alice"), world.member("carol")
    message = world.member("bob").post("the one-take opening is the best part")
    first = await alice.message_menu("Save as quote", message)
    quote_id = int(re.findall(r"#(\d+)", first.content)[0])
    again = await carol.message_menu("Save as quote", message)
    assert again.ephemeral
    assert again.content == f"That message is already saved, as quote #{quote_id}."
    async with world.db.read() as session:
        assert await session.quotes.count(world.guild.id) == 1
