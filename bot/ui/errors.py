"""Turns any failure during an interaction into one ephemeral sentence for the member.

Expected failures (UserFacingError, missing permissions, cooldowns, bad values) are shown as
they are. Anything else is logged with a short code that the member also sees, so a report
("I got error 7F3A2C") leads straight to the log line.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.ui import replies, validation

log = logging.getLogger("taketwo.errors")

# A decorated callback keeps its exact signature: its owner (S), its other parameters (P)
# and its result (T, or None once an error has been reported instead).
S = TypeVar("S")
P = ParamSpec("P")
T = TypeVar("T")


def _root(error: BaseException) -> BaseException:
    """The innermost cause: discord.py wraps callback and transformer errors."""
    seen = 0
    while (
        isinstance(
            error,
            app_commands.CommandInvokeError
            | app_commands.TransformerError
            | app_commands.CheckFailure,
        )
        and error.__cause__ is not None
        and seen < 5
    ):
        error = error.__cause__
        seen += 1
    return error


def describe(error: BaseException) -> str | None:
    """The sentence for an expected failure, or None when the failure is a bug."""
    error = _root(error)
    if isinstance(error, UserFacingError):
        return error.message
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: you can do that again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.MissingPermissions):
        needed = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"You need the {needed} permission to do that."
    if isinstance(error, app_commands.BotMissingPermissions):
        needed = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"I need the {needed} permission here to do that."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "TakeTwo commands work in servers, not in direct messages."
    if isinstance(error, app_commands.TransformerError):
        return f"“{str(error.value)[:80]}” is not a valid value here."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that command here."
    return None


async def send_error(interaction: discord.Interaction, error: BaseException) -> None:
    message = describe(error)
    if message is None:
        code = secrets.token_hex(3).upper()
        name = interaction.command.qualified_name if interaction.command else "component"
        log.error("error %s in %s", code, name, exc_info=_root(error))
        message = f"Something went wrong on our side (error code {code}). Please try again."
    try:
        await replies.send(interaction, message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell the member about an error", exc_info=True)


def reports_errors(
    func: Callable[Concatenate[S, discord.Interaction, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[S, discord.Interaction, P], Coroutine[Any, Any, T | None]]:
    """For component callbacks, which do not pass through the command tree's handler."""

    @functools.wraps(func)
    async def wrapper(
        self: S, interaction: discord.Interaction, /, *args: P.args, **kwargs: P.kwargs
    ) -> T | None:
        try:
            ensure_accepting(interaction)
            return await func(self, interaction, *args, **kwargs)
        except Exception as exc:
            await send_error(interaction, exc)
            return None

    return wrapper


def ensure_accepting(interaction: discord.Interaction) -> None:
    """Refuse new work once shutdown has begun (see TakeTwoBot.close)."""
    if not getattr(interaction.client, "accepting_interactions", True):
        raise UserFacingError("TakeTwo is restarting: try again in a minute. Nothing was saved.")


class TakeTwoTree(app_commands.CommandTree):
    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.type is discord.InteractionType.autocomplete:
            return True
        try:
            ensure_accepting(interaction)
            # Before any command runs: a forged option value never reaches a write.
            validation.check_command(interaction)
        except UserFacingError as refusal:
            raise app_commands.CheckFailure(refusal.message) from refusal
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await send_error(interaction, error)
