"""Hostile input through the stand-in: forged option values, broken text, forms from before a
restart.

Discord passes on whatever a modified client sends, so each test forges what the member's own
client would refuse to send and checks the three things that matter: the member gets one
ephemeral sentence, the database holds exactly what it held before, and nothing the bot sent
would be refused by Discord (the `world` fixture's checks, and no lone surrogate in any body).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.db.models import Credit
from bot.standin.member import Member, Reply
from tests import raw
from tests.made_up import TITLE, add_made_up_video
from tests.standin_harness import World

SURROGATE = re.compile("[\ud800-\udfff]")
EXPIRED = "This form has expired; nothing was saved."


async def snapshot(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, read straight from the database."""
    return {
        name: sorted((await raw.table(world.store, name))[1], key=repr)
        for name in await raw.tables(world.store)
    }


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in [*value.keys(), *value.values()] for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def assert_no_broken_text_sent(world: World) -> None:
    """Discord refuses a body holding half of a surrogate pair: the member would see nothing."""
    for method, path, body in world.standin.requests:
        broken = [s for s in strings_in(body) if SURROGATE.search(s)]
        assert not broken, f"{method} {path} carried broken text: {broken[:1]!r}"


def assert_refused(reply: Reply, sentence: str) -> None:
    assert reply.ephemeral, f"not ephemeral: {reply.content!r}"
    assert reply.content == sentence


async def video_id(world: World, title: str) -> int:
    async with world.db.read() as session:
        return (await session.videos.resolve(title)).id


def catalog_owner(world: World) -> Member:
    owner = world.member("owner")
    owner.id = int(world.standin.owner["id"])
    return owner


async def open_take(member: Member, title: str) -> tuple[dict[str, Any], str, str]:
    """The /take form, and the custom_ids of its score and text inputs."""
    modal = (await member.use("take", video=title)).modal
    score, text = [c["custom_id"] for row in modal["components"] for c in row["components"]]
    return modal, score, text


# Option values the member's client would never send


@pytest.mark.parametrize("score", [5.5, "5", True, 0, 11])
async def test_forged_rate_score_is_refused(world: World, score: Any) -> None:
    alice = world.member("alice")
    vid = await video_id(world, "HUMBLE.")
    await alice.run("rate", video=f"id:{vid}", score=7)
    before = await snapshot(world)

    reply = await alice.forge("rate", video=f"id:{vid}", score=score)

    assert_refused(reply, "score must be a whole number from 1 to 10.")
    assert await snapshot(world) == before


async def test_options_outside_their_declaration_are_refused(world: World) -> None:
    alice = world.member("alice")
    vid = await video_id(world, "HUMBLE.")
    before = await snapshot(world)

    extra = await alice.forge("rate", video=f"id:{vid}", score=6, weight=100)
    assert_refused(extra, "/rate has no option called weight.")
    missing = await alice.forge("rate", video=f"id:{vid}")
    assert_refused(missing, "/rate needs a value for score.")
    sort = await alice.forge("takes", video=f"id:{vid}", sort="sideways")
    assert_refused(sort, "sort must be one of: newest, highest.")
    # The video option's own transformer declares its type and length.
    video = await alice.forge("review", video="x" * 101)
    assert_refused(video, "video must be text of at most 100 characters.")
    assert await snapshot(world) == before


async def test_forged_catalog_title_and_year_are_refused(world: World) -> None:
    owner = catalog_owner(world)
    before = await snapshot(world)

    long_title = await owner.forge("video add", title="T" * 10_000, artist="Band")
    assert_refused(long_title, "title must be text of 1 to 200 characters.")
    future = await owner.forge("video add", title="Fine", artist="Band", year=30_000)
    assert_refused(future, "year must be a whole number from 1900 to 2100.")
    typed = await owner.forge("video add", title="Fine", artist="Band", year="1999")
    assert_refused(typed, "year must be a whole number from 1900 to 2100.")
    assert await snapshot(world) == before


async def test_forged_moderation_reason_is_refused(world: World) -> None:
    alice = world.member("alice")
    modal, score, text = await open_take(alice, "HUMBLE.")
    saved = await alice.submit(modal, {score: "8", text: "Sharp."})
    take_id = int(re.findall(r"#(\d+)", saved.content)[0])
    before = await snapshot(world)

    reply = await alice.forge("take-remove", id=take_id, reason="r" * 10_000)

    assert_refused(reply, "reason must be text of 1 to 200 characters.")
    assert await snapshot(world) == before


async def test_broken_text_in_an_option_is_refused(world: World) -> None:
    owner = catalog_owner(world)
    before = await snapshot(world)

    reply = await owner.forge("video add", title="Half \ud83d an emoji", artist="Band")

    assert_refused(reply, "title contains a broken character (half of an emoji?): type it again.")
    assert await snapshot(world) == before
    assert_no_broken_text_sent(world)


