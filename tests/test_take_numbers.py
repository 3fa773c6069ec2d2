"""Take numbers, which members see ("Saved your take #2", "Agree #2"), count the takes
written: editing a take keeps its number and spends none, on either engine."""

from __future__ import annotations

import asyncio

from bot.client import TakeTwoBot
from tests.test_community import write_take

GUILD = 500


async def test_edits_spend_no_take_number(bot: TakeTwoBot) -> None:
    saved = await write_take(bot, 1, "Formation", "7", "A masterclass in staging.")
    assert "Saved your take #1 " in (saved.content or "")
    async with bot.db.read() as session:
        formation = await session.videos.get_by_slug("beyonce-formation")
    assert formation is not None
    for score in (8, 9, 6):  # the member changes their mind, one edit at a time
        edited = await bot.db.save_take(
            guild_id=GUILD, video_id=formation.id, user_id=1, score=score, text="Still.", now=2
        )
        assert edited.id == 1
    # An edit and two new takes committed together (one batch): the new ones take 2 and 3.
    together = await asyncio.gather(
        *(
            bot.db.save_take(
                guild_id=GUILD, video_id=formation.id, user_id=user, score=5, text="Hm.", now=3
            )
            for user in (1, 3, 4)
        )
    )
    assert sorted(take.id for take in together) == [1, 2, 3]
    saved = await write_take(bot, 2, "Formation", "6", "Not for me.")
    assert "Saved your take #4 " in (saved.content or "")
