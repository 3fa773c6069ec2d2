"""Spec'd doubles for discord.Interaction that record what the bot sends to Discord."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from unittest.mock import MagicMock

import discord
from discord import app_commands

from bot.client import TakeTwoBot
from bot.ui import limits


@dataclass
class Sent:
    """One thing the bot sent: how (send, edit, followup...) and with which arguments."""

    kind: str
    content: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def embed(self) -> discord.Embed:
        embed = self.kwargs.get("embed")
        assert isinstance(embed, discord.Embed), f"no embed in {self}"
        return embed

    @property
    def ephemeral(self) -> bool:
        return bool(self.kwargs.get("ephemeral", False))

    @property
    def view(self) -> discord.ui.View | None:
        return self.kwargs.get("view")

    def custom_ids(self) -> list[str]:
        view = self.view
        return [] if view is None else [c.custom_id for c in view.children]  # type: ignore[attr-defined]


class FakeResponse:
    def __init__(self, log: list[Sent]) -> None:
        self.log = log
        self._done = False
        self.type: discord.InteractionResponseType | None = None

    def is_done(self) -> bool:
        return self._done

    def _record(self, kind: str, content: Any, kwargs: dict[str, Any]) -> None:
        assert not self._done, "an interaction can be responded to only once"
        self._done = True
        self.log.append(Sent(kind, content, kwargs))

    async def send_message(self, content: Any = None, **kwargs: Any) -> None:
        self._record("send", content, kwargs)

    async def edit_message(self, **kwargs: Any) -> None:
        self._record("edit", kwargs.get("content"), kwargs)

    async def defer(self, **kwargs: Any) -> None:
        self._record("defer", None, kwargs)
        self.type = (
            discord.InteractionResponseType.deferred_channel_message
            if kwargs.get("thinking")
            else discord.InteractionResponseType.deferred_message_update
        )

    async def send_modal(self, modal: discord.ui.Modal) -> None:
        self._record("modal", None, {"modal": modal})

    async def autocomplete(self, choices: list[app_commands.Choice[Any]]) -> None:
        self._record("autocomplete", None, {"choices": choices})


class FakeFollowup:
    def __init__(self, log: list[Sent]) -> None:
        self.log = log

    async def send(self, content: Any = None, **kwargs: Any) -> None:
        self.log.append(Sent("followup", content, kwargs))


def make_interaction(
    bot: TakeTwoBot,
    *,
    user_id: int = 1001,
    guild_id: int | None = 500,
    guild_name: str = "Video Club",
    permissions: discord.Permissions | None = None,
    data: dict[str, Any] | None = None,
) -> Any:
    interaction = MagicMock(spec=discord.Interaction)
    interaction.client = bot
    interaction.guild_id = guild_id
    if guild_id is None:
        interaction.guild = None
    else:
        interaction.guild = MagicMock(spec=discord.Guild)
        interaction.guild.id = guild_id
        interaction.guild.name = guild_name
    interaction.user = MagicMock(spec=discord.Member)
    interaction.user.id = user_id
    interaction.user.display_name = f"member{user_id}"
    interaction.permissions = permissions or discord.Permissions.none()
    interaction.data = data or {}
    interaction.command = None
    interaction.sent = []
    interaction.response = FakeResponse(interaction.sent)
    interaction.followup = FakeFollowup(interaction.sent)
    interaction.extras = {}
    interaction.created_at = discord.utils.utcnow()

    async def edit_original_response(**kwargs: Any) -> None:
        interaction.sent.append(Sent("edit_original", kwargs.get("content"), kwargs))

    async def delete_original_response() -> None:
        interaction.sent.append(Sent("delete_original"))

    interaction.edit_original_response = edit_original_response
    interaction.delete_original_response = delete_original_response
    return interaction


async def invoke(bot: TakeTwoBot, name: str, interaction: Any, **options: Any) -> list[Sent]:
    """Run a slash command the way the tree does: transform each option, call the callback,
    and hand any error to the tree's error handler. Returns what was sent."""
    command = bot.tree.get_command(name.split()[0])
    for part in name.split()[1:]:
        assert isinstance(command, app_commands.Group)
        command = command.get_command(part)
    assert isinstance(command, app_commands.Command), name
    interaction.command = command
    try:
        # What the tree does first: the command's checks and its cog's interaction_check.
        if not await command._check_can_run(interaction):
            raise app_commands.CheckFailure(f"The check functions for {name} failed.")
        kwargs = {}
        for param in command._params.values():
            if param.name in options:
                kwargs[param.name] = await param.transform(interaction, options[param.name])
        await command._do_call(interaction, kwargs)
    except app_commands.AppCommandError as error:
        await bot.tree.on_error(interaction, error)
    sent: list[Sent] = interaction.sent
    return sent


async def submit_form(
    bot: TakeTwoBot, form: discord.ui.Modal, values: dict[str, str], *, user_id: int
) -> Any:
    """What Discord sends when a member submits a form (its custom_id and each input's
    value), answered the one way production answers it (`bot.ui.forms.answer`). Returns the
    submitting interaction, whose `sent` holds the answer."""
    from bot.ui import forms

    interaction = make_interaction(bot, user_id=user_id)
    interaction.type = discord.InteractionType.modal_submit
    interaction.data = {
        "custom_id": form.custom_id,
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": key, "value": value}]}
            for key, value in values.items()
        ],
    }
    await forms.answer(interaction)
    return interaction


def assert_no_mentions(sent: Sent) -> None:
    mentions = sent.kwargs.get("allowed_mentions")
    assert isinstance(mentions, discord.AllowedMentions), "allowed_mentions must be set"
    assert mentions.everyone is False and mentions.users is False and mentions.roles is False


def assert_embed_limits(embed: discord.Embed) -> None:
    data = embed.to_dict()
    assert len(data.get("title", "")) <= limits.EMBED_TITLE
    assert len(data.get("description", "")) <= limits.EMBED_DESCRIPTION
    fields = data.get("fields", [])
    assert len(fields) <= limits.EMBED_FIELDS
    for f in fields:
        assert 1 <= len(f["name"]) <= limits.FIELD_NAME
        assert 1 <= len(f["value"]) <= limits.FIELD_VALUE
    assert len(data.get("footer", {}).get("text", "")) <= limits.FOOTER
    assert len(embed) <= limits.EMBEDS_TOTAL