@pytest.mark.parametrize("value", ["²", "①", "٣", 7])
async def test_forged_score_menu_value_is_refused(world: World, value: Any) -> None:
    alice = world.member("alice")
    review = await alice.use("review", video="HUMBLE.")
    assert review.message is not None
    menu = await alice.click(review.message, "Rate")
    assert menu.message is not None
    before = await snapshot(world)

    reply = await alice.choose(menu.message, [value], forged=True)

    assert reply.ephemeral and reply.content == "Pick one score from 1 to 10."
    assert await snapshot(world) == before


# Forms


@pytest.mark.parametrize("typed", ["²", "①", "٣"])
async def test_take_score_takes_ascii_digits_only(world: World, typed: str) -> None:
    alice = world.member("alice")
    modal, score, text = await open_take(alice, "HUMBLE.")
    before = await snapshot(world)

    reply = await alice.submit(modal, {score: typed, text: "Sharp."})

    assert_refused(reply, f"“{typed}” is not a score: use a whole number from 1 to 10.")
    assert await snapshot(world) == before


async def test_broken_text_in_a_take_is_refused(world: World) -> None:
    alice = world.member("alice")
    modal, score, text = await open_take(alice, "HUMBLE.")
    before = await snapshot(world)

    reply = await alice.submit(modal, {score: "8", text: "Loved it \udca9"})

    assert_refused(
        reply, "Your take contains a broken character (half of an emoji?): type it again."
    )
    assert await snapshot(world) == before
    assert_no_broken_text_sent(world)


async def test_forged_form_lengths_are_rechecked(world: World) -> None:
    alice = world.member("alice")
    modal, score, text = await open_take(alice, "HUMBLE.")
    before = await snapshot(world)

    too_long = await alice.submit(modal, {score: "8", text: "x" * 5000}, forged=True)
    assert_refused(too_long, "Your take must be at most 1000 characters long.")
    empty = await alice.submit(modal, {score: "8", text: "   "}, forged=True)
    assert_refused(empty, "Your take can't be empty.")
    assert await snapshot(world) == before


async def test_form_opened_before_a_restart_is_saved(world: World) -> None:
    alice = world.member("alice")
    modal, score, text = await open_take(alice, "HUMBLE.")

    await world.restart_bot()
    reply = await alice.submit(modal, {score: "9", text: "Still thinking about it."})

    assert reply.ephemeral and reply.content.startswith("Saved your take #")
    vid = await video_id(world, "HUMBLE.")
    async with world.db.read() as session:
        take = await session.takes.of_member(world.guild.id, vid, alice.id)
        assert await session.ratings.member_score(world.guild.id, vid, alice.id) == 9
    assert take is not None and (take.score, take.text) == (9, "Still thinking about it.")


async def test_credits_form_opened_before_a_restart_is_saved(world: World) -> None:
    owner = catalog_owner(world)
    vid = await add_made_up_video(world.db, [Credit("Director", "Ann Example")])
    modal = (await owner.use("video credits", video=TITLE)).modal
    [lines] = [c["custom_id"] for row in modal["components"] for c in row["components"]]

    await world.restart_bot()
    reply = await owner.submit(modal, {lines: "Director: Ann Example\nEditor: Bo Example"})

    assert reply.ephemeral and reply.content.startswith(f"Saved 2 credits for **{TITLE}**")
    async with world.db.read() as session:
        credits = await session.videos.credits(vid)
    assert [(c.role, c.name) for c in credits] == [
        ("Director", "Ann Example"),
        ("Editor", "Bo Example"),
    ]


async def test_form_for_a_removed_video_has_expired(world: World) -> None:
    alice = world.member("alice")
    vid = await video_id(world, "HUMBLE.")
    modal, score, text = await open_take(alice, "HUMBLE.")
    async with world.db.transaction() as tx:
        await tx.videos.remove_everywhere(vid)
    before = await snapshot(world)

    reply = await alice.submit(modal, {score: "8", text: "Sharp."})

    assert_refused(reply, f"{EXPIRED} Run /take again.")
    assert await snapshot(world) == before


async def test_form_of_an_unknown_kind_has_expired(world: World) -> None:
    alice = world.member("alice")
    modal, score, text = await open_take(alice, "HUMBLE.")
    before = await snapshot(world)

    reply = await alice.submit(
        {**modal, "custom_id": "taketwo:form:poll:1"}, {score: "8", text: "Sharp."}
    )

    assert_refused(reply, EXPIRED)
    assert await snapshot(world) == before


# Message menus


async def test_broken_text_in_a_saved_message_is_refused(world: World) -> None:
    alice, bob = world.member("alice"), world.member("bob")
    message = bob.post("The ending \ud800 got me")
    before = await snapshot(world)

    reply = await alice.message_menu("Save as quote", message)

    assert_refused(
        reply, "The message contains a broken character (half of an emoji?): it can't be saved."
    )
    assert await snapshot(world) == before
    assert_no_broken_text_sent(world)
