"""The stand-in Discord: REST routes and a gateway websocket on 127.0.0.1.

The bot reaches it through its ordinary startup path, with DISCORD_API_BASE set to
`StandIn.api_base` and DISCORD_GATEWAY_URL to `StandIn.gateway_url`. Every body the bot sends
is checked against Discord's schema (see schema.py and spec_check.py); an invalid one gets
Discord's 400 answer and is kept in `StandIn.invalid` so a test can fail on it.

The gateway shards as Discord documents: an IDENTIFY may carry `shard: [shard_id, shard_count]`,
each server's events go to a session of shard `(guild_id >> 22) % shard_count`, and
identifies spend the session start limit that GET /gateway/bot reports. Which session gets
them while two run the same shard Discord does not document: here, the newest.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import math
import re
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from bot.standin import schema

log = logging.getLogger(__name__)

DISCORD_EPOCH_MS = 1420070400000
FIRST_RESPONSE_DEADLINE = 3.0
TOKEN_LIFETIME = 15 * 60
EPHEMERAL = 1 << 6
# Discord matches an enforce_nonce send only against messages from the last few minutes (it
# does not say how many); an older message with the same nonce does not stop a second post.
NONCE_WINDOW = 5 * 60
# GET /channels/{id}/messages: limit is 1-100, 50 when not given.
HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 100
LOADING = 1 << 7
ALL_PERMISSIONS = (1 << 53) - 1
# The request's decoded JSON, whatever it is: each handler checks the shape it needs.
BODY = web.RequestKey[Any]("body")
# Files sent as multipart/form-data parts beside payload_json: (filename, bytes).
FILES = web.RequestKey[list[tuple[str, bytes]]]("files")

# Sharding, as Discord's gateway documentation describes it (docs/topics/gateway.mdx in
# github.com/discord/discord-api-docs, "Sharding" and "Identifying"):
# "Each shard can only support a maximum of 2500 guilds", enforced with close code 4011.
MAX_GUILDS_PER_SHARD = 2500
# GET /gateway/bot recommends a shard count; Discord does not publish its formula, but it
# amounts to about one shard per 1,000 servers.
GUILDS_PER_RECOMMENDED_SHARD = 1000
# Identifies in one max_concurrency bucket (shard_id % max_concurrency) must be this far apart:
# the session start limit's max_concurrency is "the number of identify requests allowed per 5
# seconds".
IDENTIFY_INTERVAL = 5.0
SESSION_START_WINDOW = 24 * 60 * 60  # "1000 IDENTIFY calls ... in a 24-hour period"
# Gateway close codes (docs/topics/opcodes-and-status-codes, "Gateway Close Event Codes").
CLOSE_DECODE_ERROR = 4002
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_ALREADY_AUTHENTICATED = 4005
CLOSE_INVALID_SHARD = 4010
CLOSE_SHARDING_REQUIRED = 4011
# Real servers were made at different moments, so the timestamps in their ids differ and
# `(guild_id >> 22) % shard_count` spreads them over the shards. The stand-in dates each new
# server one millisecond after the last, starting a year before the stand-in itself.
GUILD_AGE_MS = 365 * 24 * 60 * 60 * 1000


def shard_for(guild_id: int, shard_count: int) -> int:
    """The shard whose sessions receive this server's events (Discord's sharding formula)."""
    return (guild_id >> 22) % shard_count


def _shard_array(value: Any) -> tuple[int, int] | None:
    """IDENTIFY's `shard` as (shard_id, shard_count) if Discord would take it: two integers,
    0 <= shard_id < shard_count."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    shard_id, shard_count = value
    if any(isinstance(n, bool) or not isinstance(n, int) for n in value):
        return None
    return (shard_id, shard_count) if 0 <= shard_id < shard_count else None


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_DISPOSITION_PARAMETER = re.compile(rb'(name|filename)="([^"]*)"', re.IGNORECASE)


def form_parts(body: bytes, content_type_parameters: str) -> list[tuple[str, str | None, bytes]]:
    """The parts of a multipart/form-data body (RFC 7578), each as its name, its filename
    and its content. Split on the boundary with bytes operations: aiohttp's reader parses
    every part's headers with the email package, which made this one process (Discord's
    stand-in for its whole fleet) the slowest part of any benchmark that sends files."""
    found = _BOUNDARY.search(content_type_parameters)
    if found is None:
        return []
    parts = []
    for chunk in body.split(b"--" + found.group(1).encode())[1:]:
        if chunk.startswith(b"--"):  # the closing delimiter
            break
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        parameters = {
            key.lower().decode(): value.decode()
            for key, value in _DISPOSITION_PARAMETER.findall(head)
        }
        if "name" in parameters:
            parts.append(
                (parameters["name"], parameters.get("filename"), content.removesuffix(b"\r\n"))
            )
    return parts


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _json(data: Any, status: int = 200) -> web.Response:
    # Discord sends exactly "application/json" (no charset); discord.py relies on that.
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


