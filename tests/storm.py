"""Many members at once through the local stand-in, without waiting for each answer: what a
burst looks like to the bot, and what each member finally saw."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.standin.member import Member
from bot.standin.server import LOADING, Interaction, StandIn

POLL = 0.05


async def fire(member: Member, path: str, **options: Any) -> Interaction:
    """Send a slash command with these exact values and return at once."""
    command, subs = member._command(path)
    payload = member._command_payload(command, member._options(command, subs, options))
    record = member.standin.new_interaction(2, payload, member.channel_id)
    await member.standin.send_event("INTERACTION_CREATE", payload)
    return record


def seen(standin: StandIn, record: Interaction) -> str | None:
    """What the member sees now: the answer, or None while there is none (nothing sent, or
    only "thinking")."""
    texts = []
    if record.original_id is not None and record.original_id in standin.messages:
        message = standin.messages[record.original_id]
        if not message["flags"] & LOADING:
            texts.append(message["content"])
    texts += [standin.messages[i]["content"] for i in record.followup_ids if i in standin.messages]
    return "\n".join(texts) if texts else None


async def answers(
    standin: StandIn, records: list[Interaction], *, within: float
) -> list[str | None]:
    """Wait until every member has an answer, at most `within` seconds; what each saw."""
    for _ in range(int(within / POLL)):
        if all(seen(standin, r) is not None for r in records):
            break
        await asyncio.sleep(POLL)
    return [seen(standin, r) for r in records]
