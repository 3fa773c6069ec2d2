"""The stand-in answers bodies that break Discord's rules the way Discord does."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from bot.standin.member import Member
from bot.standin.server import StandIn, form_parts


async def call(standin: StandIn, method: str, path: str, body: Any) -> tuple[int, Any]:
    headers = {"Authorization": f"Bot {standin.token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, standin.api_base + path, json=body, headers=headers) as response,
    ):
        return response.status, await response.json()


def pending_interaction(standin: StandIn, kind: int = 2) -> Any:
    guild = next(iter(standin.guilds.values()))
    member = Member(standin, guild)
    return standin.new_interaction(kind, member._base(), member.channel_id)


async def respond(standin: StandIn, record: Any, body: Any) -> tuple[int, Any]:
    return await call(standin, "POST", f"/interactions/{record.id}/{record.token}/callback", body)


async def test_invalid_embed_gets_discords_nested_error(standin: StandIn) -> None:
    record = pending_interaction(standin)
    status, body = await respond(
        standin,
        record,
        {
            "type": 4,
            "data": {
                "embeds": [{"title": "x" * 300, "fields": [{"name": "a", "value": "v" * 1025}]}]
            },
        },
    )
    assert status == 400
    assert body["code"] == 50035 and body["message"] == "Invalid Form Body"
    embed_errors = body["errors"]["data"]["embeds"]["0"]
    assert embed_errors["title"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert embed_errors["fields"]["0"]["value"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert len(standin.invalid) == 1


async def test_total_embed_size_is_limited_to_6000(standin: StandIn) -> None:
    record = pending_interaction(standin)
    embeds = [{"description": "d" * 4000}, {"description": "d" * 2001}]
    status, body = await respond(standin, record, {"type": 4, "data": {"embeds": embeds}})
    assert status == 400
    assert body["errors"]["data"]["embeds"]["_errors"][0]["code"] == "MAX_EMBED_SIZE_EXCEEDED"


async def test_link_buttons_need_a_url_and_no_custom_id(standin: StandIn) -> None:
    record = pending_interaction(standin)
    row = {
        "type": 1,
        "components": [
            {"type": 2, "style": 5, "label": "Watch", "custom_id": "x", "url": "https://a.example"},
            {"type": 2, "style": 1, "label": "Rate"},
        ],
    }
    status, body = await respond(standin, record, {"type": 4, "data": {"components": [row]}})
    assert status == 400
    errors = body["errors"]["data"]["components"]["0"]["components"]
    assert errors["0"]["_errors"][0]["code"] == "COMPONENT_LAYOUT_INVALID"
    assert errors["1"]["_errors"][0]["code"] == "COMPONENT_LAYOUT_INVALID"


async def test_first_response_after_three_seconds_is_unknown(standin: StandIn) -> None:
    record = pending_interaction(standin)
    record.created -= 3.5
    status, body = await respond(standin, record, {"type": 4, "data": {"content": "late"}})
    assert (status, body["code"]) == (404, 10062)
    assert standin.late == [record]


async def test_an_interaction_is_acknowledged_once(standin: StandIn) -> None:
    record = pending_interaction(standin)
    assert (await respond(standin, record, {"type": 4, "data": {"content": "one"}}))[0] == 200
    status, body = await respond(standin, record, {"type": 4, "data": {"content": "two"}})
    assert (status, body["code"]) == (400, 40060)


async def test_callback_answer_is_shaped_like_discords(standin: StandIn) -> None:
    record = pending_interaction(standin)
    status, body = await respond(
        standin, record, {"type": 4, "data": {"content": "hi", "flags": 64}}
    )
    assert status == 200
    assert body["interaction"]["id"] == str(record.id)
    assert body["interaction"]["response_message_ephemeral"] is True
    assert body["resource"]["type"] == 4
    assert body["resource"]["message"]["content"] == "hi"


async def test_command_names_must_be_lowercase(standin: StandIn) -> None:
    path = f"/applications/{standin.application_id}/commands"
    status, body = await call(
        standin,
        "PUT",
        path,
        [
            {"name": "Review", "description": "d", "type": 1},
            {
                "name": "rate",
                "description": "d",
                "type": 1,
                "options": [{"type": 3, "name": "Video", "description": "v"}],
            },
            {"name": "Save as quote", "type": 3},
        ],
    )
    assert status == 400
    assert body["errors"]["0"]["name"]["_errors"][0]["code"] == "APPLICATION_COMMAND_INVALID_NAME"
    assert "name" in body["errors"]["1"]["options"]["0"]
    assert "2" not in body["errors"], "context menu names may have capitals and spaces"


async def test_requests_need_the_bot_token(standin: StandIn) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            standin.api_base + "/users/@me", headers={"Authorization": "Bot wrong"}
        ) as response,
    ):
        assert response.status == 401


async def test_channel_messages_respect_nonce(standin: StandIn) -> None:
    guild = next(iter(standin.guilds.values()))
    channel = next(iter(guild.channels))
    body = {"content": "daily", "nonce": "2026-11-21", "enforce_nonce": True}
    first = await call(standin, "POST", f"/channels/{channel}/messages", body)
    second = await call(standin, "POST", f"/channels/{channel}/messages", body)
    assert first[0] == second[0] == 200
    assert first[1]["id"] == second[1]["id"]
    await asyncio.sleep(0)


async def test_form_parts_reads_a_body_as_aiohttp_writes_it() -> None:
    # As discord.py sends a message with files: payload_json, then files[n] parts, whose
    # bytes may hold anything, line breaks and dashes included.
    form = aiohttp.FormData()
    form.add_field("payload_json", '{"content": "hi"}', content_type="application/json")
    png = b"\x89PNG\r\n\x1a\n--not-a-boundary\r\n\r\nend"
    form.add_field("files[0]", png, filename="scores.png", content_type="image/png")
    writer = form()
    body = bytearray()

    class Sink:
        async def write(self, data: bytes) -> None:
            body.extend(data)

    await writer.write(Sink())  # type: ignore[arg-type]
    _, _, parameters = writer.content_type.partition(";")
    assert form_parts(bytes(body), parameters) == [
        ("payload_json", None, b'{"content": "hi"}'),
        ("files[0]", "scores.png", png),
    ]
