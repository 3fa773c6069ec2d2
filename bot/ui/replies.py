"""Every answer to an interaction goes through here, so that none is ever late or lost.

Discord forgets an interaction that is not acknowledged within 3 seconds. A command can take
longer than that through no fault of its own: a write waits for a lock held by an import
beside the bot, a burst of a thousand ratings queues behind one writer. So each interaction
gets a watchdog when it arrives (`watch`): if nothing has been sent after `DEFER_AFTER`
seconds, it acknowledges the interaction ("TakeTwo is thinking…"), and the answer, whenever
it comes, fills that acknowledgement in. `send` and `edit` pick whichever way of answering
is still open, under a per-interaction lock so that the watchdog and the command never both
answer.

How a command's first answer looks is decided before it runs, because a deferral fixes it:
private unless the command says `extras={"reply": "public"}`; a command that opens a form
says `extras={"reply": "form"}` and is never deferred (a form cannot follow a deferral).
Component interactions defer as an update, which still allows both a new private message
and an edit of the message the component sits on.

Nothing sent from here pings anyone: member text is everywhere.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from typing import Any

import aiohttp
import discord
from discord.utils import MISSING

from bot.ui.limits import CONTENT, clip

log = logging.getLogger(__name__)

# Discord's deadline is 3 s from the interaction's creation; the event reaches us a little
# later, and the deferral itself is a request that takes time.
DEFER_AFTER = 2.0
NONE = discord.AllowedMentions.none()
# An interaction never acknowledged this long after it arrived is dead on Discord's side; one
# that was deferred can still be answered until its token expires.
UNANSWERABLE_AFTER = 3.5
TOKEN_LIFETIME = 15 * 60
_STATE = "taketwo.reply"
_watchdogs: set[asyncio.Task[None]] = set()


class InFlight:
    """The interactions that have arrived and not been answered yet, so that shutdown can
    let them finish before it closes the connection their answers need."""

    def __init__(self) -> None:
        self._waiting: OrderedDict[int, tuple[float, discord.Interaction]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._waiting)

    def arrived(self, interaction: discord.Interaction) -> None:
        now = time.monotonic()
        self._forget_dead(now)
        self._waiting[interaction.id] = (now, interaction)

    def answered(self, interaction: discord.Interaction) -> None:
        self._waiting.pop(interaction.id, None)

    @staticmethod
    def _answerable(now: float, arrived: float, interaction: discord.Interaction) -> bool:
        """Not acknowledged yet but still within Discord's deadline, or deferred and its
        token still valid."""
        age = now - arrived
        return age < UNANSWERABLE_AFTER or (age < TOKEN_LIFETIME and interaction.response.is_done())

    def _forget_dead(self, now: float) -> None:
        # Oldest first: stops at the first one that may still be answered, so each arrival
        # costs O(1) amortized and the table holds at most 15 minutes of interactions.
        while self._waiting:
            arrived, interaction = next(iter(self._waiting.values()))
            if self._answerable(now, arrived, interaction):
                return
            self._waiting.popitem(last=False)

    async def drain(self, seconds: float) -> int:
        """Wait until every interaction is answered or can no longer be, at most `seconds`
        seconds. Returns how many were still waiting."""
        deadline = time.monotonic() + seconds
        while True:
            now = time.monotonic()
            self._forget_dead(now)
            live = sum(self._answerable(now, *entry) for entry in self._waiting.values())
            if not live or now >= deadline:
                return live
            await asyncio.sleep(0.05)


class _ReplyState:
    __slots__ = ("answered_already", "in_flight", "lock", "original_filled")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.in_flight: InFlight | None = None
        self.answered_already = False
        # After a "thinking" deferral, the first answer replaces the thinking message.
        self.original_filled = False

    def answered(self, interaction: discord.Interaction) -> None:
        self.answered_already = True
        if self.in_flight is not None:
            self.in_flight.answered(interaction)


def _state(interaction: discord.Interaction) -> _ReplyState:
    state = interaction.extras.get(_STATE)
    if state is None:
        state = interaction.extras[_STATE] = _ReplyState()
    return state


# Components whose answer is a form (custom_id patterns): never deferred, as a form cannot
# follow a deferral. Their callbacks must open the form well within Discord's 3 seconds.
_FORM_OPENERS: list[re.Pattern[str]] = []


def opens_form(custom_id_pattern: str) -> None:
    """Declare that components whose custom_id matches this pattern answer with a form."""
    _FORM_OPENERS.append(re.compile(custom_id_pattern))


def planned_reply(interaction: discord.Interaction) -> str:
    """ "private", "public", "form" or "update": how this interaction's answer will look."""
    if interaction.type is discord.InteractionType.component:
        data: Any = interaction.data
        custom_id = data.get("custom_id") if isinstance(data, dict) else None
        if isinstance(custom_id, str) and any(p.fullmatch(custom_id) for p in _FORM_OPENERS):
            return "form"
        return "update"
    if interaction.type is discord.InteractionType.modal_submit:
        return "private"
    command = interaction.command
    extras = getattr(command, "extras", None) or {}
    return str(extras.get("reply", "private"))


