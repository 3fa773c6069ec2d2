"""The Watch button under /review: only for a link Discord takes as a link button's URL. A link
typed before links were checked (`https?://\\S+` only) must not cost the member the reply."""

from __future__ import annotations

from bot.catalog import import_catalog, parse_catalog
from tests.standin_harness import World


async def test_a_malformed_stored_link_gets_no_watch_button(world: World) -> None:
    async with world.db.transaction() as tx:
        await import_catalog(
            tx,
            parse_catalog(
                {
                    "format": "taketwo-catalog",
                    "version": 2,
                    "videos": [
                        {"slug": "bad-link", "title": "Bad Link", "artist": "The Examples",
                         "url": "https://[bad"},
                        {"slug": "good-link", "title": "Good Link", "artist": "The Examples",
                         "url": "https://videos.example/42"},
                    ],
                }
            ),
        )  # fmt: skip
    member = world.member("alice")
    bad = await member.use("review", video="Bad Link")
    assert bad.embed["title"] == "Bad Link"
    assert bad.labels() == ["Rate", "Credits", "Quote"]
    good = await member.use("review", video="Good Link")
    [watch] = [c for c in good.components() if c.get("label") == "Watch"]
    assert watch["url"] == "https://videos.example/42"