class Snowflakes:
    """Ids that carry their creation time, as Discord's do, and always increase (a test's
    clock may stand still or jump)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._last = 0

    def next(self) -> int:
        ms = int(self.clock() * 1000) - DISCORD_EPOCH_MS
        self._last = max(ms << 22, self._last + 1)
        return self._last


def _history_query(params: Any) -> tuple[dict[str, int], list[schema.Problem]]:
    """The message list's query parameters as Discord checks them."""
    query: dict[str, int] = {}
    problems: list[schema.Problem] = []
    for name in ("limit", "around", "before", "after"):
        text = params.get(name)
        if text is None:
            continue
        if not text.isdigit():
            kind = "int" if name == "limit" else "snowflake"
            problems.append(((name,), "NUMBER_TYPE_COERCE", f'Value "{text}" is not {kind}.'))
            continue
        query[name] = int(text)
    limit = query.get("limit")
    if limit is not None and limit < 1:
        problems.append(
            (("limit",), "NUMBER_TYPE_MIN", "int value should be greater than or equal to 1.")
        )
    if limit is not None and limit > HISTORY_MAX_LIMIT:
        problems.append(
            (
                ("limit",),
                "NUMBER_TYPE_MAX",
                f"int value should be less than or equal to {HISTORY_MAX_LIMIT}.",
            )
        )
    return query, problems


@dataclass
class Channel:
    id: int
    guild_id: int
    name: str
    # A channel the bot may not post in answers 403 Missing Permissions.
    bot_can_send: bool = True
    # Without Read Message History, listing the channel's messages answers 403 Missing Access.
    bot_can_read: bool = True

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    channels: dict[int, Channel] = field(default_factory=dict)


@dataclass
class Interaction:
    id: int
    token: str
    type: int
    payload: dict[str, Any]
    created: float
    channel_id: int
    message_id: int | None = None  # the message a component sits on
    response_type: int | None = None
    response_body: dict[str, Any] | None = None
    original_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    late: bool = False
    acknowledged: asyncio.Event = field(default_factory=asyncio.Event)
    acknowledged_at: float | None = None  # loop time of the first answer


@dataclass
class SessionStartLimit:
    """What GET /gateway/bot reports and every IDENTIFY spends: by default what most bots get
    (1,000 session starts a day, one identify at a time)."""

    total: int = 1000
    remaining: int = 1000
    max_concurrency: int = 1
    # Stand-in clock time at which `remaining` is back at `total`; the day-long window starts
    # with the first IDENTIFY after a reset. Set it to make `reset_after` report something.
    resets_at: float | None = None

    def _refresh(self, now: float) -> None:
        if self.resets_at is not None and now >= self.resets_at:
            self.remaining = self.total
            self.resets_at = None

    def spend(self, now: float) -> bool:
        """Take one session start; False when none is left."""
        self._refresh(now)
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        if self.resets_at is None:
            self.resets_at = now + SESSION_START_WINDOW
        return True

    def payload(self, now: float) -> dict[str, int]:
        self._refresh(now)
        reset_after = 0 if self.resets_at is None else math.ceil((self.resets_at - now) * 1000)
        return {
            "total": self.total,
            "remaining": self.remaining,
            "reset_after": reset_after,
            "max_concurrency": self.max_concurrency,
        }


@dataclass(eq=False)
class Session:
    """One identified gateway connection and the shard it runs ([0, 1] when unsharded)."""

    ws: web.WebSocketResponse
    shard_id: int
    shard_count: int
    # Whether the IDENTIFY carried a shard array: only then does READY say which shard it is.
    sharded: bool
    order: int  # sessions started later have higher numbers
    id: str = field(default_factory=lambda: secrets.token_hex(16))
    sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def shard(self) -> tuple[int, int]:
        return (self.shard_id, self.shard_count)

    def owns(self, guild_id: int) -> bool:
        return shard_for(guild_id, self.shard_count) == self.shard_id


