"""What a lookup found, each fact with the address it came from: the catalog keeps that
address as the fact's source. A fact nothing stated is None (or an empty tuple), never a guess."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T", str, int)


@dataclass(frozen=True, slots=True)
class Fact(Generic[T]):
    value: T
    source: str


@dataclass(frozen=True, slots=True)
class FoundFacts:
    """Everything found about one video. `published` and `year` are the music video's own
    (Wikidata's item for the video); `song_published` is the song's release, kept apart
    because a video often comes out later than its song."""

    title: Fact[str] | None = None
    artist: Fact[str] | None = None
    channel: Fact[str] | None = None
    thumbnail: Fact[str] | None = None
    published: Fact[str] | None = None
    year: Fact[int] | None = None
    song_published: Fact[str] | None = None
    directors: tuple[Fact[str], ...] = ()
    performers: tuple[Fact[str], ...] = ()
    album: Fact[str] | None = None
    # The Wikidata items the facts were read from (their page URLs), when any matched.
    video_item: str | None = None
    song_item: str | None = None
    # The services that did not answer (by name: "YouTube", "Wikidata"): what they would
    # have said is missing, not known to be absent.
    unanswered: tuple[str, ...] = ()
    # Wikidata items that matched alike (their page URLs): none of them was used.
    ambiguous: tuple[str, ...] = ()

    @property
    def sources(self) -> tuple[str, ...]:
        """Every address a found fact came from, once each, in the order of the fields."""
        facts: list[Fact[str] | Fact[int] | None] = [
            self.title,
            self.artist,
            self.channel,
            self.thumbnail,
            self.published,
            self.year,
            self.song_published,
            *self.directors,
            *self.performers,
            self.album,
        ]
        return tuple(dict.fromkeys(fact.source for fact in facts if fact is not None))
