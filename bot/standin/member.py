"""A member's Discord client, driving the bot through the stand-in.

It sends what the real client sends: an autocomplete request while typing, then the command
with the chosen value; button presses and select choices on a message; modal submissions;
message context menus. Option values are checked against the registered command first, as
the client does, so a test cannot send what no member could by accident. `forge` and
`submit(..., forged=True)` skip those checks on purpose: they send what a modified client or a
script holding a member's token can send, which Discord passes on to the bot unchecked.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.standin.server import ALL_PERMISSIONS, EPHEMERAL, Guild, Interaction, StandIn

ANSWER_TIMEOUT = 10.0
ADMINISTRATOR = 1 << 3


class ClientRefused(Exception):
    """The member's client would not send this (unknown command, value out of range...)."""


@dataclass
class Reply:
    """The bot's answer to one interaction, read from the stand-in's state."""

    standin: StandIn
    record: Interaction

    @property
    def type(self) -> int | None:
        return self.record.response_type

    @property
    def message(self) -> dict[str, Any] | None:
        if self.record.original_id is None:
            return None
        return self.standin.messages.get(self.record.original_id)

    @property
    def data(self) -> dict[str, Any]:
        return (self.record.response_body or {}).get("data") or {}

    @property
    def ephemeral(self) -> bool:
        message = self.message
        return bool(message and message["flags"] & EPHEMERAL)

    @property
    def content(self) -> str:
        return (self.message or {}).get("content") or ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return (self.message or {}).get("embeds") or []

    @property
    def embed(self) -> dict[str, Any]:
        [embed] = self.embeds
        return embed

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        return self.data.get("allowed_mentions")

    @property
    def choices(self) -> list[dict[str, Any]]:
        return self.data.get("choices") or []

    @property
    def modal(self) -> dict[str, Any]:
        assert self.type == 9, f"expected a modal, got response type {self.type}"
        return self.data

    @property
    def followups(self) -> list[dict[str, Any]]:
        return [
            self.standin.messages[i] for i in self.record.followup_ids if i in self.standin.messages
        ]

    def components(self) -> list[dict[str, Any]]:
        rows = (self.message or {}).get("components") or []
        return [c for row in rows for c in row.get("components", [])]

    def labels(self) -> list[str]:
        return [c.get("label") or c.get("placeholder") or "" for c in self.components()]


