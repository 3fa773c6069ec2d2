"""Counted nouns and lists, said right: "1 rating", "2 ratings", "no takes".

Every count the bot shows goes through `count`, so "1 ratings" or "member(s)" cannot
come back one sentence at a time. Nouns are given in the plural (as the data layer names
its counts: "ratings", "moderation log entries"); the singular is known for each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Plural -> singular, for the nouns the bot counts.
SINGULAR = {
    "ratings": "rating",
    "takes": "take",
    "agrees": "agree",
    "quotes": "quote",
    "members": "member",
    "videos": "video",
    "credits": "credit",
    "reviews": "review",
    "servers": "server",
    "settings": "setting",
    "moderation log entries": "moderation log entry",
    "press reviews": "press review",
    "video suggestions": "video suggestion",
    "sources": "source",
    "characters": "character",
    "commands": "command",
}


def count(n: int, plural: str) -> str:
    """`count(1, "ratings")` -> "1 rating"; `count(0, "takes")` -> "0 takes"."""
    if n == 1:
        if plural not in SINGULAR:
            raise KeyError(f"no singular known for {plural!r}: add it to SINGULAR")
        return f"1 {SINGULAR[plural]}"
    return f"{n:,} {plural}"


def counts(found: Mapping[str, int], *, skip_zero: bool = False) -> str:
    """ "2 ratings, 1 take and 3 quotes" from {"ratings": 2, "takes": 1, "quotes": 3}."""
    return listing(count(n, noun) for noun, n in found.items() if n or not skip_zero)


def listing(items: Iterable[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
