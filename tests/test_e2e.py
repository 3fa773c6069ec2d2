"""End to end: the real bot, through discord.py, against the local Discord stand-in.

Each test acts as members' clients do (autocomplete first, then the command with the chosen
value; buttons, selects and menus on real messages) and checks what Discord received and what
the database holds. The `world` fixture fails any test in which the bot sent a body that
breaks Discord's schema, answered an interaction late, or called a route Discord lacks.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from bot.standin.member import Member
from tests.standin_harness import MANAGE_MESSAGES, World

NO_MENTIONS: dict[str, list[str]] = {"parse": []}


async def test_review_after_autocomplete(world: World) -> None:
    alice = world.member("alice")
    choices = await alice.autocomplete("review", "video", "we cr")
    assert choices[0]["name"] == "We Cry Together — Kendrick Lamar & Taylour Paige"
    assert len(choices) <= 25

    reply = await alice.use("review", video="we cr")
    assert reply.type == 4 and not reply.ephemeral
    assert reply.allowed_mentions == NO_MENTIONS
    embed = reply.embed
    assert embed["title"] == "We Cry Together"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Directed by"] == "Jake Schreier, Dave Free, Kendrick Lamar"
    assert any(name.startswith("Our Generation Music") for name in fields)
    assert reply.labels() == ["Rate", "Credits", "Quote"]


async def test_two_members_rate_the_same_video_at_once(world: World) -> None:
    alice, bob = world.member("alice"), world.member("bob")
    first, second = await asyncio.gather(
        alice.use("rate", video="We Cry Together", score=9),
        bob.use("rate", video="We Cry Together", score=6),
    )
    assert first.ephemeral and second.ephemeral
    assert "from 1 rating" in first.content or "from 2 ratings" in first.content
    async with world.db.read() as session:
        video = await session.videos.resolve("We Cry Together")
        summary = await session.ratings.summary(world.guild.id, video.id)
    assert (summary.count, summary.total) == (2, 15)
    review = await alice.use("review", video="We Cry Together")
    community = next(
        f["value"] for f in review.embed["fields"] if f["name"].startswith("Community score")
    )
    assert "**7.50**/10 from 2 ratings" in community


async def test_buttons_on_a_message_posted_before_a_restart(world: World) -> None:
    alice = world.member("alice")
    review = await alice.use("review", video="HUMBLE.")
    old_message = review.message
    assert old_message is not None

    await world.restart_bot()

    credits = await alice.click(old_message, "Credits")
    assert credits.ephemeral and credits.embed["title"] == "Credits: HUMBLE."
    rate = await alice.click(old_message, "Rate")
    assert rate.ephemeral and rate.labels() == ["Pick a score from 1 to 10"]

    await world.restart_bot()  # the score menu also outlives a restart

    assert rate.message is not None
    chosen = await alice.choose(rate.message, ["8"])
    assert chosen.type == 7
    assert chosen.content == "You rated **HUMBLE.** 8/10. Server score: **8.00**/10 from 1 rating."
    async with world.db.read() as session:
        video = await session.videos.resolve("HUMBLE.")
        assert await session.ratings.member_score(world.guild.id, video.id, alice.id) == 8
    quote = await alice.click(old_message, "Quote")
    assert quote.ephemeral and "sample quote" in quote.embed["footer"]["text"]


async def test_quote_with_everyone_never_pings(world: World) -> None:
    alice = world.member("alice")
    added = await alice.use(
        "quote add",
        text="@everyone this video changed my life <@&42>",
        video="we cry",
        said_by="@here",
    )
    assert added.allowed_mentions == NO_MENTIONS
    assert "@everyone" not in added.content
    quote_id = int(re.findall(r"#(\d+)", added.content)[0])
    async with world.db.read() as session:
        quote = await session.quotes.get(quote_id)
    assert quote is not None and quote.text.startswith("@everyone") and quote.saved_by == alice.id

    shown = await world.member("bob").use("quote random")
    assert shown.allowed_mentions == NO_MENTIONS
    assert "@everyone" in shown.embed["description"]


async def test_title_typed_by_hand_with_a_typo(world: World) -> None:
    alice = world.member("alice")
    found = await alice.run("review", video="We Cyr Togther")
    assert found.embed["title"] == "We Cry Together"
    missing = await alice.run("review", video="Completely Unknown Song")
    assert missing.ephemeral
    assert missing.content.startswith("No video matches “Completely Unknown Song”")


async def test_removing_someone_elses_quote_needs_manage_messages(world: World) -> None:
    alice, bob = world.member("alice"), world.member("bob")
    moderator = world.member("mod", permissions=MANAGE_MESSAGES)
    added = await alice.use("quote add", text="The camera work is unreal")
    quote_id = int(re.findall(r"#(\d+)", added.content)[0])

    refused = await bob.run("quote remove", id=quote_id)
    assert refused.ephemeral and "Manage Messages" in refused.content
    async with world.db.read() as session:
        assert await session.quotes.get(quote_id) is not None

    removed = await moderator.run("quote remove", id=quote_id)
    assert removed.ephemeral and removed.content == f"Removed quote #{quote_id}."
    async with world.db.read() as session:
        assert await session.quotes.get(quote_id) is None
    for _ in range(10):
        shown = await bob.use("quote random")
        assert f"Quote #{quote_id}" not in shown.embed["footer"]["text"]


async def test_save_as_quote_from_a_message(world: World) -> None:
    alice, bob = world.member("alice"), world.member("bob")
    message = bob.post("@everyone the one-take opening is the best part")
    saved = await alice.message_menu("Save as quote", message)
    assert saved.allowed_mentions == NO_MENTIONS
    quote_id = int(re.findall(r"#(\d+)", saved.content)[0])
    async with world.db.read() as session:
        quote = await session.quotes.get(quote_id)
    assert quote is not None
    assert (quote.author_id, quote.saved_by) == (bob.id, alice.id)
    assert quote.source_url is not None and quote.source_url.endswith(f"/{message['id']}")


async def test_credits_top_and_quote_of_a_video(world: World) -> None:
    members = [world.member(f"m{n}") for n in range(4)]
    for n, member in enumerate(members):
        await member.use("rate", video="Alright", score=10 - n % 2)
        await member.use("rate", video="Formation", score=7)
    top = await members[0].use("top", count=5)
    assert not top.ephemeral
    assert top.embed["description"].index("Alright") < top.embed["description"].index("Formation")
    assert "Bayesian" in top.embed["footer"]["text"]
    credits = await members[0].use("credits", video="alright")
    names = [f["name"] for f in credits.embed["fields"]]
    assert names == ["Director", "Song credits", "Sources"]
    quote = await members[0].use("quote random", video="humble")
    assert quote.embed["fields"][0]["value"] == "HUMBLE."


async def test_out_of_range_values_never_reach_the_bot(world: World) -> None:
    from bot.standin.member import ClientRefused

    alice = world.member("alice")
    for score in (0, 11):
        try:
            await alice.run("rate", video="Alright", score=score)
        except ClientRefused:
            continue
        raise AssertionError("the client sent a score Discord would refuse")
    # A component value is not checked by any client: the bot checks it itself.
    review = await alice.use("review", video="Alright")
    assert review.message is not None
    rate = await alice.click(review.message, "Rate")
    assert rate.message is not None
    menu = rate.message["components"][0]["components"][0]
    menu["options"].append({"label": "11/10", "value": "11"})
    forged = await alice.choose(rate.message, ["11"])
    assert forged.ephemeral and forged.content == "Pick one score from 1 to 10."


MANAGE_GUILD = 1 << 5


async def test_daily_post_arrives_once_with_buttons(world: World) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.test_daily import Clock

    channel_id = next(iter(world.guild.channels))
    admin = world.member("admin", permissions=MANAGE_GUILD)
    zones = await admin.autocomplete(
        "daily set", "timezone", "new_y", channel=str(channel_id), time="09:00"
    )
    assert zones[0]["value"] == "America/New_York"

    from bot.standin.member import ClientRefused

    try:
        await world.member("alice").run(
            "daily set", channel=str(channel_id), time="09:00", timezone="UTC"
        )
        raise AssertionError("Discord shows /daily only to members with Manage Server")
    except ClientRefused:
        pass

    bad = await admin.run("daily set", channel=str(channel_id), time="25:99", timezone="UTC")
    assert bad.ephemeral and "HH:MM" in bad.content
    set_reply = await admin.use(
        "daily set", channel=str(channel_id), time="09:00", timezone="new_y"
    )
    assert set_reply.ephemeral and "America/New_York" in set_reply.content

    async with world.db.transaction() as tx:
        await tx.quotes.add(
            guild_id=world.guild.id,
            text="@everyone daily",
            created_at=1_795_219_200,
            video_id=1,
            saved_by=admin.id,
        )

    preview = await admin.run("daily preview")
    assert preview.ephemeral and preview.embed["title"] == "Quote of the day"

    cog = await scheduler_by_hand(world)
    async with world.db.read() as session:
        schedule = await session.daily.schedule(world.guild.id)
    assert schedule is not None
    clock = Clock(datetime.fromtimestamp(schedule.due_at, UTC) + timedelta(seconds=1))
    cog.scheduler.clock = clock
    assert await cog.scheduler.run_due() == {"sent": 1}

    posts = [
        m
        for m in world.standin.messages.values()
        if m["channel_id"] == str(channel_id)
        and not m["flags"] & 64
        and m["embeds"]
        and m["embeds"][0].get("title") == "Quote of the day"
    ]
    assert len(posts) == 1
    post = posts[0]
    assert post["nonce"].startswith("tt")
    assert "@everyone daily" in post["embeds"][0]["description"]
    assert [c["label"] for row in post["components"] for c in row["components"]] == [
        "Rate",
        "Credits",
        "Quote",
    ]
    posted_body = next(
        b
        for (m, p, b) in world.standin.requests
        if m == "POST" and p.endswith(f"/channels/{channel_id}/messages")
    )
    assert posted_body["allowed_mentions"] == {"parse": []}
    assert posted_body["enforce_nonce"] is True

    # The same day again, as after a crash between sending and recording: still one post.
    async with world.db.transaction() as tx:
        await tx.daily.record_post(
            guild_id=world.guild.id,
            local_date=schedule.next_local_date,
            status="claimed",
            nonce=post["nonce"],
            now=0,
            quote_id=None,
            channel_id=channel_id,
            claimed_by="dead",
            lease_until=0,
        )
        await tx.daily.move_to(world.guild.id, schedule.next_local_date, 0)
    assert await cog.scheduler.run_due() == {"sent": 1}
    again = [m for m in world.standin.messages.values() if m.get("nonce") == post["nonce"]]
    assert len(again) == 1

    status = await admin.run("daily status")
    fields = {f["name"]: f["value"] for f in status.embed["fields"]}
    assert fields["Channel"] == f"<#{channel_id}>"
    assert fields["Next posts"].count(":F>") == 3
    assert post["id"] in fields["Last post"]
    assert "Only" in status.embed["footer"]["text"]

    skipped = await admin.run("daily skip")
    assert skipped.ephemeral and skipped.content.startswith("Skipped the post of")
    off = await admin.run("daily off")
    assert off.ephemeral and "off" in off.content
    again_off = await admin.run("daily off")
    assert again_off.ephemeral and "nothing to stop" in again_off.content


async def daily_world(world: World) -> tuple[int, Member]:
    channel_id = next(iter(world.guild.channels))
    admin = world.member("admin", permissions=MANAGE_GUILD)
    reply = await admin.run(
        "daily set", channel=str(channel_id), time="09:00", timezone="Europe/London"
    )
    assert reply.ephemeral
    return channel_id, admin


async def scheduler_by_hand(world: World) -> Any:
    """The Daily cog with its background loop stopped, so that only the test runs the
    scheduler (with the clock it sets) and the two cannot race for the same post."""
    cog = world.running_bot.get_cog("Daily")
    assert cog is not None
    await cog.cog_unload()
    return cog


async def test_missing_permission_pauses_and_status_says_why(world: World) -> None:
    from datetime import UTC, datetime

    from tests.test_daily import Clock

    channel_id, admin = await daily_world(world)
    channel = world.standin.channel(channel_id)
    assert channel is not None
    channel.bot_can_send = False
    async with world.db.read() as session:
        schedule = await session.daily.schedule(world.guild.id)
    assert schedule is not None
    cog = await scheduler_by_hand(world)
    cog.scheduler.clock = Clock(datetime.fromtimestamp(schedule.due_at, UTC))
    assert await cog.scheduler.run_due() == {"paused": 1}
    status = await admin.run("daily status")
    fields = {f["name"]: f["value"] for f in status.embed["fields"]}
    assert "Send Messages" in fields["Paused"]
    assert "Next posts" not in fields


async def test_deleting_the_channel_or_leaving_cleans_up(world: World) -> None:
    import asyncio

    channel_id, _ = await daily_world(world)
    await world.standin.delete_channel(channel_id)
    for _ in range(100):
        async with world.db.read() as session:
            if await session.daily.schedule(world.guild.id) is None:
                break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the schedule outlived its channel")

    from bot.standin.server import Channel

    other = Channel(id=world.standin.ids.next(), guild_id=world.guild.id, name="quotes")
    world.guild.channels[other.id] = other
    admin = world.member("admin2", permissions=MANAGE_GUILD)
    await admin.run("daily set", channel=str(other.id), time="10:00", timezone="UTC")
    await world.standin.remove_bot_from(world.guild.id)
    for _ in range(100):
        async with world.db.read() as session:
            if await session.daily.schedule(world.guild.id) is None:
                return
        await asyncio.sleep(0.02)
    raise AssertionError("the schedule outlived the bot's membership")


async def test_take_modal_agree_and_pages_through_discord(world: World) -> None:
    alice, bob = world.member("alice"), world.member("bob")
    opened = await alice.use("take", video="we cry")
    modal = opened.modal
    assert modal["title"].startswith("Your take")
    fields = [c for row in modal["components"] for c in row["components"]]
    assert [f["custom_id"] for f in fields] and fields[1]["max_length"] == 1000
    score_id, text_id = fields[0]["custom_id"], fields[1]["custom_id"]
    saved = await alice.submit(modal, {score_id: "9", text_id: "@everyone it is a play on film"})
    assert saved.ephemeral and "take #" in saved.content

    listing = await bob.use("takes", video="we cry")
    assert listing.allowed_mentions == NO_MENTIONS
    assert "@everyone it is a play on film" in listing.embed["fields"][0]["value"]
    agree_label = next(label for label in listing.labels() if label.startswith("Agree"))
    assert listing.message is not None
    agreed = await bob.click(listing.message, agree_label)
    assert agreed.ephemeral and agreed.content.endswith("so far only you do.")

    from bot.standin.member import ClientRefused

    with pytest.raises(ClientRefused):  # one page only: Discord greys out Next
        await alice.click(listing.message, "Next ▶")

    review = await bob.use("review", video="we cry")
    takes = next(f["value"] for f in review.embed["fields"] if f["name"] == "Community takes")
    assert "Most agreed (1)" in takes


async def test_catalog_editing_refused_for_members_through_discord(world: World) -> None:
    reply = await world.member("alice").run("video add", title="Mine", artist="Me")
    assert reply.ephemeral and "only the bot's owners" in reply.content
    owner = world.member("owner", permissions=0)
    owner.id = int(world.standin.owner["id"])  # the application's owner, from Discord
    added = await owner.run("video add", title="Owned Song", artist="Band", year=2020)
    assert added.ephemeral and added.content.startswith("Added **Owned Song — Band**")
