"""How video suggestions look: the editors' queue and a member's own list.

A note is a member's text and a reason an editor's: both are shown as text (markdown
escaped, clipped), in ephemeral messages sent with mentions disabled (bot/ui/replies.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import discord
from discord.utils import escape_markdown

from bot.db.models import APPROVED, PENDING, VideoSuggestion
from bot.ui.embeds import BRAND
from bot.ui.limits import FIELD_NAME, FIELD_VALUE, clip, fit_embed
from bot.wording import count

# Notes shown for one suggestion in the queue (the others are counted).
NOTES_SHOWN = 3
NOTE_SHOWN = 200
REASON_SHOWN = 300


def fate(suggestion: VideoSuggestion) -> str:
    """What became of a suggestion, as its member and the editors read it."""
    if suggestion.status == PENDING:
        return "waiting for an editor"
    if suggestion.status == APPROVED:
        if suggestion.video is None:
            return "added (the video has since been removed from the catalog)"
        return f"added as **{escape_markdown(suggestion.video.label)}**"
    reason = clip(escape_markdown(suggestion.reason or ""), REASON_SHOWN)
    return f"not added: {reason}" if reason else "not added"


def _note(text: str) -> str:
    return "> " + clip(escape_markdown(text), NOTE_SHOWN)


def queue_embed(shown: Sequence[VideoSuggestion], waiting: int) -> discord.Embed:
    embed = discord.Embed(
        title="Suggested videos",
        colour=BRAND,
        description=(
            f"Waiting: {waiting:,}, oldest first. Approve looks the link up "
            "and opens the add form filled in (the suggestion counts as added once you save "
            "it); Reject asks for a reason, which the members who suggested it will see."
        ),
    )
    for suggestion in shown:
        lines = [suggestion.url, f"suggested <t:{suggestion.created_at}:R>"]
        lines += [_note(note) for note in suggestion.notes[:NOTES_SHOWN]]
        if len(suggestion.notes) > NOTES_SHOWN:
            lines.append(f"(and {len(suggestion.notes) - NOTES_SHOWN:,} more notes)")
        embed.add_field(
            name=f"#{suggestion.id} · suggested by {count(suggestion.suggesters, 'members')}",
            value=clip("\n".join(lines), FIELD_VALUE),
            inline=False,
        )
    return fit_embed(embed)


def own_embed(mine: Sequence[VideoSuggestion]) -> discord.Embed:
    embed = discord.Embed(
        title="Your video suggestions",
        colour=BRAND,
        description="Newest first, with what became of each.",
    )
    for suggestion in mine:
        lines = [f"Suggested <t:{suggestion.created_at}:R>: {fate(suggestion)}"]
        lines += [f"Your note: {_note(note)[2:]}" for note in suggestion.notes]
        embed.add_field(
            name=clip(f"#{suggestion.id} · {suggestion.url}", FIELD_NAME),
            value=clip("\n".join(lines), FIELD_VALUE),
            inline=False,
        )
    return fit_embed(embed)
