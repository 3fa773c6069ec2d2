"""Data people can carry out: a member's own data and a server's, as JSON files sent
privately, built on the command line's export. Ids are strings, times ISO 8601 in UTC."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.standin.member import ClientRefused
from tests.standin_harness import World

MANAGE_GUILD = 1 << 5
UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def attached_json(world: World, message: dict[str, Any]) -> dict[str, Any]:
    [attachment] = message["attachments"]
    assert attachment["filename"].endswith(".json")
    data: dict[str, Any] = json.loads(world.standin.files[int(attachment["id"])])
    return data


async def test_a_member_exports_their_own_data_privately(world: World) -> None:
    alice, bob = world.member("alice"), world.member("bob")
    await alice.use("rate", video="Alright", score=9)
    await bob.use("rate", video="Alright", score=3)
    await alice.run("quote add", text="A line of my own")
    reply = await alice.run("privacy export")
    assert reply.ephemeral and reply.message is not None
    data = attached_json(world, reply.message)
    assert data["format"] == "taketwo-member-export"
    assert data["user_id"] == str(alice.id) and data["guild_id"] == str(world.guild.id)
    [rating] = data["ratings"]
    assert rating["video"] == "kendrick-lamar-alright" and rating["score"] == 9
    assert UTC_TIME.match(rating["rated_at"])
    [quote] = data["quotes_saved"]
    assert quote["text"] == "A line of my own" and isinstance(quote["id"], str)
    assert UTC_TIME.match(quote["created_at"])
    # Nothing of bob's.
    assert str(bob.id) not in json.dumps(data)


async def test_managers_export_the_server_and_others_cannot(world: World) -> None:
    alice = world.member("alice")
    await alice.use("rate", video="Alright", score=9)
    try:
        refused = await alice.run("export-server")
    except ClientRefused:
        pass  # hidden from members without Manage Server, as Discord does
    else:
        assert refused.ephemeral and "Manage Server" in refused.content
    forged = await alice.forge("export-server")
    assert forged.ephemeral and "Manage Server" in forged.content
    assert forged.message is not None and forged.message["attachments"] == []
    manager = world.member("manager", permissions=MANAGE_GUILD)
    reply = await manager.run("export-server")
    assert reply.ephemeral and reply.message is not None
    data = attached_json(world, reply.message)
    assert data["format"] == "taketwo-server-export" and data["guild_id"] == str(world.guild.id)
    assert [(r["user_id"], r["score"]) for r in data["ratings"]] == [(str(alice.id), 9)]
