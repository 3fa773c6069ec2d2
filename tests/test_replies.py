"""The reply path: a silent interaction is deferred in time, the answer fills the deferral
in, and shutdown knows which interactions still wait for an answer."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import discord
import pytest

from bot.client import TakeTwoBot
from bot.ui import replies
from tests.fakes import make_interaction
from tests.standin_harness import World


@pytest.fixture
def quick_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replies, "DEFER_AFTER", 0.05)


def slash(bot: TakeTwoBot, reply: str = "private") -> object:
    interaction = make_interaction(bot)
    interaction.type = discord.InteractionType.application_command
    interaction.id = 42
    interaction.command = type("Command", (), {"extras": {"reply": reply}})()
    return interaction


async def test_a_silent_interaction_is_deferred_and_the_answer_fills_it_in(
    bot: TakeTwoBot, quick_watchdog: None
) -> None:
    interaction = slash(bot)
    in_flight = replies.InFlight()
    replies.watch(interaction, in_flight)  # type: ignore[arg-type]
    assert len(in_flight) == 1
    await asyncio.sleep(0.2)
    [deferral] = interaction.sent  # type: ignore[attr-defined]
    assert deferral.kind == "defer" and deferral.kwargs == {"thinking": True, "ephemeral": True}
    await replies.send(interaction, "Saved.", ephemeral=True)  # type: ignore[arg-type]
    answer = interaction.sent[-1]  # type: ignore[attr-defined]
    assert answer.kind == "edit_original" and answer.content == "Saved."
    assert answer.kwargs["allowed_mentions"].users is False
    assert len(in_flight) == 0
    assert await in_flight.drain(1.0) == 0


async def test_a_private_answer_never_lands_in_a_public_thinking_message(
    bot: TakeTwoBot, quick_watchdog: None
) -> None:
    interaction = slash(bot, reply="public")
    replies.watch(interaction, replies.InFlight())  # type: ignore[arg-type]
    await asyncio.sleep(0.2)
    await replies.send(interaction, "Nothing was saved.", ephemeral=True)  # type: ignore[arg-type]
    kinds = [(s.kind, s.kwargs.get("ephemeral")) for s in interaction.sent]  # type: ignore[attr-defined]
    assert kinds == [("defer", False), ("delete_original", None), ("followup", True)]


async def test_an_answer_sent_before_the_watch_began_leaves_nothing_waiting(
    bot: TakeTwoBot,
) -> None:
    interaction = slash(bot)
    await replies.send(interaction, "Quick.")  # type: ignore[arg-type]
    in_flight = replies.InFlight()
    replies.watch(interaction, in_flight)  # type: ignore[arg-type]
    assert len(in_flight) == 0


async def test_forms_are_never_deferred(bot: TakeTwoBot, quick_watchdog: None) -> None:
    form = slash(bot, reply="form")
    control = slash(bot)  # watched beside it: proves the watchdog had time to act
    control.id = 43  # type: ignore[attr-defined]
    in_flight = replies.InFlight()
    replies.watch(form, in_flight)  # type: ignore[arg-type]
    replies.watch(control, in_flight)  # type: ignore[arg-type]
    await asyncio.sleep(0.2)
    assert [s.kind for s in control.sent] == ["defer"]  # type: ignore[attr-defined]
    assert form.sent == []  # type: ignore[attr-defined]


async def test_the_watchdog_counts_from_when_discord_created_the_interaction(
    bot: TakeTwoBot,
) -> None:
    # It reached the bot 1.9 s after Discord created it (a busy loop): 0.1 s are left.
    interaction = slash(bot)
    interaction.created_at = discord.utils.utcnow() - timedelta(seconds=1.9)  # type: ignore[attr-defined]
    replies.watch(interaction, replies.InFlight())  # type: ignore[arg-type]
    await asyncio.sleep(0.5)
    assert [s.kind for s in interaction.sent] == ["defer"]  # type: ignore[attr-defined]


async def test_a_button_or_form_from_an_older_version_says_it_expired(world: World) -> None:
    alice = world.member("alice")
    channel = next(iter(world.guild.channels))
    old_button = {"type": 2, "style": 1, "label": "Vote", "custom_id": "9f2c1e0a7b"}
    message = world.standin.make_message(
        channel,
        {
            "content": "posted by an older TakeTwo",
            "components": [{"type": 1, "components": [old_button]}],
        },
    )
    pressed = await alice.click(message, "Vote")
    assert pressed.ephemeral and pressed.type == 4
    assert pressed.content == "This button has expired: run the command again. Nothing was saved."
    old_form = {
        "custom_id": "5d1b9a6c3e",
        "components": [{"type": 1, "components": [{"type": 4, "custom_id": "t", "label": "T"}]}],
    }
    submitted = await alice.submit(old_form, {"t": "words"})
    assert submitted.ephemeral and submitted.content.startswith("This form has expired")