@dataclass(frozen=True)
class IdentifyAttempt:
    """One IDENTIFY the stand-in received and what came of it: "ready", "invalid session"
    (max_concurrency), or the reason the connection was closed ("authentication failed",
    "already authenticated", "invalid shard", "sharding required", "token reset")."""

    shard: tuple[int, int] | None  # None when the shard array was not a valid one
    outcome: str
    at: float  # stand-in clock


@dataclass
class Problem:
    """A request the stand-in refused: what Discord would have answered with an error."""

    method: str
    path: str
    status: int
    body: Any
    answer: dict[str, Any]


class StandIn:
    def __init__(
        self,
        *,
        token: str = "standin-token",
        application_id: int | None = None,
        validate: bool = True,
        clock: Callable[[], float] = time.time,
        max_guilds_per_shard: int = MAX_GUILDS_PER_SHARD,
        session_start_limit: SessionStartLimit | None = None,
        identify_interval: float = IDENTIFY_INTERVAL,
    ) -> None:
        # Benchmarks turn the schema checks off so that they measure the bot, not this; the
        # spec's models are imported only when checks are on (they come with the test extra).
        self.validate = validate
        self._spec_check = schema.load_spec_check() if validate else None
        # Unix seconds: message times, ids and the nonce window follow it, so a test can
        # move time on (interaction deadlines follow the event loop's clock instead).
        self.clock = clock
        self.ids = Snowflakes(lambda: self.clock())
        self.token = token
        self.application_id = application_id or self.ids.next()
        self.bot_user: dict[str, Any] = {
            "id": str(self.application_id),
            "username": "TakeTwo",
            "discriminator": "0",
            "global_name": "TakeTwo",
            "avatar": None,
            "bot": True,
            "flags": 0,
            "public_flags": 0,
        }
        self.owner: dict[str, Any] = {
            "id": str(self.ids.next()),
            "username": "owner",
            "discriminator": "0",
            "global_name": "Owner",
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
        }
        self.guilds: dict[int, Guild] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.files: dict[int, bytes] = {}
        self.message_created: dict[int, float] = {}
        self.interactions: dict[int, Interaction] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.invalid: list[Problem] = []
        self.late: list[Interaction] = []
        self.unknown_routes: list[str] = []
        self.identified = asyncio.Event()
        # Sharding: a session refused when it would hold more servers than this (4011).
        self.max_guilds_per_shard = max_guilds_per_shard
        self.session_start_limit = session_start_limit or SessionStartLimit()
        # Seconds (stand-in clock) between identifies of one max_concurrency bucket; tests
        # shorten Discord's 5 s.
        self.identify_interval = identify_interval
        self.identifies: list[IdentifyAttempt] = []
        self.token_resets = 0  # Discord resets the token when the session starts run out
        # Identified sessions in the order they started; the newest one that owns a server
        # receives its events.
        self.sessions: list[Session] = []
        self._session_order = itertools.count()
        self._bucket_identified: dict[int, float] = {}  # max_concurrency bucket -> last start
        self._guild_ms = max(0, int(self.clock() * 1000) - DISCORD_EPOCH_MS - GUILD_AGE_MS)
        self._sockets: set[web.WebSocketResponse] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # Lifecycle

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/gateway", self._gateway)
        api = "/api/v10"
        app.router.add_get(api + "/users/@me", self._me)
        app.router.add_get(api + "/oauth2/applications/@me", self._application)
        app.router.add_get(api + "/gateway", self._gateway_url)
        app.router.add_get(api + "/gateway/bot", self._gateway_bot)
        app.router.add_put(api + "/applications/{app}/commands", self._put_commands)
        app.router.add_get(api + "/applications/{app}/commands", self._get_commands)
        app.router.add_put(api + "/applications/{app}/guilds/{guild}/commands", self._put_commands)
        app.router.add_get(api + "/applications/{app}/guilds/{guild}/commands", self._get_commands)
        app.router.add_post(api + "/interactions/{id}/{token}/callback", self._callback)
        app.router.add_post(api + "/webhooks/{app}/{token}", self._followup)
        app.router.add_route(
            "*", api + "/webhooks/{app}/{token}/messages/{message}", self._webhook_message
        )
        app.router.add_post(api + "/channels/{channel}/messages", self._create_message)
        app.router.add_get(api + "/channels/{channel}/messages", self._list_messages)
        app.router.add_get(api + "/channels/{channel}", self._get_channel)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # World setup

    def add_guild(
        self,
        name: str = "Video Club",
        channels: tuple[str, ...] = ("general",),
        guild_id: int | None = None,
    ) -> Guild:
        guild = Guild(
            id=guild_id or self._new_guild_id(), name=name, owner_id=int(self.owner["id"])
        )
        for channel_name in channels:
            channel = Channel(id=self.ids.next(), guild_id=guild.id, name=channel_name)
            guild.channels[channel.id] = channel
        self.guilds[guild.id] = guild
        return guild

    def add_guilds(
        self, count: int, name: str = "Server", channels: tuple[str, ...] = ("general",)
    ) -> list[Guild]:
        """Many servers at once ("Server 1", "Server 2", ...); their payloads are built only
        when a session receives them."""
        return [self.add_guild(f"{name} {n}", channels) for n in range(1, count + 1)]

    def _new_guild_id(self) -> int:
        self._guild_ms += 1
        return self._guild_ms << 22

    @property
    def recommended_shards(self) -> int:
        return max(1, math.ceil(len(self.guilds) / GUILDS_PER_RECOMMENDED_SHARD))

    def channel(self, channel_id: int) -> Channel | None:
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild.channels[channel_id]
        return None

    def commands_for(self, guild_id: int | None) -> list[dict[str, Any]]:
        return self.guild_commands.get(guild_id or 0, []) + self.global_commands

    # Plumbing

    @web.middleware
    async def _record(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        body: Any = None
        files: list[tuple[str, bytes]] = []
        media_type, _, parameters = request.headers.get("Content-Type", "").partition(";")
        media_type = media_type.strip().lower()
        if request.can_read_body and media_type == "application/json":
            body = await request.json()
        elif request.can_read_body and media_type == "multipart/form-data":
            # How Discord takes files: the JSON body in a payload_json part, each file in
            # a files[n] part.
            for name, filename, content in form_parts(await request.read(), parameters):
                if name == "payload_json":
                    body = json.loads(content)
                elif name.startswith("files["):
                    files.append((filename or "file", content))
        request[BODY] = body
        request[FILES] = files
        self.requests.append((request.method, request.path, body))
        if _has_lone_surrogate(body):
            # Discord cannot decode such text and refuses the whole body.
            return self._refuse(
                request, 400, {"message": "The request body contains invalid JSON.", "code": 50109}
            )
        path = request.path
        needs_auth = (
            "/webhooks/" not in path
            and "/interactions/" not in path
            and path not in ("/gateway", "/api/v10/gateway")
        )
        if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        return await handler(request)

    def _refuse(self, request: web.Request, status: int, answer: dict[str, Any]) -> web.Response:
        self.invalid.append(Problem(request.method, request.path, status, request[BODY], answer))
        log.warning("stand-in refused %s %s: %s", request.method, request.path, answer)
        return _json(answer, status=status)

    def _schema(self, model: str, body: Any, path: schema.Path = ()) -> list[schema.Problem]:
        return self._spec_check(model, body, path) if self._spec_check else []

    def _check(self, request: web.Request, problems: list[schema.Problem]) -> web.Response | None:
        if problems and self.validate:
            return self._refuse(request, 400, schema.error_body(problems))
        return None

    async def _unknown(self, request: web.Request) -> web.Response:
        self.unknown_routes.append(f"{request.method} {request.path}")
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    # REST: identity and commands

    async def _me(self, request: web.Request) -> web.Response:
        return _json(self.bot_user)

    async def _application(self, request: web.Request) -> web.Response:
        return _json(
            {
                "id": str(self.application_id),
                "name": "TakeTwo",
                "icon": None,
                "description": "",
                "summary": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": self.owner,
                "team": None,
                "flags": 0,
                "bot": self.bot_user,
                "rpc_origins": [],
            }
        )

    async def _gateway_url(self, request: web.Request) -> web.Response:
        return _json({"url": self.gateway_url})

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        return _json(
            {
                "url": self.gateway_url,
                "shards": self.recommended_shards,
                "session_start_limit": self.session_start_limit.payload(self.clock()),
            }
        )

    async def _put_commands(self, request: web.Request) -> web.Response:
        body = request[BODY]
        if not isinstance(body, list):
            return self._refuse(
                request, 400, schema.error_body([((), "BASE_TYPE_BAD_TYPE", "Must be an array.")])
            )
        problems: list[schema.Problem] = []
        if len(body) > 100:
            problems.append(((), "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."))
        for i, command in enumerate(body):
            problems += self._schema(schema.COMMAND_MODEL, command, (i,))
            if isinstance(command, dict):
                problems += schema.command_rules(command, (i,))
        if refused := self._check(request, problems):
            return refused
        guild = request.match_info.get("guild")
        stored = []
        for command in body:
            stored.append(
                {
                    **command,
                    "id": str(self.ids.next()),
                    "application_id": str(self.application_id),
                    "version": str(self.ids.next()),
                    "type": command.get("type", 1),
                    "description": command.get("description", ""),
                    "default_member_permissions": command.get("default_member_permissions"),
                    **({"guild_id": guild} if guild else {}),
                }
            )
        if guild:
            self.guild_commands[int(guild)] = stored
        else:
            self.global_commands = stored
        return _json(stored)

    async def _get_commands(self, request: web.Request) -> web.Response:
        guild = request.match_info.get("guild")
        return _json(self.guild_commands.get(int(guild), []) if guild else self.global_commands)

    # REST: messages

    def make_message(
        self,
        channel_id: int,
        body: dict[str, Any],
        *,
        author: dict[str, Any] | None = None,
        interaction: Interaction | None = None,
    ) -> dict[str, Any]:
        channel = self.channel(channel_id)
        created = self.clock()
        message: dict[str, Any] = {
            "id": str(self.ids.next()),
            "channel_id": str(channel_id),
            "author": author or self.bot_user,
            "content": body.get("content") or "",
            "timestamp": _iso(created),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags") or 0,
        }
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        if channel is not None:
            message["guild_id"] = str(channel.guild_id)
        if interaction is not None:
            message["type"] = 20 if interaction.type == 2 else 19
            message["application_id"] = str(self.application_id)
            message["webhook_id"] = str(self.application_id)
            message["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": interaction.payload["member"]["user"],
                "authorizing_integration_owners": {"0": message.get("guild_id", "0")},
            }
        self.messages[int(message["id"])] = message
        self.message_created[int(message["id"])] = created
        return message

    def age_message(self, message_id: int, seconds: float) -> None:
        """Make a message `seconds` older, as if it had been sent that long before."""
        self.message_created[message_id] -= seconds
        self.messages[message_id]["timestamp"] = _iso(self.message_created[message_id])

    def _attach(self, message: dict[str, Any], files: list[tuple[str, bytes]]) -> None:
        """Files sent with a message, as Discord lists them; their bytes stay readable in
        `self.files` by attachment id."""
        for filename, data in files:
            attachment_id = self.ids.next()
            self.files[attachment_id] = data
            message["attachments"].append(
                {
                    "id": str(attachment_id),
                    "filename": filename,
                    "size": len(data),
                    "url": f"{self.api_base}/attachments/{attachment_id}/{filename}",
                    "proxy_url": f"{self.api_base}/attachments/{attachment_id}/{filename}",
                }
            )

    def _edit_message(self, message_id: int, body: dict[str, Any]) -> dict[str, Any]:
        message = self.messages[message_id]
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = (
                    body[key] if body[key] is not None else ([] if key != "content" else "")
                )
        if "flags" in body and body["flags"] is not None:
            message["flags"] = (message["flags"] & EPHEMERAL) | body["flags"]
        message["flags"] &= ~LOADING
        message["edited_timestamp"] = _iso(self.clock())
        return message

    async def _create_message(self, request: web.Request) -> web.Response:
        channel = self.channel(int(request.match_info["channel"]))
        if channel is None:
            return _json({"message": "Unknown Channel", "code": 10003}, status=404)
        if not channel.bot_can_send:
            return _json({"message": "Missing Permissions", "code": 50013}, status=403)
        body = request[BODY] or {}
        problems = self._schema(schema.MESSAGE_CREATE_MODEL, body)
        problems += schema.message_rules(body)
        if refused := self._check(request, problems):
            return refused
        if body.get("enforce_nonce") and body.get("nonce") is not None:
            # Discord returns the earlier message for a repeated nonce instead of posting
            # twice, as long as that message is recent.
            recent = self.clock() - NONCE_WINDOW
            for message_id, message in self.messages.items():
                if (
                    message["channel_id"] == str(channel.id)
                    and message.get("nonce") == body["nonce"]
                    and self.message_created[message_id] >= recent
                ):
                    return _json(message)
        return _json(self.make_message(channel.id, body))

    async def _list_messages(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages: up to `limit` messages, newest first, around, before or
        after a message id (only one counts, in that order), else the latest."""
        channel = self.channel(int(request.match_info["channel"]))
        if channel is None:
            return _json({"message": "Unknown Channel", "code": 10003}, status=404)
        if not channel.bot_can_read:
            return _json({"message": "Missing Access", "code": 50001}, status=403)
        query, problems = _history_query(request.query)
        if problems:
            return self._refuse(request, 400, schema.error_body(problems))
        limit = query.get("limit", HISTORY_DEFAULT_LIMIT)
        # Ephemeral messages belong to one member, never to the channel's history.
        ids = sorted(
            message_id
            for message_id, message in self.messages.items()
            if message["channel_id"] == str(channel.id) and not message["flags"] & EPHEMERAL
        )
        if "around" in query:
            older = [i for i in ids if i < query["around"]]
            older = older[len(older) - limit // 2 :]
            chosen = older + [i for i in ids if i >= query["around"]][: limit - len(older)]
        elif "before" in query:
            chosen = [i for i in ids if i < query["before"]][-limit:]
        elif "after" in query:
            chosen = [i for i in ids if i > query["after"]][:limit]
        else:
            chosen = ids[-limit:]
        # Discord does not keep a message's nonce: only the answer to the send carries it.
        listed = [
            {k: v for k, v in self.messages[i].items() if k != "nonce"} for i in reversed(chosen)
        ]
        return _json(listed)

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self.channel(int(request.match_info["channel"]))
        if channel is None:
            return _json({"message": "Unknown Channel", "code": 10003}, status=404)
        return _json(channel.payload())

    # REST: interactions

    async def _callback(self, request: web.Request) -> web.Response:
        record = self.interactions.get(int(request.match_info["id"]))
        if record is None or record.token != request.match_info["token"]:
            return _json({"message": "Unknown interaction", "code": 10062}, status=404)
        if asyncio.get_running_loop().time() - record.created > FIRST_RESPONSE_DEADLINE:
            record.late = True
            self.late.append(record)
            return self._refuse(request, 404, {"message": "Unknown interaction", "code": 10062})
        if record.response_type is not None:
            return self._refuse(
                request,
                400,
                {"message": "Interaction has already been acknowledged.", "code": 40060},
            )
        body = request[BODY] or {}
        kind = body.get("type")
        model = schema.CALLBACK_MODELS.get(kind) if isinstance(kind, int) else None
        if model is None:
            return self._refuse(
                request,
                400,
                schema.error_body(
                    [
                        (
                            ("type",),
                            "BASE_TYPE_CHOICES",
                            f"Value must be one of {sorted(schema.CALLBACK_MODELS)}.",
                        )
                    ]
                ),
            )
        problems = self._schema(model, body)
        data = body.get("data") or {}
        if kind in (4, 7):
            problems += schema.message_rules(data, ("data",))
        allowed_for = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}
        if kind not in allowed_for.get(record.type, set()):
            problems.append(
                (
                    ("type",),
                    "INTERACTION_RESPONSE_TYPE_INVALID",
                    f"Response type {kind} is not valid for interaction type {record.type}.",
                )
            )
        if refused := self._check(request, problems):
            return refused
        record.response_type = kind
        record.response_body = body
        message: dict[str, Any] | None = None
        if kind == 4:
            message = self.make_message(record.channel_id, data, interaction=record)
            self._attach(message, request[FILES])
        elif kind == 5:
            message = self.make_message(
                record.channel_id, {"flags": (data.get("flags") or 0) | LOADING}, interaction=record
            )
        elif kind == 7 and record.message_id is not None:
            message = self._edit_message(record.message_id, data)
        elif kind == 6 and record.message_id is not None:
            message = self.messages.get(record.message_id)
        if message is not None and kind in (4, 5):
            record.original_id = int(message["id"])
        elif message is not None:
            record.original_id = record.message_id
        record.acknowledged_at = asyncio.get_running_loop().time()
        record.acknowledged.set()
        answer: dict[str, Any] = {
            "interaction": {
                "id": str(record.id),
                "type": record.type,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(message and message["flags"] & EPHEMERAL),
            }
        }
        if message is not None:
            answer["interaction"]["response_message_id"] = message["id"]
            answer["resource"] = {"type": kind, "message": message}
        return _json(answer)

    def _interaction_for_token(self, request: web.Request) -> Interaction | None:
        token = request.match_info["token"]
        for record in self.interactions.values():
            if record.token == token:
                return record
        return None

    def _token_problem(
        self, request: web.Request, record: Interaction | None
    ) -> web.Response | None:
        if record is None or request.match_info["app"] != str(self.application_id):
            return _json({"message": "Unknown Webhook", "code": 10015}, status=404)
        if asyncio.get_running_loop().time() - record.created > TOKEN_LIFETIME:
            return self._refuse(request, 401, {"message": "Invalid Webhook Token", "code": 50027})
        if record.response_type is None:
            return self._refuse(request, 404, {"message": "Unknown Webhook", "code": 10015})
        return None

    async def _followup(self, request: web.Request) -> web.Response:
        record = self._interaction_for_token(request)
        if refused := self._token_problem(request, record):
            return refused
        assert record is not None
        body = request[BODY] or {}
        problems = self._schema(schema.WEBHOOK_EXECUTE_MODEL, body)
        problems += schema.message_rules(body)
        if refused := self._check(request, problems):
            return refused
        message = self.make_message(record.channel_id, body, interaction=record)
        self._attach(message, request[FILES])
        record.followup_ids.append(int(message["id"]))
        return _json(message)

    async def _webhook_message(self, request: web.Request) -> web.Response:
        record = self._interaction_for_token(request)
        if refused := self._token_problem(request, record):
            return refused
        assert record is not None
        target = request.match_info["message"]
        message_id = record.original_id if target == "@original" else int(target)
        if message_id is None or message_id not in self.messages:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        if request.method == "GET":
            return _json(self.messages[message_id])
        if request.method == "DELETE":
            del self.messages[message_id]
            return web.Response(status=204)
        body = request[BODY] or {}
        problems = self._schema(schema.WEBHOOK_EDIT_MODEL, body)
        problems += schema.message_rules(body)
        if refused := self._check(request, problems):
            return refused
        edited = self._edit_message(message_id, body)
        if request[FILES]:
            edited["attachments"] = []  # an edit that sends files replaces the old ones
            self._attach(edited, request[FILES])
        return _json(edited)

    # Gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        session: Session | None = None
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == 1:
                    await ws.send_json({"op": 11})
                elif op == 2 and session is not None:
                    await self._refuse_identify(
                        ws, session.shard, "already authenticated", CLOSE_ALREADY_AUTHENTICATED
                    )
                elif op == 2:
                    session = await self._identify(ws, frame.get("d"))
                elif op == 6:
                    # Sessions are not kept: ask the client to identify again.
                    await ws.send_json({"op": 9, "d": False})
        finally:
            self._sockets.discard(ws)
            if session in self.sessions:
                self.sessions.remove(session)
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: Any) -> Session | None:
        """Start a session as Discord does, or refuse it with Discord's answer."""
        if not isinstance(data, dict):
            await ws.close(code=CLOSE_DECODE_ERROR, message=b"Error while decoding payload.")
            return None
        if data.get("token") != self.token:
            await self._refuse_identify(
                ws, None, "authentication failed", CLOSE_AUTHENTICATION_FAILED
            )
            return None
        sharded = data.get("shard") is not None
        shard = _shard_array(data["shard"]) if sharded else (0, 1)
        if shard is None:
            await self._refuse_identify(ws, None, "invalid shard", CLOSE_INVALID_SHARD)
            return None
        guild_ids = [g for g in self.guilds if shard_for(g, shard[1]) == shard[0]]
        if len(guild_ids) > self.max_guilds_per_shard:
            await self._refuse_identify(ws, shard, "sharding required", CLOSE_SHARDING_REQUIRED)
            return None
        now = self.clock()
        if not self.session_start_limit.spend(now):
            # "Upon hitting this limit, all active sessions for the app will be terminated,
            # the bot token will be reset" (gateway docs, "Identifying"). Which close code the
            # sessions get is not documented: 4004, as their token is no longer valid.
            self.token = f"standin-token-{secrets.token_hex(8)}"
            self.token_resets += 1
            self.identifies.append(IdentifyAttempt(shard, "token reset", now))
            # Together: each close waits for its own client's answer.
            await asyncio.gather(
                *(
                    socket.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"Token reset.")
                    for socket in self._sockets
                )
            )
            return None
        # Identifies of one bucket closer together than allowed get "Invalid Session (opcode
        # 9)" (gateway docs, "Rate Limiting"); the refused identify still spent a session
        # start, as Discord's own answer in discord-api-docs#1328 warns.
        bucket = shard[0] % self.session_start_limit.max_concurrency
        last = self._bucket_identified.get(bucket)
        if last is not None and now - last < self.identify_interval:
            self.identifies.append(IdentifyAttempt(shard, "invalid session", now))
            await ws.send_json({"op": 9, "d": False})
            return None
        self._bucket_identified[bucket] = now
        self.identifies.append(IdentifyAttempt(shard, "ready", now))
        session = Session(ws, shard[0], shard[1], sharded, next(self._session_order))
        self.sessions.append(session)
        await self._ready(session, guild_ids)
        return session

    async def _refuse_identify(
        self, ws: web.WebSocketResponse, shard: tuple[int, int] | None, outcome: str, code: int
    ) -> None:
        self.identifies.append(IdentifyAttempt(shard, outcome, self.clock()))
        await ws.close(code=code, message=outcome.capitalize().encode() + b".")

    async def _dispatch(self, session: Session, event: str, data: Any) -> None:
        frame = {"op": 0, "s": next(session.sequence), "t": event, "d": data}
        await session.ws.send_json(frame)

    async def _ready(self, session: Session, guild_ids: list[int]) -> None:
        ready: dict[str, Any] = {
            "v": 10,
            "user": self.bot_user,
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "private_channels": [],
            "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
            "application": {"id": str(self.application_id), "flags": 0},
        }
        if session.sharded:
            ready["shard"] = list(session.shard)
        await self._dispatch(session, "READY", ready)
        for guild_id in guild_ids:
            if (guild := self.guilds.get(guild_id)) is not None:  # not removed meanwhile
                await self._dispatch(session, "GUILD_CREATE", self.guild_payload(guild))
        self.identified.set()

    # Sharding, for tests

    def session_for(self, guild_id: int | None) -> Session | None:
        """The session that receives a server's events: of the open sessions whose shard owns
        the server, the newest (a choice of this stand-in: Discord does not document which).
        Events without a server, like DMs, go to shard 0."""
        owners = [
            s
            for s in self.sessions
            if not s.ws.closed and (s.owns(guild_id) if guild_id is not None else s.shard_id == 0)
        ]
        return max(owners, key=lambda s: s.order, default=None)

    @property
    def connected_shards(self) -> list[tuple[int, int]]:
        """[shard_id, shard_count] of each open session, oldest first."""
        return [s.shard for s in self.sessions if not s.ws.closed]

    @property
    def identify_counts(self) -> Counter[tuple[int, int]]:
        """Sessions started (READY sent) per [shard_id, shard_count]."""
        return Counter(a.shard for a in self.identifies if a.outcome == "ready" and a.shard)

    def guild_payload(self, guild: Guild) -> dict[str, Any]:
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "owner_id": str(guild.owner_id),
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "features": [],
            "system_channel_flags": 0,
            "roles": [
                {
                    "id": str(guild.id),
                    "name": "@everyone",
                    "permissions": str(ALL_PERMISSIONS),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "emojis": [],
            "stickers": [],
            "member_count": 2,
            "large": False,
            "unavailable": False,
            "joined_at": _iso(self.clock()),
            "voice_states": [],
            "members": [],
            "presences": [],
            "threads": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "channels": [c.payload() for c in guild.channels.values()],
        }

    async def send_event(self, event: str, data: Any, *, guild_id: int | None = None) -> None:
        """Dispatch an event to the session that owns its server (`guild_id`, else the
        payload's "guild_id"), as Discord routes them between shards."""
        if guild_id is None and isinstance(data, dict) and data.get("guild_id"):
            guild_id = int(data["guild_id"])
        session = self.session_for(guild_id)
        if session is None:
            raise RuntimeError("no session of the bot receives this server's events")
        await self._dispatch(session, event, data)

    async def delete_channel(self, channel_id: int) -> None:
        channel = self.channel(channel_id)
        assert channel is not None
        del self.guilds[channel.guild_id].channels[channel_id]
        await self.send_event("CHANNEL_DELETE", channel.payload())

    async def remove_bot_from(self, guild_id: int) -> None:
        del self.guilds[guild_id]
        await self.send_event(
            "GUILD_DELETE", {"id": str(guild_id), "unavailable": False}, guild_id=guild_id
        )

    async def disconnect_bot(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        self.sessions.clear()
        self.identified.clear()

    def new_interaction(
        self, kind: int, payload: dict[str, Any], channel_id: int, message_id: int | None = None
    ) -> Interaction:
        record = Interaction(
            id=self.ids.next(),
            token=secrets.token_urlsafe(48),
            type=kind,
            payload=payload,
            created=asyncio.get_running_loop().time(),
            channel_id=channel_id,
            message_id=message_id,
        )
        payload.update(
            {
                "id": str(record.id),
                "token": record.token,
                "type": kind,
                "application_id": str(self.application_id),
                "version": 1,
            }
        )
        self.interactions[record.id] = record
        return record
