"""/video add url: end to end: the real bot against the local Discord stand-in, its lookups
against the loopback services stand-in (bot/standin/services.py), on both engines. What Discord
receives (the deferral, the facts with their sources, the button, the filled form) and what
the database holds afterwards (the canonical link, the thumbnail, the credits, the sources).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.db import Database
from bot.db.models import Credit, Video
from bot.db.postgres.database import PostgresDatabase
from bot.db.sqlite.database import SQLiteDatabase
from bot.db.sqlite.videos import SQLiteVideoReads
from bot.links import youtube
from bot.lookups import Fact, FoundFacts
from bot.settings import Settings
from bot.standin import services
from bot.standin.member import Member, Reply
from bot.standin.server import EPHEMERAL, LOADING
from bot.standin.services import ServicesStandIn
from bot.ui import replies
from bot.ui.cooldowns import LIMITS
from bot.video_drafts import DRAFT_KEPT, Draft, Typed
from tests.standin_harness import World
from tests.stores import Store, Stores
from tests.test_data_layer_shape import CountingConnection, grow
from tests.test_migrate_to_postgres import assert_same_rows, migrate

EDITOR = 4242
MISSING = youtube("TkTwMiss006")  # no service knows it
LOOKUP_LIMIT = LIMITS["lookup"]


class LinkWorld(World):
    """The bot with EDITOR among its owners and its lookups pointed at the services stand-in."""

    def __init__(
        self, store: Store, lookup_services: ServicesStandIn, *, lookups: bool = True
    ) -> None:
        super().__init__(store)
        self.services = lookup_services
        self.lookups_on = lookups

    def settings(self) -> Settings:
        return replace(
            super().settings(),
            owner_ids=frozenset({EDITOR}),
            external_lookups=self.lookups_on,
            oembed_youtube_url=self.services.youtube_url,
            oembed_vimeo_url=self.services.vimeo_url,
            wikidata_api_url=self.services.wikidata_url,
        )

    def editor(self) -> Member:
        return Member(self.standin, self.guild, name="editor", user_id=EDITOR)


async def started(
    store: Store, lookup_services: ServicesStandIn, *, lookups: bool = True
) -> LinkWorld:
    world = LinkWorld(store, lookup_services, lookups=lookups)
    await world.start()
    return world


@pytest.fixture
async def world(stores: Stores, lookup_services: ServicesStandIn) -> AsyncIterator[LinkWorld]:
    instance = await started(await stores.sample("e2e.sqlite3"), lookup_services)
    try:
        yield instance
        instance.assert_discord_was_happy()
    finally:
        await instance.close()


async def answer_of(reply: Reply) -> dict[str, Any]:
    """The message a deferred command finally shows (polls the stand-in's state)."""
    for _ in range(400):
        message = reply.message
        if message is not None and not message["flags"] & LOADING:
            return message
        await asyncio.sleep(0.05)
    raise AssertionError("the deferred command never answered")


def fields_of(message: dict[str, Any]) -> dict[str, str]:
    [embed] = message["embeds"]
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


def form_values(modal: dict[str, Any]) -> dict[str, str]:
    return {
        c["custom_id"]: c.get("value", "") for row in modal["components"] for c in row["components"]
    }


async def deferred_answer(editor: Member, **options: Any) -> dict[str, Any]:
    reply = await editor.run("video add", **options)
    # Deferred, privately, before any lookup: the answer replaces the "thinking" message.
    assert reply.type == 5 and reply.ephemeral
    message = await answer_of(reply)
    assert message["flags"] & EPHEMERAL
    assert [c["label"] for row in message["components"] for c in row["components"]] == [
        "Open the add form"
    ]
    return message


async def saved_video(db: Database, url: str) -> tuple[Video, list[Credit], list[str], str | None]:
    async with db.read() as session:
        video = await session.videos.with_url(url)
        assert video is not None, f"no video with the link {url}"
        credits, sources = await session.videos.credits_and_sources(video.id)
        page = await session.videos.page(0, video.id)
    return video, credits, sources, page.thumbnail_url


async def test_a_link_with_every_fact_becomes_a_video_with_its_sources(
    world: LinkWorld, lookup_services: ServicesStandIn
) -> None:
    editor = world.editor()
    video_item = f"{lookup_services.base}/wiki/{services.TEST_PATTERN_VIDEO}"
    song_item = f"{lookup_services.base}/wiki/{services.TEST_PATTERN_SONG}"
    page = services.FULL.url
    thumbnail = services.thumbnail_of(services.FULL)

    message = await deferred_answer(editor, url="https://youtu.be/TkTwFull001?si=shared")
    [embed] = message["embeds"]
    assert embed["url"] == page and embed["thumbnail"]["url"] == thumbnail
    found = fields_of(message)
    # Each fact, then the page it came from.
    assert found["Title"] == f"Test Pattern\nfrom [youtube.com]({page})"
    assert found["Artist"] == f"The Examples\nfrom [youtube.com]({page})"
    assert found["Directed by"] == f"Ann Example, Cal Placeholder\nfrom [127.0.0.1]({video_item})"
    assert found["Album"] == f"Sample Rate\nfrom [127.0.0.1]({song_item})"
    assert found["Year"] == f"2024\nfrom [127.0.0.1]({video_item})"

    opened = await editor.click(message, "Open the add form")
    assert form_values(opened.modal) == {
        "title": "Test Pattern",
        "artist": "The Examples",
        "album": "Sample Rate",
        "year": "2024",
        "directors": "Ann Example\nCal Placeholder",
    }
    saved = await editor.submit(opened.modal, {})
    assert saved.ephemeral
    assert saved.content.startswith("Added **Test Pattern — The Examples**")

    video, credits, sources, thumb = await saved_video(world.db, page)
    assert (video.title, video.artist, video.album, video.year) == (
        "Test Pattern",
        "The Examples",
        "Sample Rate",
        2024,
    )
    assert thumb == thumbnail
    assert credits == [Credit("Director", "Ann Example"), Credit("Director", "Cal Placeholder")]
    assert sources == [page, song_item, video_item]

    # /review shows the thumbnail and a Watch link; /credits lists the sources.
    member = world.member("alice")
    review = await member.run("review", video="Test Pattern")
    assert review.embed["thumbnail"]["url"] == thumbnail
    [watch] = [c for c in review.components() if c.get("label") == "Watch"]
    assert (watch["style"], watch["url"], "custom_id" in watch) == (5, page, False)
    credits_reply = await member.run("credits", video="Test Pattern")
    listed = {f["name"]: f["value"] for f in credits_reply.embed["fields"]}["Sources"]
    assert listed.splitlines() == [
        f"[youtube.com]({page})",
        f"[127.0.0.1]({song_item})",
        f"[127.0.0.1]({video_item})",
    ]


async def test_what_the_editor_types_wins_and_keeps_no_found_source(world: LinkWorld) -> None:
    editor = world.editor()
    message = await deferred_answer(
        editor, url=services.FULL.url, album="Tapes", title="Test Pattern"
    )
    assert "Album: Tapes" in fields_of(message)["You typed (the form uses these)"]
    opened = await editor.click(message, "Open the add form")
    values = form_values(opened.modal)
    assert (values["title"], values["album"], values["year"]) == ("Test Pattern", "Tapes", "2024")
    # The editor corrects the directors: only the one kept as found keeps a source.
    await editor.submit(opened.modal, {"directors": "Ann Example\nSomeone Else"})
    video, credits, sources, _ = await saved_video(world.db, services.FULL.url)
    assert video.album == "Tapes"
    assert [c.name for c in credits] == ["Ann Example", "Someone Else"]
    video_item = f"{world.services.base}/wiki/{services.TEST_PATTERN_VIDEO}"
    # Nothing backs "Tapes": the song's item (the found album's source) is not kept.
    assert sources == [services.FULL.url, video_item]


async def test_nothing_found_leaves_every_field_empty(
    world: LinkWorld, lookup_services: ServicesStandIn
) -> None:
    editor = world.editor()
    message = await deferred_answer(editor, url=MISSING.url)
    assert fields_of(message) == {}
    assert message["embeds"][0]["description"].startswith("Nothing was found")
    opened = await editor.click(message, "Open the add form")
    assert set(form_values(opened.modal).values()) == {""}
    refused = await editor.submit(opened.modal, {"title": "Typed Title"}, forged=True)
    assert refused.ephemeral and refused.content == "Artist can't be empty."
    await editor.submit(opened.modal, {"title": "Typed Title", "artist": "Typed Artist"})
    video, credits, sources, thumb = await saved_video(world.db, MISSING.url)
    assert (video.title, video.artist, video.album, video.year) == (
        "Typed Title",
        "Typed Artist",
        None,
        None,
    )
    assert (credits, sources, thumb) == ([], [], None)

    # A video the host knows but Wikidata does not: its title and artist, nothing guessed.
    message = await deferred_answer(editor, url=services.NOTHING.url)
    assert set(fields_of(message)) == {"Title", "Artist", "Channel", "Thumbnail"}
    opened = await editor.click(message, "Open the add form")
    values = form_values(opened.modal)
    assert (values["title"], values["artist"]) == ("Unlisted Tune", "Nobody Known")
    assert (values["album"], values["year"], values["directors"]) == ("", "", "")


async def test_a_service_that_never_answers_still_gives_a_form(
    world: LinkWorld, lookup_services: ServicesStandIn
) -> None:
    lookup_services.behaviour["youtube"].slow = True
    # The bot's own lookups, made before their first request: a short timeout keeps the
    # test short (the deferral, not the timeout, is what keeps Discord waiting).
    world.running_bot.lookups.client.timeout = 0.5
    editor = world.editor()
    message = await deferred_answer(editor, url=services.FULL.url)
    assert lookup_services.asked("youtube") and not lookup_services.asked("wikidata")
    assert message["embeds"][0]["description"].startswith(
        "YouTube did not answer, so nothing could be looked up: fill in the form yourself, "
        "or try again in a few minutes."
    )
    opened = await editor.click(message, "Open the add form")
    assert set(form_values(opened.modal).values()) == {""}


async def test_a_bad_link_is_one_sentence_and_nothing_is_asked(
    world: LinkWorld, lookup_services: ServicesStandIn
) -> None:
    editor = world.editor()
    refused = await editor.run("video add", url="https://example.com/watch?v=TkTwFull001")
    assert refused.type == 4 and refused.ephemeral
    assert refused.content.startswith("That link is not from YouTube or Vimeo.")
    assert lookup_services.requests == []
    missing = await editor.run("video add", title="Only A Title")
    assert missing.type == 4 and missing.ephemeral
    assert missing.content == (
        "Give the video's title and artist, or its link (url) to have them looked up."
    )
    async with world.db.read() as session:
        assert await session.videos.count() == 5


async def test_the_same_video_twice_is_found_not_added(
    world: LinkWorld, lookup_services: ServicesStandIn
) -> None:
    editor = world.editor()
    first = await deferred_answer(editor, url=services.FULL.url)
    # A second draft of the same link, opened before the first is saved.
    second = await deferred_answer(editor, url=services.FULL.url)
    await editor.submit((await editor.click(first, "Open the add form")).modal, {})
    asked = len(lookup_services.requests)

    again = await editor.run("video add", url="https://www.youtube.com/shorts/TkTwFull001")
    assert again.type == 4 and again.ephemeral
    assert again.content == (
        "**Test Pattern — The Examples** is already in the catalog "
        "(slug `the-examples-test-pattern`): change it with /video edit."
    )
    assert len(lookup_services.requests) == asked  # found in the catalog: no lookup
    late = await editor.click(second, "Open the add form")
    assert late.ephemeral and "is already in the catalog" in late.content
    async with world.db.read() as session:
        assert await session.videos.count() == 6


async def test_with_lookups_off_the_form_opens_with_what_was_typed(
    stores: Stores, lookup_services: ServicesStandIn
) -> None:
    world = await started(await stores.sample("e2e.sqlite3"), lookup_services, lookups=False)
    try:
        editor = world.editor()
        message = await deferred_answer(
            editor, url=services.FULL.url, title="Test Pattern", artist="The Examples", year=2024
        )
        assert message["embeds"][0]["description"].startswith("Lookups are off")
        opened = await editor.click(message, "Open the add form")
        assert form_values(opened.modal) == {
            "title": "Test Pattern",
            "artist": "The Examples",
            "album": "",
            "year": "2024",
            "directors": "",
        }
        await editor.submit(opened.modal, {})
        video, credits, sources, thumb = await saved_video(world.db, services.FULL.url)
        assert (video.title, video.year, credits, sources, thumb) == (
            "Test Pattern",
            2024,
            [],
            [],
            None,
        )
        assert lookup_services.requests == []
        world.assert_discord_was_happy()
    finally:
        await world.close()


async def test_the_form_button_and_the_form_outlive_a_restart(world: LinkWorld) -> None:
    editor = world.editor()
    message = await deferred_answer(editor, url=services.VIMEO_FULL.url)
    await world.restart_bot()
    opened = await editor.click(message, "Open the add form")
    assert form_values(opened.modal)["title"] == "Test Pattern (Director's Cut)"
    await world.restart_bot()
    saved = await editor.submit(opened.modal, {"artist": "The Examples"})
    assert saved.content.startswith("Added **Test Pattern (Director's Cut) — The Examples**")
    video, _, _, thumb = await saved_video(world.db, services.VIMEO_FULL.url)
    assert video.url == "https://vimeo.com/424242"
    assert thumb == services.thumbnail_of(services.VIMEO_FULL)
    # Saved: the button says so (its draft stays until it ages out).
    stale = await editor.click(message, "Open the add form")
    assert stale.ephemeral and "already in the catalog" in stale.content


async def test_drafts_older_than_a_day_are_dropped(db: Database) -> None:
    async with db.transaction() as tx:
        old = await tx.videos.save_draft(
            url="https://vimeo.com/1", facts="{}", now=0, keep_for=DRAFT_KEPT
        )
        kept = await tx.videos.save_draft(
            url="https://vimeo.com/2", facts="{}", now=DRAFT_KEPT, keep_for=DRAFT_KEPT
        )
        new = await tx.videos.save_draft(
            url="https://vimeo.com/3", facts="{}", now=DRAFT_KEPT + 1, keep_for=DRAFT_KEPT
        )
    async with db.read() as session:
        assert await session.videos.draft(old) is None
        found = await session.videos.draft(kept)
        assert found is not None and found.url == "https://vimeo.com/2"
        assert await session.videos.draft(new) is not None


async def steps_to_find_by_link(path: Path) -> list[int]:
    conn = CountingConnection(path)
    try:
        steps = []
        for url in (services.FULL.url, MISSING.url):
            conn.steps = 0
            await SQLiteVideoReads(conn).with_url(url)
            steps.append(conn.steps)
        return steps
    finally:
        conn.conn.close()


@pytest.mark.sqlite_only  # SQLite's own step count; PostgreSQL's migration makes the same index
async def test_finding_a_video_by_its_link_costs_the_same_in_a_bigger_catalog(
    catalog_db: SQLiteDatabase,
) -> None:
    async with catalog_db.transaction() as tx:
        video = await tx.videos.resolve("HUMBLE.")
        await tx.videos.upsert(
            slug=video.slug,
            title=video.title,
            artist=video.artist,
            album=video.album,
            year=video.year,
            url=services.FULL.url,
        )
    grow(catalog_db.path, 150)
    small = await steps_to_find_by_link(catalog_db.path)
    grow(catalog_db.path, 3000)
    big = await steps_to_find_by_link(catalog_db.path)
    assert all(b <= 1.5 * s + 50 for s, b in zip(small, big, strict=True)), (small, big)


async def test_migrate_copies_thumbnails_and_drafts(tmp_path: Path, postgres_url: str) -> None:
    path = tmp_path / "taketwo.sqlite3"
    source = SQLiteDatabase(path)
    await source.open()
    try:
        async with source.transaction() as tx:
            video = await tx.videos.upsert(
                slug="the-examples-test-pattern", title="Test Pattern", artist="The Examples",
                album=None, year=2024, url=services.FULL.url,
            )  # fmt: skip
            await tx.videos.set_thumbnail(video, services.thumbnail_of(services.FULL))
            await tx.videos.replace_sources(video, [services.FULL.url])
            draft = await tx.videos.save_draft(
                url=MISSING.url, facts='{"found": {}, "typed": {}}', now=5, keep_for=DRAFT_KEPT
            )
            await tx.setup.record_catalog_decision(sample_loaded=False)
    finally:
        await source.close()
    code, _, err = migrate(tmp_path, path, postgres_url)
    assert (code, err) == (0, [])
    rows = await assert_same_rows(path, postgres_url)
    assert rows["video_drafts"] == [(draft, MISSING.url, '{"found": {}, "typed": {}}', 5)]
    target = PostgresDatabase(postgres_url)
    await target.open()
    try:
        _, _, sources, thumb = await saved_video(target, services.FULL.url)
        assert (sources, thumb) == ([services.FULL.url], services.thumbnail_of(services.FULL))
        async with target.transaction() as tx:  # new drafts continue after the copied ids
            assert (
                await tx.videos.save_draft(url=MISSING.url, facts="{}", now=6, keep_for=9) > draft
            )
    finally:
        await target.close()


async def test_the_form_button_opens_its_form_even_when_the_watchdog_is_quick(
    world: LinkWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A form cannot follow a deferral: the watchdog, which defers every other slow
    component, leaves a button that opens a form alone, however late the loop is."""
    editor = world.editor()
    message = await deferred_answer(editor, url=services.FULL.url)
    monkeypatch.setattr(replies, "DEFER_AFTER", 0.0)
    opened = await editor.click(message, "Open the add form")
    assert opened.modal is not None
    assert form_values(opened.modal)["title"] == "Test Pattern"
    world.assert_discord_was_happy()


async def test_review_rate_and_autocomplete_make_no_outbound_call(
    world: LinkWorld, lookup_services: ServicesStandIn
) -> None:
    """Only /video add url:, Approve and catalog refresh look anything up: what members use
    every day answers from the database alone."""
    editor, member = world.editor(), world.member("alice")
    message = await deferred_answer(editor, url=services.FULL.url)
    await editor.submit((await editor.click(message, "Open the add form")).modal, {})
    asked = len(lookup_services.requests)

    choices = await member.autocomplete("review", "video", "Test Pat")
    assert choices[0]["name"] == "Test Pattern — The Examples"
    review = await member.use("review", video="Test Pattern")
    assert review.embed["title"] == "Test Pattern" and review.message is not None
    menu = await member.click(review.message, "Rate")
    assert menu.message is not None
    picked = await member.choose(menu.message, ["8"])
    assert picked.ephemeral
    await member.autocomplete("rate", "video", "Test", score=9)
    rated = await member.use("rate", video="Test Pattern", score=9)
    assert rated.type == 4
    assert len(lookup_services.requests) == asked


async def test_a_draft_older_than_a_day_is_not_opened(
    world: LinkWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = world.editor()
    message = await deferred_answer(editor, url=services.FULL.url)
    later = time.time() + DRAFT_KEPT + 60
    # The module the running bot loaded (discord.py imports each extension afresh).
    monkeypatch.setattr(sys.modules["cogs.catalog"], "now", lambda: int(later))
    stale = await editor.click(message, "Open the add form")
    assert stale.type == 4 and stale.ephemeral  # a sentence, not the form
    assert stale.content == "This form has expired; nothing was saved. Run /video add again."


async def test_looking_links_up_has_a_write_limit(
    world: LinkWorld, lookup_services: ServicesStandIn
) -> None:
    editor = world.editor()
    allowed, _ = LOOKUP_LIMIT
    for _ in range(allowed):
        await deferred_answer(editor, url=services.NOTHING.url)
    asked = len(lookup_services.requests)
    slow = await editor.run("video add", url=services.FULL.url)
    assert slow.type == 4 and slow.ephemeral
    assert slow.content.startswith("Slow down: you can look up a link again <t:")
    assert len(lookup_services.requests) == asked  # refused before asking anything


def test_the_draft_says_which_services_did_not_answer_and_keeps_it() -> None:
    page = services.FULL.url
    silent = Draft(page, FoundFacts(unanswered=("YouTube",)), Typed())
    assert silent.summary(lookups_on=True) == (
        "YouTube did not answer, so nothing could be looked up: fill in the form yourself, or "
        "try again in a few minutes."
    )
    partly = Draft(
        page,
        FoundFacts(title=Fact("Test Pattern", page), unanswered=("Wikidata",)),
        Typed(),
    )
    assert partly.summary(lookups_on=True).splitlines() == [
        "Found about this video, with where each fact comes from.",
        "Wikidata did not answer: try again in a few minutes for the rest.",
    ]
    assert Draft(page, FoundFacts(), Typed()).summary(lookups_on=True) == (
        "Nothing was found about this video: fill in the form yourself."
    )
    assert (
        Draft(page, FoundFacts(), Typed()).summary(lookups_on=False).startswith("Lookups are off")
    )
    # Kept in the database between the command and the form, after a restart too.
    for draft in (silent, partly):
        assert Draft.from_json(page, draft.to_json()) == draft
