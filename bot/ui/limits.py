"""Discord's message limits, and helpers that cut text cleanly to fit them."""

from __future__ import annotations

import discord

CONTENT = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
EMBEDS_TOTAL = 6000
CHOICE_NAME = 100
CHOICES = 25

ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """Shorten text to at most `limit` characters, at a word boundary when one is near."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    # Only back up to a space if that keeps most of the text.
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:-—") + ELLIPSIS


def fit_embed(embed: discord.Embed, total: int = EMBEDS_TOTAL) -> discord.Embed:
    """Trim the longest field values until the embed fits Discord's total-length limit."""
    while len(embed) > total and embed.fields:
        index, longest = max(enumerate(embed.fields), key=lambda pair: len(pair[1].value or ""))
        value = longest.value or ""
        excess = len(embed) - total
        if len(value) <= 20:
            embed.remove_field(index)
            continue
        keep = max(len(value) - excess, 20)
        embed.set_field_at(index, name=longest.name, value=clip(value, keep), inline=longest.inline)
    if len(embed) > total and embed.description:
        excess = len(embed) - total
        embed.description = clip(embed.description, max(len(embed.description) - excess, 1))
    return embed