class Member:
    def __init__(
        self,
        standin: StandIn,
        guild: Guild,
        *,
        name: str = "member",
        user_id: int | None = None,
        permissions: int = 0,
        channel_id: int | None = None,
    ) -> None:
        self.standin = standin
        self.guild = guild
        self.id = user_id or standin.ids.next()
        self.name = name
        # Members get View Channel and Send Messages by default; tests add what they need.
        self.permissions = permissions | (1 << 10) | (1 << 11)
        self.channel_id = channel_id or next(iter(guild.channels))

    @property
    def user(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.name.title(),
            "avatar": None,
            "public_flags": 0,
        }

    def resolved_member(self) -> dict[str, Any]:
        """The member as Discord resolves it in an option: partial (no user, deaf or mute)."""
        return {
            "roles": [],
            "joined_at": datetime.now(UTC).isoformat(),
            "flags": 0,
            "permissions": str(self.permissions),
            "nick": None,
            "avatar": None,
            "pending": False,
            "premium_since": None,
            "communication_disabled_until": None,
        }

    def _base(self) -> dict[str, Any]:
        channel = self.standin.channel(self.channel_id)
        assert channel is not None
        return {
            "guild_id": str(self.guild.id),
            "channel_id": str(self.channel_id),
            "channel": {**channel.payload(), "permissions": str(self.permissions)},
            "guild": {"id": str(self.guild.id), "locale": "en-US", "features": []},
            "member": {"user": self.user, "deaf": False, "mute": False, **self.resolved_member()},
            "app_permissions": str(ALL_PERMISSIONS),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild.id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }

    async def _send(
        self, kind: int, payload: dict[str, Any], message_id: int | None = None
    ) -> Reply:
        record = self.standin.new_interaction(kind, payload, self.channel_id, message_id)
        await self.standin.send_event("INTERACTION_CREATE", payload)
        try:
            await asyncio.wait_for(record.acknowledged.wait(), ANSWER_TIMEOUT)
        except TimeoutError:
            raise AssertionError(f"the bot never answered interaction type {kind}") from None
        return Reply(self.standin, record)

    # Slash commands

    def _command(
        self, path: str, kind: int = 1, *, checked: bool = True
    ) -> tuple[dict[str, Any], list[str]]:
        # Slash commands may name subcommands ("quote add"); menu names contain spaces.
        top, *subs = path.split() if kind == 1 else [path]
        for command in self.standin.commands_for(self.guild.id):
            if command["name"] == top and command.get("type", 1) == kind:
                needed = int(command.get("default_member_permissions") or 0)
                hidden = needed & ~self.permissions and not self.permissions & ADMINISTRATOR
                if hidden and checked:
                    raise ClientRefused(f"{path} is hidden from members without its permissions")
                return command, subs
        raise ClientRefused(f"/{top} is not a registered command in this server")

    def _options(
        self,
        command: dict[str, Any],
        subs: list[str],
        values: dict[str, Any],
        focused: str | None = None,
        *,
        checked: bool = True,
    ) -> list[dict[str, Any]]:
        definitions = command.get("options") or []
        for sub in subs:
            found = next((o for o in definitions if o["name"] == sub and o["type"] in (1, 2)), None)
            if found is None:
                raise ClientRefused(f"no subcommand {sub!r}")
            inner = self._options(
                {"options": found.get("options") or []}, subs[1:], values, focused, checked=checked
            )
            return [{"name": sub, "type": found["type"], "options": inner}]
        by_name = {o["name"]: o for o in definitions}
        unknown = [name for name in values if name not in by_name]
        if unknown and checked:
            raise ClientRefused(f"no option {unknown[0]!r}")
        sent = []
        for option in definitions:
            name = option["name"]
            if name not in values:
                if checked and option.get("required") and name != focused:
                    raise ClientRefused(f"option {name!r} is required")
                continue
            value = values[name]
            if checked and name != focused:
                self._client_checks(option, value)
            entry: dict[str, Any] = {"name": name, "type": option["type"], "value": value}
            if name == focused:
                entry["focused"] = True
            sent.append(entry)
        # Only a forged request names options the command does not have.
        sent += [{"name": name, "type": 3, "value": values[name]} for name in unknown]
        return sent

    @staticmethod
    def _client_checks(option: dict[str, Any], value: Any) -> None:
        kind = option["type"]
        if kind == 3:
            if not isinstance(value, str):
                raise ClientRefused(f"{option['name']} takes text")
            if len(value) < option.get("min_length", 0) or len(value) > option.get(
                "max_length", 6000
            ):
                raise ClientRefused(f"{option['name']}: length out of range")
        if kind == 7 and not str(value).isdigit():
            raise ClientRefused(f"{option['name']} takes a channel")
        if kind == 4:
            if not isinstance(value, int) or isinstance(value, bool):
                raise ClientRefused(f"{option['name']} takes a whole number")
            if "min_value" in option and value < option["min_value"]:
                raise ClientRefused(f"{option['name']} is at least {option['min_value']}")
            if "max_value" in option and value > option["max_value"]:
                raise ClientRefused(f"{option['name']} is at most {option['max_value']}")
        if option.get("choices") and value not in [c["value"] for c in option["choices"]]:
            raise ClientRefused(f"{option['name']} must be one of its choices")

    def _command_payload(
        self, command: dict[str, Any], options: list[dict[str, Any]]
    ) -> dict[str, Any]:
        payload = self._base()
        payload["data"] = {
            "id": command["id"],
            "name": command["name"],
            "type": 1,
            "guild_id": str(self.guild.id),
            "options": options,
        }
        return payload

    async def autocomplete(
        self, path: str, option: str, typed: str, **others: Any
    ) -> list[dict[str, Any]]:
        """What the member sees while typing `typed` into `option`."""
        command, subs = self._command(path)
        options = self._options(command, subs, {**others, option: typed}, focused=option)
        reply = await self._send(4, self._command_payload(command, options))
        assert reply.type == 8, f"autocomplete answered with type {reply.type}"
        return reply.choices

    async def run(self, path: str, **options: Any) -> Reply:
        """Send the command with these exact values (as if typed by hand)."""
        return await self._run(path, options, checked=True)

    async def forge(self, path: str, **options: Any) -> Reply:
        """Send the command with these values whatever their type, length or range, and with
        required options left out or unknown ones added: what Discord forwards from a
        modified client."""
        return await self._run(path, options, checked=False)

    async def _run(self, path: str, options: dict[str, Any], *, checked: bool) -> Reply:
        # A modified client also sends commands that Discord hides from this member.
        command, subs = self._command(path, checked=checked)
        # A user option is given a Member: Discord sends its id, and the user and member
        # objects under `resolved`.
        members = {str(v.id): v for v in options.values() if isinstance(v, Member)}
        options = {k: str(v.id) if isinstance(v, Member) else v for k, v in options.items()}
        payload = self._command_payload(
            command, self._options(command, subs, options, checked=checked)
        )
        resolved: dict[str, Any] = {}
        if channels := self._resolved_channels(payload["data"]["options"]):
            resolved["channels"] = channels
        if members:
            resolved["users"] = {key: m.user for key, m in members.items()}
            resolved["members"] = {key: m.resolved_member() for key, m in members.items()}
        if resolved:
            payload["data"]["resolved"] = resolved
        return await self._send(2, payload)

    def _resolved_channels(self, options: list[dict[str, Any]]) -> dict[str, Any]:
        """Discord sends the channel objects that channel options point at."""
        found: dict[str, Any] = {}
        for option in options:
            found.update(self._resolved_channels(option.get("options") or []))
            if option["type"] == 7:
                channel = self.standin.channel(int(option["value"]))
                if channel is None or channel.guild_id != self.guild.id:
                    raise ClientRefused("that channel is not in this server")
                found[str(channel.id)] = {**channel.payload(), "permissions": str(ALL_PERMISSIONS)}
        return found

    async def use(self, path: str, **options: Any) -> Reply:
        """Type each autocomplete option, pick the first suggestion, then send the command."""
        command, subs = self._command(path)
        definitions = command.get("options") or []
        for sub in subs:
            definitions = next(o for o in definitions if o["name"] == sub).get("options") or []
        chosen = dict(options)
        for option in definitions:
            name = option["name"]
            if option.get("autocomplete") and name in options:
                others = {k: v for k, v in chosen.items() if k != name}
                choices = await self.autocomplete(path, name, str(options[name]), **others)
                if choices:
                    chosen[name] = choices[0]["value"]
        return await self.run(path, **chosen)

    async def message_menu(self, name: str, message: dict[str, Any]) -> Reply:
        command, _ = self._command(name, kind=3)
        payload = self._base()
        payload["data"] = {
            "id": command["id"],
            "name": name,
            "type": 3,
            "guild_id": str(self.guild.id),
            "target_id": message["id"],
            "resolved": {"messages": {message["id"]: message}},
        }
        return await self._send(2, payload)

    # Components and modals

    def _component(self, message: dict[str, Any], label: str) -> dict[str, Any]:
        component: dict[str, Any]
        for row in message.get("components") or []:
            for component in row.get("components", []):
                if label in (
                    component.get("label"),
                    component.get("custom_id"),
                    component.get("placeholder"),
                ):
                    return component
        raise ClientRefused(f"no component {label!r} on that message")

    async def click(self, message: dict[str, Any], label: str) -> Reply:
        button = self._component(message, label)
        if button.get("type") != 2 or button.get("disabled"):
            raise ClientRefused(f"{label!r} is not a button that can be pressed")
        payload = self._base()
        payload["message"] = message
        payload["data"] = {"custom_id": button["custom_id"], "component_type": 2}
        return await self._send(3, payload, message_id=int(message["id"]))

    async def choose(
        self,
        message: dict[str, Any],
        values: list[Any],
        select: str | None = None,
        *,
        forged: bool = False,
    ) -> Reply:
        """Pick these values in a select menu; `forged` sends values the menu does not offer."""
        menus = [
            c
            for row in message.get("components") or []
            for c in row.get("components", [])
            if c.get("type") == 3
        ]
        menu = self._component(message, select) if select else (menus[0] if menus else None)
        if menu is None:
            raise ClientRefused("no select menu on that message")
        offered = {o["value"] for o in menu.get("options", [])}
        if not forged and not set(values) <= offered:
            raise ClientRefused(f"{values} are not among the menu's options")
        payload = self._base()
        payload["message"] = message
        payload["data"] = {"custom_id": menu["custom_id"], "component_type": 3, "values": values}
        return await self._send(3, payload, message_id=int(message["id"]))

    async def submit(
        self, modal: dict[str, Any], values: dict[str, Any], *, forged: bool = False
    ) -> Reply:
        """Fill in a form and send it; `forged` skips the client's required and length checks."""
        rows = []
        for row in modal.get("components") or []:
            inputs = []
            for field in row.get("components", []):
                value = values.get(field["custom_id"], field.get("value") or "")
                if not forged and field.get("required", True) and not value:
                    raise ClientRefused(f"{field.get('label')} is required")
                if not forged and len(value) > field.get("max_length", 4000):
                    raise ClientRefused(f"{field.get('label')} is too long")
                inputs.append({"type": 4, "custom_id": field["custom_id"], "value": value})
            rows.append({"type": 1, "components": inputs})
        payload = self._base()
        payload["data"] = {"custom_id": modal["custom_id"], "components": rows}
        return await self._send(5, payload)

    def post(self, content: str) -> dict[str, Any]:
        """A message this member writes in their channel (to save as a quote, say)."""
        return self.standin.make_message(self.channel_id, {"content": content}, author=self.user)
