"""/profile, /taste, /person, /top by: and /privacy hide-ratings, end to end through the
Discord stand-in, with every number worked out by hand from the sample catalog:

    video (id)                artist                          year  directors
    We Cry Together (1)       Kendrick Lamar & Taylour Paige  2022  Jake Schreier, Dave Free,
                                                                    Kendrick Lamar (also Cast)
    Alright (2)               Kendrick Lamar                  2015  Colin Tilley, The Little Homies
    HUMBLE. (3)               Kendrick Lamar                  2017  Dave Meyers, The Little Homies
    Swimming Pools (Drank) (4) Kendrick Lamar                 2012  Jerome D
    Formation (5)             Beyoncé                         2016  Melina Matsoukas
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from bot import charts
from bot.db.models import Credit, SharedRating, Video
from bot.db.postgres import people as postgres_people
from bot.db.sqlite import people as sqlite_people
from bot.standin.member import Member, Reply
from bot.taste import Taste
from tests.standin_harness import World

WCT, ALRIGHT, HUMBLE, POOLS, FORMATION = (
    "We Cry Together",
    "Alright",
    "HUMBLE.",
    "Swimming Pools (Drank)",
    "Formation",
)
ALICE = {WCT: 9, ALRIGHT: 8, HUMBLE: 6, POOLS: 4, FORMATION: 10}
BOB = {WCT: 5, ALRIGHT: 8, HUMBLE: 9, POOLS: 4, FORMATION: 6}
CAROL = {WCT: 10, FORMATION: 2}


async def rate_all(member: Member, scores: dict[str, int]) -> None:
    for title, score in scores.items():
        reply = await member.use("rate", video=title, score=score)
        assert reply.ephemeral and f"{score}/10" in reply.content


def fields(reply: Reply) -> dict[str, str]:
    return {f["name"]: f["value"] for f in reply.embed.get("fields", [])}


def chart_of(world: World, reply: Reply) -> Image.Image:
    """The PNG the reply carries, as the embed shows it (attachment://name)."""
    message: dict[str, Any] | None = reply.message
    assert message is not None
    [attachment] = message["attachments"]
    assert reply.embed["image"]["url"] == f"attachment://{attachment['filename']}"
    image = Image.open(io.BytesIO(world.standin.files[int(attachment["id"])]))
    image.load()
    assert image.format == "PNG"
    return image


def attached_png(world: World, reply: Reply) -> bytes | None:
    """The bytes of the one file the reply carries, or None without one."""
    attachments = (reply.message or {}).get("attachments") or []
    if not attachments:
        return None
    [attachment] = attachments
    return world.standin.files[int(attachment["id"])]


async def test_review_shows_the_score_chart_with_the_members_own_score_in_the_accent(
    world: World,
) -> None:
    alice, bob, carol = world.member("alice"), world.member("bob"), world.member("carol")
    await rate_all(alice, {HUMBLE: 7})
    await rate_all(bob, {HUMBLE: 9})
    # Two ratings: the text bars alone, as /top waits for 3 ratings to rank a video.
    two = await alice.use("review", video=HUMBLE)
    assert attached_png(world, two) is None
    assert "image" not in two.embed
    await rate_all(carol, {HUMBLE: 9})
    scores = (0, 0, 0, 0, 0, 0, 1, 0, 2, 0)
    for member, own in ((alice, 7), (bob, 9), (world.member("dave"), None)):
        review = await member.use("review", video=HUMBLE)
        chart = charts.score_distribution(scores, highlight=own)
        assert attached_png(world, review) == chart.png
        assert review.embed["image"]["url"] == f"attachment://{chart.filename}"
        # The text bars stay beside it.
        assert "█" in review.embed["description"] + str(review.embed.get("fields"))
    # A video nobody here rated has no chart to show.
    unrated = await alice.use("review", video=POOLS)
    assert attached_png(world, unrated) is None
    assert "image" not in unrated.embed


async def test_profile_shows_counts_means_favourites_and_a_chart(world: World) -> None:
    alice, bob = world.member("alice"), world.member("bob")
    await rate_all(alice, ALICE)
    await rate_all(bob, {WCT: 5, FORMATION: 6})

    reply = await alice.use("profile")
    assert not reply.ephemeral and reply.allowed_mentions == {"parse": []}
    # 9 + 8 + 6 + 4 + 10 = 37 over 5: 7.40; the server: 37 + 11 = 48 over 7 = 6.857…
    assert reply.embed["description"] == "Rated 5 videos, mean **7.40**/10 (the server's: 6.86)"
    shown = fields(reply)
    # Only The Little Homies directed two of her videos: Alright 8 and HUMBLE. 6.
    assert shown["Favourite directors"] == "**The Little Homies**: 7.00 over 2 videos"
    # Kendrick Lamar alone: Alright 8, HUMBLE. 6, Swimming Pools 4 = 6.00 over 3.
    assert shown["Favourite artists"] == "**Kendrick Lamar**: 6.00 over 3 videos"
    # The text bars, 10 down to 1, each ending with its count.
    bars = shown["Their scores"].strip("`\n").splitlines()
    assert [int(line.split()[-1]) for line in bars] == [1, 1, 1, 0, 1, 0, 1, 0, 0, 0]
    assert len(shown["Last rated"].splitlines()) == 5
    assert chart_of(world, reply).size[0] > 0

    # Bob's own profile differs, and so does its chart.
    bobs = await bob.use("profile")
    assert bobs.embed["description"].startswith("Rated 2 videos, mean **5.50**/10")
    assert "None yet" in fields(bobs)["Favourite directors"]
    assert chart_of(world, bobs).tobytes() != chart_of(world, reply).tobytes()

    # Alice's profile seen by Bob: the same numbers.
    seen = await bob.use("profile", member=alice)
    assert seen.embed["description"] == reply.embed["description"]


async def test_profile_of_someone_who_never_rated(world: World) -> None:
    alice, dave = world.member("alice"), world.member("dave")
    mine = await dave.use("profile")
    assert mine.ephemeral and "You have not rated any video here yet" in mine.content
    theirs = await alice.use("profile", member=dave)
    assert theirs.ephemeral and theirs.content == "Dave has not rated any video here yet."


async def test_taste_percentage_and_most_agreed_and_disagreed(world: World) -> None:
    alice, bob = world.member("alice"), world.member("bob")
    await rate_all(alice, ALICE)
    await rate_all(bob, BOB)

    reply = await alice.use("taste", member=bob)
    assert not reply.ephemeral
    # Gaps 4, 0, 3, 0, 4: a mean of 2.2; 100 x (1 - 2.2 / 9) = 75.56, shown as 76%.
    assert reply.embed["description"] == "**76%** agreement over 5 videos both rated."
    shown = fields(reply)
    agreed = shown["Agree most on"].splitlines()
    # Gap 0 first, the pair both liked more first (8 + 8 before 4 + 4), then the gap of 3.
    assert [line.split("**")[1] for line in agreed] == [ALRIGHT, POOLS, HUMBLE]
    disagreed = shown["Disagree most on"].splitlines()
    assert [line.split("**")[1] for line in disagreed] == [WCT, FORMATION, HUMBLE]
    assert "average gap" in reply.embed["footer"]["text"]
    assert chart_of(world, reply).size == chart_of(world, await bob.use("taste", member=alice)).size


async def test_taste_needs_five_shared_videos(world: World) -> None:
    alice, carol = world.member("alice"), world.member("carol")
    await rate_all(alice, ALICE)
    await rate_all(carol, CAROL)
    reply = await alice.use("taste", member=carol)
    assert reply.embed["description"] == (
        "Alice and Carol have rated 2 videos in common; a comparison needs 3 more."
    )
    assert not (reply.message or {}).get("attachments")
    myself = await alice.use("taste", member=alice)
    assert myself.ephemeral and "Pick another member" in myself.content


async def test_top_by_directors_and_artists(world: World) -> None:
    alice, bob, carol = world.member("alice"), world.member("bob"), world.member("carol")
    for member, scores in ((alice, ALICE), (bob, BOB), (carol, CAROL)):
        await rate_all(member, scores)
    # The server: 37 + 32 + 12 = 81 over 12, a prior of 6.75 with the weight of 5 ratings.
    # We Cry Together's directors: 9 + 5 + 10 = 24 over 3: (5 x 6.75 + 24) / 8 = 7.22.
    # The Little Homies: Alright 8, 8 and HUMBLE. 6, 9: (33.75 + 31) / 9 = 7.19.
    # Melina Matsoukas: Formation 10, 6, 2: (33.75 + 18) / 8 = 6.47. Everyone else directed
    # videos with 2 ratings, under the minimum of 3.
    reply = await alice.use("top", by="directors")
    lines = reply.embed["description"].splitlines()
    names = [line.split("** ", 1)[1] for line in lines[::2]]
    assert names == [
        "Dave Free",
        "Jake Schreier",
        "Kendrick Lamar",
        "The Little Homies",
        "Melina Matsoukas",
    ]
    assert lines[1].strip() == "**7.22** · mean 8.00 from 3 ratings over 1 video"
    assert lines[7].strip() == "**7.19** · mean 7.75 from 4 ratings over 2 videos"
    assert lines[9].strip() == "**6.47** · mean 6.00 from 3 ratings over 1 video"
    assert "server average of 6.75" in reply.embed["footer"]["text"]
    assert "3 ratings to be listed" in reply.embed["footer"]["text"]
    assert chart_of(world, reply).size[1] > 0

    artists = await alice.use("top", by="artists")
    # Kendrick Lamar: 8, 8, 6, 9, 4, 4 = 39 over 6: (33.75 + 39) / 11 = 6.61.
    lines = artists.embed["description"].splitlines()
    assert [line.split("** ", 1)[1] for line in lines[::2]] == [
        "Kendrick Lamar & Taylour Paige",
        "Kendrick Lamar",
        "Beyoncé",
    ]
    assert lines[3].strip() == "**6.61** · mean 6.50 from 6 ratings over 3 videos"
    videos = await alice.use("top")
    assert videos.embed["title"].startswith("Top videos")


async def test_person_lists_credits_with_the_servers_scores(world: World) -> None:
    alice, bob = world.member("alice"), world.member("bob")
    await rate_all(alice, ALICE)
    await rate_all(bob, BOB)
    choices = await alice.autocomplete("person", "name", "kendrick")
    assert [c["name"] for c in choices][:2] == ["Kendrick Lamar", "Kendrick Lamar & Taylour Paige"]
    # Accents and a later word: "beyonce" finds Beyoncé, "homies" The Little Homies.
    assert [c["name"] for c in await alice.autocomplete("person", "name", "beyonce")] == ["Beyoncé"]
    assert "The Little Homies" in [
        c["name"] for c in await alice.autocomplete("person", "name", "homies")
    ]

    reply = await alice.use("person", name="the little homies")
    assert reply.embed["title"] == "The Little Homies"
    lines = reply.embed["description"].splitlines()
    # Alright 8, 8 and HUMBLE. 6, 9: 31 over 4 = 7.75; HUMBLE. (2017) before Alright (2015).
    assert lines[0] == "In Video Club: **7.75**/10 from 4 ratings across their videos."
    assert lines[2].startswith("**HUMBLE.** — Kendrick Lamar (2017) · Director · 7.50 from 2")
    assert lines[3].startswith("**Alright** — Kendrick Lamar (2015) · Director · 8.00 from 2")

    kendrick = await alice.use("person", name="Kendrick Lamar")
    body = kendrick.embed["description"]
    assert "**We Cry Together** — Kendrick Lamar & Taylour Paige (2022) · Director, Cast" in body
    assert "**Swimming Pools (Drank)** — Kendrick Lamar (2012) · Artist · 4.00 from 2" in body

    unknown = await alice.run("person", name="Nobody Atall")
    assert unknown.ephemeral and "No one called “Nobody Atall” is credited" in unknown.content


async def test_credits_link_their_people_to_their_person_page(world: World) -> None:
    alice = world.member("alice")
    await rate_all(alice, {HUMBLE: 7})
    review = await alice.use("review", video=HUMBLE)
    assert review.message is not None
    # /review's Credits button, and /credits, list the people with a menu to their pages.
    for credits in (
        await alice.click(review.message, "Credits"),
        await alice.use("credits", video=HUMBLE),
    ):
        [menu] = [c for c in credits.components() if c["type"] == 3]
        labels = [(o["label"], o["description"]) for o in menu["options"]]
        assert labels == [
            ("Dave Meyers", "Director"),
            ("The Little Homies", "Director"),
            ("Kendrick Lamar", "Artist"),
            ("Mike Will Made-It", "Producer (song)"),
        ]
    public = await alice.use("credits", video=HUMBLE)
    assert public.message is not None
    [menu] = [c for c in public.components() if c["type"] == 3]
    homies = menu["options"][1]["value"]
    await world.restart_bot()  # the menu outlives a restart
    person = await alice.choose(public.message, [homies])
    assert person.ephemeral and person.embed["title"] == "The Little Homies"
    forged = await alice.choose(public.message, ["99"], forged=True)
    assert forged.ephemeral and forged.content == "Pick one of the people listed."
    # Credits edited after the menu was posted: the place now holds someone else.
    async with world.db.transaction() as tx:
        video = await tx.videos.resolve(HUMBLE)
        await tx.videos.replace_credits(
            video.id, [Credit("Director", "Someone Else"), Credit("Director", "Dave Meyers")]
        )
    stale = await alice.choose(public.message, [homies])
    assert stale.ephemeral and "credits changed" in stale.content


async def test_hide_ratings_keeps_a_member_out_of_profile_and_taste(world: World) -> None:
    alice, bob = world.member("alice"), world.member("bob")
    await rate_all(alice, ALICE)
    await rate_all(bob, BOB)
    hidden = await bob.use("privacy hide-ratings")
    assert hidden.ephemeral and hidden.content.startswith("Your ratings are now hidden")
    async with world.db.read() as session:
        assert await session.members.hides_ratings(world.guild.id, bob.id)

    profile = await alice.use("profile", member=bob)
    assert profile.ephemeral and profile.content == "Bob keeps their ratings private."
    taste = await alice.use("taste", member=bob)
    assert taste.ephemeral and "Bob keeps their ratings private" in taste.content
    own = await bob.use("profile")  # their own profile still shows
    assert not own.ephemeral and own.embed["description"].startswith("Rated 5 videos")
    # Their scores still count, without their name, in the server's rankings.
    top = await alice.use("top", by="artists")
    assert "mean 6.50 from 6 ratings over 3 videos" in top.embed["description"]
    assert "Bob" not in top.embed["description"]

    shown = await bob.use("privacy hide-ratings")
    assert shown.content == "Your ratings are visible again in /profile and /taste."
    assert not (await alice.use("profile", member=bob)).ephemeral

    await bob.use("privacy hide-ratings")
    forget = await bob.use("privacy forget-me")
    assert forget.message is not None
    await bob.click(forget.message, "Yes, forget me")
    async with world.db.read() as session:
        assert not await session.members.hides_ratings(world.guild.id, bob.id)


async def test_forged_options_get_a_sentence(world: World) -> None:
    alice = world.member("alice")
    # A user option whose user Discord did not resolve, a choice /top does not offer, a
    # name longer than Discord allows: each a private sentence, nothing else.
    for reply in (
        await alice.forge("profile", member="12345"),
        await alice.forge("taste", member="not a user"),
        await alice.forge("top", by="producers"),
        await alice.forge("person", name="x" * 101),
    ):
        assert reply.ephemeral, reply.content
        assert reply.content and "Traceback" not in reply.content
        assert not reply.embeds
    by = await alice.forge("top", by="producers")
    assert by.content == "by must be one of: videos, directors, artists."


async def test_a_member_with_many_ratings_is_profiled_off_the_event_loop(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The event loop's connection answers profiles of members with few ratings only (its
    # cost is bounded by them); past that, a read session does, with the same answer.
    for engine in (sqlite_people, postgres_people):
        monkeypatch.setattr(engine, "PROFILE_LOOKUP_MOST", 2)
    alice = world.member("alice")
    await rate_all(alice, {WCT: 9, ALRIGHT: 8})
    async with world.db.lookup() as session:
        assert await session.profiles.profile_of_few(world.guild.id, alice.id) is not None
    await rate_all(alice, {HUMBLE: 6})
    async with world.db.lookup() as session:
        assert await session.profiles.profile_of_few(world.guild.id, alice.id) is None
    reply = await alice.use("profile")
    assert reply.embed["description"] == "Rated 3 videos, mean **7.67**/10 (the server's: 7.67)"


async def test_a_chart_that_cannot_be_drawn_leaves_the_words(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> object:
        raise OSError("no memory left to draw in")

    monkeypatch.setattr(charts, "draw", broken)
    alice = world.member("alice")
    # Three ratings: enough for /top and for /review's chart.
    for member in (alice, world.member("bob"), world.member("carol")):
        await rate_all(member, {WCT: 9})
    for reply in (
        await alice.use("profile"),
        await alice.use("top"),
        await alice.use("review", video=WCT),
    ):
        assert not reply.ephemeral, reply.content
        assert reply.embed["description"]
        assert "image" not in reply.embed
        assert not (reply.message or {}).get("attachments")


async def test_a_name_longer_than_an_autocomplete_value_opens_from_the_list(world: World) -> None:
    name = "The " + "Very " * 30 + "Long Collective"  # 158 characters
    async with world.db.transaction() as tx:
        video = await tx.videos.resolve(POOLS)
        await tx.videos.replace_credits(video.id, [Credit("Director", name)])
    alice = world.member("alice")
    [choice] = await alice.autocomplete("person", "name", "the very very")
    assert len(choice["value"]) == 100
    reply = await alice.run("person", name=choice["value"])
    assert reply.embed["title"] == name


def test_taste_rounds_an_exact_half_up() -> None:
    # 40 videos with gaps adding up to 153: 100 x (360 - 153) / 360 = 57.5 exactly, so 58%.
    video = Video(1, "v", "V", "A")
    shared = (
        [SharedRating(video, 10, 10 - 4)] * 38
        + [SharedRating(video, 1, 1)]
        + [SharedRating(video, 10, 9)]
    )
    assert sum(abs(s.first - s.second) for s in shared) == 153
    assert Taste(shared).agreement == 58
