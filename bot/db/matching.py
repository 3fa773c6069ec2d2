"""How text a member typed is matched to videos, whatever engine found the candidates.

Each backend finds candidates its own way (an index range, trigrams); which candidate a
member meant, and what to tell them when it is unclear, is decided here, once.
"""

from __future__ import annotations

import difflib
import re
from typing import Protocol

from bot.db.models import CHOICE_PREFIX, Video
from bot.db.text import fold
from bot.errors import NotFoundError, UserFacingError

CHOICE = re.compile(rf"^{CHOICE_PREFIX}([0-9]{{1,18}})$")
# A hand-typed title this close to exactly one video is taken to mean it.
CONFIDENT = 0.8
MARGIN = 0.08
# A near miss closer than this to the text is offered; anything further is noise.
NEAR_ENOUGH = 0.5


def gone() -> NotFoundError:
    return NotFoundError("That video is no longer in the catalog.")


def similarity(query: str, video: Video) -> float:
    """How closely folded text matches a video's title, or its title with the artist."""
    title = fold(video.title)
    full = fold(f"{video.title} {video.artist}")
    return max(
        difflib.SequenceMatcher(None, query, title).ratio(),
        difflib.SequenceMatcher(None, query, full).ratio(),
    )


def ambiguous(verb: str, value: str, videos: list[Video]) -> UserFacingError:
    names = ", ".join(v.label for v in videos[:5])
    return UserFacingError(
        f"Several videos {verb} “{value[:80]}”: {names}. Pick one from the list."
    )


def holds_every_word(words: list[str], video: Video) -> bool:
    text = fold(f"{video.title} {video.artist}")
    return all(word in text for word in words)


def rank_by_title_words(words: list[str], video: Video) -> tuple[int, str]:
    """Most query words in the title first, then by title."""
    title = fold(video.title)
    return (-sum(word in title for word in words), title)


def trigrams(folded: str) -> list[str]:
    """Every three characters in a row of folded text: a candidate for a near miss shares
    at least one with the text typed."""
    return sorted({folded[i : i + 3] for i in range(len(folded) - 2)})


def closest(folded: str, candidates: list[Video], limit: int) -> list[Video]:
    """The candidates near enough to the folded text, best first."""
    scored = sorted(((similarity(folded, v), v) for v in candidates), key=lambda p: -p[0])
    return [v for score, v in scored if score >= NEAR_ENOUGH][:limit]


def chosen_id(value: str) -> int | None:
    """The video id of an autocomplete choice ("id:<n>"), or None for typed text."""
    match = CHOICE.match(value.strip())
    return int(match.group(1)) if match else None


def exact_pick(value: str, exact: list[Video]) -> Video | None:
    """Among the videos whose folded title, or title and artist, equals the typed value:
    the one meant, None when there is none, UserFacingError when several are."""
    query = fold(value)
    full_matches = [v for v in exact if fold(f"{v.title} {v.artist}") == query]
    if len(full_matches) == 1:
        return full_matches[0]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise ambiguous("are called", value.strip(), exact)
    return None


def best_guess(value: str, candidates: list[Video]) -> Video:
    """The video a partial or misspelt title means among the search's candidates
    (NotFoundError with the closest titles, or UserFacingError when several match)."""
    value = value.strip()
    query = fold(value)
    # The start of exactly one title ("we cry") means that video.
    starts = [v for v in candidates if fold(v.title).startswith(query)]
    if len(starts) == 1 and len(query) >= 3:
        return starts[0]
    # So does exactly one video holding every word typed ("kendrick lamar we cry").
    words = query.split()
    every_word = [v for v in candidates if len(words) > 1 and holds_every_word(words, v)]
    if len(every_word) == 1:
        return every_word[0]
    if len(every_word) > 1:
        raise ambiguous("match", value, every_word)
    ranked = sorted(((similarity(query, v), v) for v in candidates), key=lambda p: -p[0])
    confident = bool(ranked) and ranked[0][0] >= CONFIDENT
    unambiguous = len(ranked) == 1 or (len(ranked) > 1 and ranked[1][0] < ranked[0][0] - MARGIN)
    if confident and unambiguous:
        return ranked[0][1]
    closest_titles = ", ".join(f"“{v.title}”" for _, v in ranked[:3])
    hint = f" Closest titles: {closest_titles}." if closest_titles else ""
    raise NotFoundError(f"No video matches “{value[:80]}”.{hint}")


class _Searches(Protocol):
    async def search_as_typed(self, text: str, limit: int = 25) -> list[Video]: ...

    async def near_misses(self, text: str, limit: int = 25) -> list[Video]: ...

    async def resolve_exactly(self, value: str) -> Video | None: ...

    async def search(self, text: str, limit: int = 25) -> list[Video]: ...

    async def resolve_by_search(self, value: str) -> Video: ...


class SearchesByTyping:
    """The read tier's searches, built on an engine's three: text as typed, near misses
    and the exact lookup. Mixed into each backend's video reads, after its lookups."""

    async def search(self: _Searches, text: str, limit: int = 25) -> list[Video]:
        """Title prefix first, then substring, then near misses when those found nothing."""
        found = await self.search_as_typed(text, limit)
        if not found:
            found = await self.near_misses(text, limit)
        return found[:limit]

    async def resolve(self: _Searches, value: str) -> Video:
        """The video a member meant: an autocomplete choice, or a title typed by hand."""
        video = await self.resolve_exactly(value)
        return video if video is not None else await self.resolve_by_search(value)

    async def resolve_by_search(self: _Searches, value: str) -> Video:
        """The video a partial or misspelt title means, when `resolve_exactly` found none."""
        return best_guess(value, await self.search(value.strip(), limit=5))
