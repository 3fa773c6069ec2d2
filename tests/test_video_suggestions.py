"""Video suggestions end to end: members suggest links with /video suggest, editors decide in
/video queue (Approve runs the /video add url: lookups and form, Reject asks a reason), and
members see what became of theirs in /video suggestions. The real bot against the Discord
stand-in, its lookups against the loopback services stand-in, on both engines.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.db import Database
from bot.db.models import APPROVED, PENDING, REJECTED
from bot.links import vimeo, youtube
from bot.standin import services
from bot.standin.member import Member, Reply
from bot.standin.services import ServicesStandIn
from tests.stores import Stores
from tests.test_exports import attached_json
from tests.test_video_from_link import (
    MISSING,
    LinkWorld,
    form_values,
    started,
)

NO_MENTIONS: dict[str, list[str]] = {"parse": []}


@pytest.fixture
async def world(stores: Stores, lookup_services: ServicesStandIn) -> AsyncIterator[LinkWorld]:
    instance = await started(await stores.sample("e2e.sqlite3"), lookup_services)
    try:
        yield instance
        instance.assert_discord_was_happy()
    finally:
        await instance.close()


async def followup_of(reply: Reply) -> dict[str, Any]:
    """The private message a button's deferred answer sends (polls the stand-in's state)."""
    for _ in range(400):
        if reply.followups:
            [message] = reply.followups
            return message
        await asyncio.sleep(0.05)
    raise AssertionError("the button never answered")


async def queue(editor: Member) -> Reply:
    reply = await editor.run("video queue")
    assert reply.type == 4 and reply.ephemeral and reply.allowed_mentions == NO_MENTIONS
    return reply


def queue_fields(reply: Reply) -> dict[str, str]:
    return {f["name"]: f["value"] for f in reply.embed.get("fields", [])}


async def suggestion_rows(db: Database) -> list[tuple[str, str, int]]:
    """Every suggestion waiting or decided: its link, its state and how many suggested it."""
    found = []
    async with db.read() as session:
        for suggestion_id in range(1, 30):
            suggestion = await session.suggestions.get(suggestion_id)
            if suggestion is not None:
                found.append((suggestion.url, suggestion.status, suggestion.suggesters))
    return found


async def own(member: Member) -> dict[str, str]:
    reply = await member.run("video suggestions")
    assert reply.ephemeral and reply.allowed_mentions == NO_MENTIONS
    return {f["name"]: f["value"] for f in reply.embed["fields"]}


async def test_a_suggestion_approved_becomes_a_video_the_member_sees(
    world: LinkWorld, lookup_services: ServicesStandIn
) -> None:
    alice, bob, editor = world.member("alice"), world.member("bob"), world.editor()
    url = services.FULL.url

    first = await alice.run(
        "video suggest", url="https://youtu.be/TkTwFull001?si=shared", note="Their best one"
    )
    assert first.type == 4 and first.ephemeral and first.allowed_mentions == NO_MENTIONS
    # The link in <…>: shown as a link, without a preview of the whole video under it.
    assert first.content == (
        f"Thanks: <{url}> is suggested. The catalog's editors will look at it. "
        "/video suggestions shows what becomes of it."
    )
    assert lookup_services.requests == []  # nothing is looked up until an editor approves
    # The same video by another of its links, by another member: one suggestion.
    second = await bob.run("video suggest", url="https://www.youtube.com/shorts/TkTwFull001")
    assert second.content.startswith(
        f"<{url}> is already suggested: you are added to it (2 members have suggested it now)."
    )
    again = await alice.run("video suggest", url=url, note="Once more")
    assert again.content.startswith(f"You already suggested <{url}>: it is waiting")
    assert "The note you gave now was not kept." in again.content
    assert await suggestion_rows(world.db) == [(url, PENDING, 2)]

    # A member cannot open the queue.
    refused = await alice.forge("video queue")
    assert refused.ephemeral and "only the bot's owners can change it" in refused.content

    shown = await queue(editor)
    assert queue_fields(shown) == {
        "#1 · suggested by 2 members": f"{url}\nsuggested <t:{_created(shown)}:R>\n> Their best one"
    }
    assert shown.labels() == ["Approve #1", "Reject #1"]

    # Approve: deferred, then the lookups' answer with the filled form's button.
    pressed = await editor.click(shown.message or {}, "Approve #1")
    assert pressed.type == 6
    offer = await followup_of(pressed)
    assert offer["flags"] & 64 and offer["embeds"][0]["url"] == url
    opened = await editor.click(offer, "Open the add form")
    assert form_values(opened.modal)["title"] == "Test Pattern"
    saved = await editor.submit(opened.modal, {})
    assert saved.content.endswith("The suggestion of this link is marked as added.")

    assert await suggestion_rows(world.db) == [(url, APPROVED, 2)]
    async with world.db.read() as session:
        video = await session.videos.with_url(url)
    assert video is not None
    mine = await own(alice)
    [(name, value)] = mine.items()
    assert name == f"#1 · {url}"
    assert "added as **Test Pattern — The Examples**" in value
    assert value.endswith("Your note: Their best one")
    # Bob sees the same outcome, and not Alice's note.
    [bobs] = (await own(bob)).values()
    assert "added as **Test Pattern — The Examples**" in bobs and "Their best one" not in bobs

    assert (await editor.run("video queue")).content == "No suggestion is waiting."
    late = await alice.run("video suggest", url=url)
    assert late.content == (
        "**Test Pattern — The Examples** is already in the catalog: rate it with /rate."
    )
    # The old queue message's button says what became of the suggestion.
    stale = await editor.click(shown.message or {}, "Approve #1")
    assert stale.ephemeral and stale.content == (
        "Suggestion #1 was already decided: added as **Test Pattern — The Examples**."
    )


def _created(reply: Reply) -> str:
    value = next(iter(queue_fields(reply).values()))
    return value.split("<t:")[1].split(":")[0]


async def test_a_rejection_keeps_its_reason_for_the_member(world: LinkWorld) -> None:
    alice, editor = world.member("alice"), world.editor()
    await alice.run("video suggest", url=MISSING.url, note="Please add")
    shown = await queue(editor)
    opened = await editor.click(shown.message or {}, "Reject #1")
    assert opened.type == 9  # the form is the button's first answer
    refused = await editor.submit(opened.modal, {"reason": "   "}, forged=True)
    assert refused.ephemeral and refused.content.endswith("can't be empty.")
    assert await suggestion_rows(world.db) == [(MISSING.url, PENDING, 1)]
    done = await editor.submit(opened.modal, {"reason": "Not a music video"})
    assert done.ephemeral and done.allowed_mentions == NO_MENTIONS
    assert done.content == (
        f"Rejected suggestion #1 (<{MISSING.url}>). Its members see why: Not a music video"
    )
    async with world.db.read() as session:
        suggestion = await session.suggestions.get(1)
    assert suggestion is not None
    assert (suggestion.status, suggestion.reason) == (REJECTED, "Not a music video")
    [value] = (await own(alice)).values()
    assert ": not added: Not a music video" in value
    # Decided once: a second decision is refused, and the link may be suggested again.
    twice = await editor.submit(opened.modal, {"reason": "Again"})
    assert twice.content == "Suggestion #1 was already decided: not added: Not a music video."
    again = await alice.run("video suggest", url=MISSING.url)
    assert again.content.startswith("Thanks:")
    assert await suggestion_rows(world.db) == [
        (MISSING.url, REJECTED, 1),
        (MISSING.url, PENDING, 1),
    ]


async def test_a_rejection_while_the_approved_form_is_open_gives_way_to_the_video(
    world: LinkWorld,
) -> None:
    """Approve opens the form; before it is saved, another editor rejects the suggestion.
    Saving adds the video, and the suggestion ends up added, as its members then read."""
    alice, editor, other_editor = world.member("alice"), world.editor(), world.editor()
    url = services.FULL.url
    await alice.run("video suggest", url=url)
    shown = await queue(editor)
    offer = await followup_of(await editor.click(shown.message or {}, "Approve #1"))
    opened = await editor.click(offer, "Open the add form")

    rejecting = await other_editor.click(shown.message or {}, "Reject #1")
    await other_editor.submit(rejecting.modal, {"reason": "Not a music video"})

    saved = await editor.submit(opened.modal, {})
    assert saved.content.startswith("Added **Test Pattern — The Examples**")
    assert saved.content.endswith("The suggestion of this link is marked as added.")
    assert await suggestion_rows(world.db) == [(url, APPROVED, 1)]
    [value] = (await own(alice)).values()
    assert "added as **Test Pattern — The Examples**" in value and "Not a music video" not in value


async def test_only_catalog_editors_decide(world: LinkWorld) -> None:
    alice, mallory, editor = world.member("alice"), world.member("mallory"), world.editor()
    await alice.run("video suggest", url=services.NOTHING.url)
    shown = await queue(editor)
    # A member presses the buttons of a queue they got hold of: refused, nothing changes.
    for label in ("Approve #1", "Reject #1"):
        pressed = await mallory.click(shown.message or {}, label)
        assert pressed.ephemeral and "only the bot's owners can change it" in pressed.content
    opened = await editor.click(shown.message or {}, "Reject #1")
    forged = await mallory.submit(opened.modal, {"reason": "mine now"})
    assert "only the bot's owners can change it" in forged.content
    # The member's own commands stay open to them; the editors' do not.
    add = await mallory.run("video add", url=services.NOTHING.url)
    assert add.ephemeral and "only the bot's owners can change it" in add.content
    assert await suggestion_rows(world.db) == [(services.NOTHING.url, PENDING, 1)]
    async with world.db.read() as session:
        assert await session.videos.with_url(services.NOTHING.url) is None


async def test_the_queue_pages_and_its_buttons_outlive_a_restart(world: LinkWorld) -> None:
    editor = world.editor()
    links = [youtube(f"TkTwPage{n:03d}") for n in range(5)] + [vimeo("777")]
    note = "A long note. " * 20  # 200 characters: the longest a note may be
    for n, link in enumerate(links):
        member = world.member(f"member{n}")
        reply = await member.run("video suggest", url=link.url, note=note[:200])
        assert reply.content.startswith("Thanks:")
    first = await queue(editor)
    assert [name.split(" ·")[0] for name in queue_fields(first)] == ["#1", "#2", "#3", "#4"]
    assert first.embed["description"].startswith("Waiting: 6, oldest first.")
    assert first.labels()[-1] == "Next page" and "Previous page" not in first.labels()
    assert len(json.dumps(first.embed)) < 6000

    await world.restart_bot()
    turned = await editor.click(first.message or {}, "Next page")
    assert turned.type == 7 and turned.message is not None
    page = turned.message
    names = [f["name"].split(" ·")[0] for f in page["embeds"][0]["fields"]]
    assert names == ["#5", "#6"]
    labels = [c["label"] for row in page["components"] for c in row["components"]]
    assert labels == ["Approve #5", "Reject #5", "Approve #6", "Reject #6", "Previous page"]

    opened = await editor.click(page, "Reject #6")
    await world.restart_bot()
    done = await editor.submit(opened.modal, {"reason": "Duplicate of #5"})
    assert done.content.startswith("Rejected suggestion #6")
    back = await editor.click(page, "Previous page")
    assert back.message is not None
    assert len(back.message["embeds"][0]["fields"]) == 4


async def test_hostile_suggestions_are_refused_with_a_sentence(world: LinkWorld) -> None:
    alice = world.member("alice")
    bad = await alice.run("video suggest", url="https://example.com/watch?v=TkTwFull001")
    assert bad.ephemeral and bad.content.startswith("That link is not from YouTube or Vimeo.")
    long = await alice.forge("video suggest", url=services.FULL.url, note="x" * 201)
    assert long.ephemeral and long.content.startswith("note must be")
    broken = await alice.forge("video suggest", url=services.FULL.url, note="two\nlines")
    assert broken.ephemeral and "line break" in broken.content
    extra = await alice.forge("video suggest", url=services.FULL.url, video_id=5)
    assert extra.ephemeral and "has no option called" in extra.content
    typed = await alice.forge("video suggest", url=12345)
    assert typed.ephemeral and typed.content.startswith("url must be")
    assert await suggestion_rows(world.db) == []

    # Member text is shown as text and pings no one.
    pinged = await alice.run("video suggest", url=services.FULL.url, note="@everyone **look**")
    assert pinged.allowed_mentions == NO_MENTIONS
    shown = await queue(world.editor())
    [value] = queue_fields(shown).values()
    assert value.endswith("> @everyone \\*\\*look\\*\\*")

    # Write limits: a few suggestions in a row, then a sentence saying when.
    for n in range(3):
        assert (await alice.run("video suggest", url=youtube(f"TkTwRate{n:03d}").url)).content
    slow = await alice.run("video suggest", url=youtube("TkTwRate009").url)
    assert slow.ephemeral and slow.content.startswith("Slow down: you can suggest a video again")
    assert len(await suggestion_rows(world.db)) == 4


async def test_forget_me_and_export_cover_suggestions(world: LinkWorld) -> None:
    alice, bob = world.member("alice"), world.member("bob")
    await alice.run("video suggest", url=services.FULL.url, note="Alice's reason")
    await bob.run("video suggest", url=services.FULL.url, note="Bob's reason")
    await alice.run("video suggest", url=services.NOTHING.url, note="Only mine")

    exported = await alice.run("privacy export")
    assert exported.message is not None
    data = attached_json(world, exported.message)
    assert [(s["url"], s["note"], s["status"]) for s in data["video_suggestions"]] == [
        (services.FULL.url, "Alice's reason", PENDING),
        (services.NOTHING.url, "Only mine", PENDING),
    ]
    assert str(bob.id) not in json.dumps(data) and "Bob's reason" not in json.dumps(data)

    forget = await alice.run("privacy forget-me")
    await alice.click(forget.message or {}, "Yes, forget me")
    # Her suggestions are gone; the one Bob made too stays, with his note alone.
    assert await suggestion_rows(world.db) == [(services.FULL.url, PENDING, 1)]
    shown = await queue(world.editor())
    assert queue_fields(shown) == {
        "#1 · suggested by 1 member": f"{services.FULL.url}\nsuggested <t:{_created(shown)}:R>\n"
        "> Bob's reason"
    }
    gone = await alice.run("video suggestions")
    assert gone.content.startswith("You have not suggested a video in this server")


async def test_edit_stores_the_canonical_link_and_refuses_another_videos(world: LinkWorld) -> None:
    editor, alice = world.editor(), world.member("alice")
    await alice.run("video suggest", url=services.FULL.url)
    changed = await editor.use("video edit", video="Alright", url="youtu.be/TkTwFull001?t=42")
    assert changed.content.startswith("Updated **Alright")
    async with world.db.read() as session:
        alright = await session.videos.resolve("Alright")
        humble = await session.videos.resolve("HUMBLE.")
    assert alright.url == services.FULL.url
    # The suggestion of that link is answered: the video has it now.
    [value] = (await own(alice)).values()
    assert "added as **Alright" in value
    twin = await editor.use(
        "video edit", video="HUMBLE.", url="https://www.youtube.com/embed/TkTwFull001"
    )
    assert twin.ephemeral and twin.content.startswith(
        f"**{alright.label}** (slug `{alright.slug}`) already has that link"
    )
    # A link from another site is kept as typed, as before.
    other = await editor.use("video edit", video="HUMBLE.", url="https://example.com/humble")
    assert other.content.startswith("Updated")
    async with world.db.read() as session:
        assert (await session.videos.get(humble.id)).url == "https://example.com/humble"
        assert (await session.videos.get(alright.id)).url == services.FULL.url


async def test_the_suggestion_queries_on_both_engines(catalog_db: Database) -> None:
    db = catalog_db
    async with db.transaction() as tx:
        first, joined = await tx.suggestions.suggest(
            url="https://vimeo.com/1", guild_id=1, user_id=10, note="a", now=5
        )
        assert (first.id, first.suggesters, first.notes, joined) == (1, 1, ("a",), True)
        same, joined = await tx.suggestions.suggest(
            url="https://vimeo.com/1", guild_id=2, user_id=20, note=None, now=6
        )
        assert (same.id, same.suggesters, joined) == (1, 2, True)
        _, joined = await tx.suggestions.suggest(
            url="https://vimeo.com/1", guild_id=1, user_id=10, note="b", now=7
        )
        assert not joined
        await tx.suggestions.suggest(
            url="https://vimeo.com/2", guild_id=1, user_id=10, note="c", now=8
        )
        assert await tx.suggestions.reject(2, "no", 9)
        assert not await tx.suggestions.reject(2, "again", 10)
        assert await tx.suggestions.approve("https://vimeo.com/1", 1, 11) == 1
        assert await tx.suggestions.approve("https://vimeo.com/1", 1, 12) == 0
    async with db.read() as session:
        mine = await session.suggestions.of_member(1, 10, 10)
        assert [(s.id, s.status, s.notes, s.reason) for s in mine] == [
            (2, REJECTED, ("c",), "no"),
            (1, APPROVED, ("a",), None),
        ]
        assert mine[1].video is not None and mine[1].video.id == 1
        assert await session.suggestions.waiting(limit=5) == []
        assert await session.suggestions.waiting_of_member(1, 10) == 0