def watch(interaction: discord.Interaction, in_flight: InFlight) -> None:
    """Start the watchdog for one interaction (not for autocomplete, which cannot defer)."""
    if interaction.type not in (
        discord.InteractionType.application_command,
        discord.InteractionType.component,
        discord.InteractionType.modal_submit,
    ):
        return
    # The command's task was created first and may have answered already.
    state = _state(interaction)
    if state.answered_already:
        return
    state.in_flight = in_flight
    in_flight.arrived(interaction)
    # Discord counts from the interaction's creation, not from when this loop got to it:
    # under load the event may reach us late.
    waited = (discord.utils.utcnow() - interaction.created_at).total_seconds()
    delay = min(max(DEFER_AFTER - waited, 0.0), DEFER_AFTER)
    asyncio.get_running_loop().call_later(delay, _start_deferral, interaction)


def _start_deferral(interaction: discord.Interaction) -> None:
    if interaction.response.is_done():
        return
    task = asyncio.get_running_loop().create_task(defer_if_silent(interaction))
    _watchdogs.add(task)
    task.add_done_callback(_watchdogs.discard)


async def defer_if_silent(interaction: discord.Interaction) -> None:
    """Acknowledge the interaction unless an answer has already been sent."""
    async with _state(interaction).lock:
        response = interaction.response
        if response.is_done():
            return
        plan = planned_reply(interaction)
        try:
            if plan == "form":
                return
            if plan == "update":
                await response.defer()
            else:
                await response.defer(thinking=True, ephemeral=plan == "private")
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("could not defer a slow interaction: %s", exc)


async def send(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
    file: discord.File | None = None,
    ephemeral: bool = False,
) -> None:
    """Answer with a new message (or fill in the "thinking" message a deferral left)."""
    if content is not None:
        content = clip(content, CONTENT)
    fields: dict[str, Any] = {"allowed_mentions": NONE}
    if embed is not None:
        fields["embed"] = embed
    if view is not None:
        fields["view"] = view
    state = _state(interaction)
    async with state.lock:
        try:
            response = interaction.response
            if not response.is_done():
                if file is not None:
                    fields["file"] = file
                await response.send_message(content, ephemeral=ephemeral, **fields)
                return
            thinking = response.type is discord.InteractionResponseType.deferred_channel_message
            if thinking and not state.original_filled:
                state.original_filled = True
                if not (ephemeral and planned_reply(interaction) == "public"):
                    if file is not None:
                        fields["attachments"] = [file]
                    await interaction.edit_original_response(content=content, **fields)
                    return
                # A private answer (an error, say) must not land in a public thinking message.
                await interaction.delete_original_response()
            if file is not None:
                fields["file"] = file
            await interaction.followup.send(content or MISSING, ephemeral=ephemeral, **fields)
        finally:
            state.answered(interaction)


async def edit(
    interaction: discord.Interaction,
    content: str | None = MISSING,
    *,
    embed: discord.Embed | None = MISSING,
    view: discord.ui.View | None = MISSING,
) -> None:
    """Change the message a component sits on (a confirmation, a page turned)."""
    state = _state(interaction)
    async with state.lock:
        try:
            if not interaction.response.is_done():
                await interaction.response.edit_message(
                    content=content, embed=embed, view=view, allowed_mentions=NONE
                )
            else:
                await interaction.edit_original_response(
                    content=content, embed=embed, view=view, allowed_mentions=NONE
                )
        finally:
            state.answered(interaction)


async def send_form(interaction: discord.Interaction, form: discord.ui.Modal) -> None:
    state = _state(interaction)
    async with state.lock:
        try:
            await interaction.response.send_modal(form)
        finally:
            state.answered(interaction)
