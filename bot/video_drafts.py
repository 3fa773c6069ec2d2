"""A video being added from a link: what the lookups found (each fact with the page it came
from), what the editor typed in /video add, and which sources back what the form saves.

The draft is kept in the database as JSON between the command and the form (the form's
button must work after a restart), so it is written and read here. No discord import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from bot.catalog import MAX_SOURCES
from bot.lookups.facts import Fact, FoundFacts

# Drafts older than this are not opened, and are dropped as new ones are saved: an editor
# who left the form for a day runs /video add again.
DRAFT_KEPT = 24 * 60 * 60
_MANY = ("directors", "performers")
_PLAIN = ("video_item", "song_item")
_NAMES = ("unanswered", "ambiguous")


@dataclass(frozen=True, slots=True)
class Typed:
    """What the editor typed in /video add beside the link: it wins over what was found."""

    title: str | None = None
    artist: str | None = None
    album: str | None = None
    year: int | None = None


@dataclass(frozen=True, slots=True)
class Saved:
    """What the editor saves from the form."""

    title: str
    artist: str
    album: str | None
    year: int | None
    directors: tuple[str, ...]


def _same(a: str | int, b: str | int) -> bool:
    return " ".join(str(a).casefold().split()) == " ".join(str(b).casefold().split())


def _fact_out(fact: Fact[Any]) -> list[Any]:
    return [fact.value, fact.source]


def _fact_in(raw: Any) -> Fact[Any] | None:
    if not isinstance(raw, list) or len(raw) != 2:
        return None
    value, source = raw
    if not isinstance(value, str | int) or not isinstance(source, str):
        return None
    return Fact(value, source)


def facts_to_json(facts: FoundFacts) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in fields(FoundFacts):
        value = getattr(facts, field.name)
        if field.name in _MANY:
            out[field.name] = [_fact_out(f) for f in value]
        elif field.name in _PLAIN:
            out[field.name] = value
        elif field.name in _NAMES:
            out[field.name] = list(value)
        else:
            out[field.name] = None if value is None else _fact_out(value)
    return out


def facts_from_json(raw: dict[str, Any]) -> FoundFacts:
    values: dict[str, Any] = {}
    for field in fields(FoundFacts):
        item = raw.get(field.name)
        if field.name in _MANY:
            found = [_fact_in(f) for f in item] if isinstance(item, list) else []
            values[field.name] = tuple(f for f in found if f is not None)
        elif field.name in _PLAIN:
            values[field.name] = item if isinstance(item, str) else None
        elif field.name in _NAMES:
            names = item if isinstance(item, list) else []
            values[field.name] = tuple(name for name in names if isinstance(name, str))
        else:
            values[field.name] = _fact_in(item)
    return FoundFacts(**values)


def _listed(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True, slots=True)
class Draft:
    url: str
    found: FoundFacts
    typed: Typed

    def to_json(self) -> str:
        typed = {f.name: getattr(self.typed, f.name) for f in fields(Typed)}
        return json.dumps({"found": facts_to_json(self.found), "typed": typed})

    @classmethod
    def from_json(cls, url: str, text: str) -> Draft:
        raw = json.loads(text)
        typed = raw.get("typed") or {}
        return cls(
            url,
            facts_from_json(raw.get("found") or {}),
            Typed(**{f.name: typed.get(f.name) for f in fields(Typed)}),
        )

    def summary(self, *, lookups_on: bool) -> str:
        """What the lookups came to, in a sentence or two for the editor: found facts,
        nothing found, services that did not answer (so "nothing found" is not said when
        nothing was asked), and Wikidata items left unused because several matched."""
        found = self.found
        if not lookups_on:
            return (
                "Lookups are off on this bot (EXTERNAL_LOOKUPS=false): fill in the form yourself."
            )
        silent = _listed(found.unanswered) if found.unanswered else None
        if found.sources:
            said = ["Found about this video, with where each fact comes from."]
            if silent:
                said.append(f"{silent} did not answer: try again in a few minutes for the rest.")
        elif silent:
            said = [
                f"{silent} did not answer, so nothing could be looked up: fill in the form "
                "yourself, or try again in a few minutes."
            ]
        else:
            said = ["Nothing was found about this video: fill in the form yourself."]
        if found.ambiguous:
            said.append(
                f"{len(found.ambiguous)} Wikidata items match this title and artist alike, so "
                "none was used: "
                + ", ".join(f"[{page.rsplit('/', 1)[-1]}]({page})" for page in found.ambiguous)
                + "."
            )
        return "\n".join(said)

    # What the form opens with: the typed value, else the found one, else nothing.

    def title(self) -> str:
        found = self.found.title.value if self.found.title else ""
        return self.typed.title or found

    def artist(self) -> str:
        found = self.found.artist.value if self.found.artist else ""
        return self.typed.artist or found

    def album(self) -> str:
        found = self.found.album.value if self.found.album else ""
        return self.typed.album or found

    def year(self) -> str:
        if self.typed.year is not None:
            return str(self.typed.year)
        return str(self.found.year.value) if self.found.year else ""

    def directors(self) -> list[str]:
        return [fact.value for fact in self.found.directors]

    @property
    def thumbnail(self) -> str | None:
        return self.found.thumbnail.value if self.found.thumbnail else None

    def sources_for(self, saved: Saved) -> list[str]:
        """The pages that back what is saved: a fact saved as it was found keeps its
        source; a value the editor typed or changed has none. The thumbnail comes from the
        video's page. At most MAX_SOURCES, as a catalog file allows."""
        found = self.found
        kept: list[Fact[Any] | None] = [
            found.title if found.title and _same(found.title.value, saved.title) else None,
            found.artist if found.artist and _same(found.artist.value, saved.artist) else None,
            found.thumbnail,
        ]
        if found.album and saved.album is not None and _same(found.album.value, saved.album):
            kept.append(found.album)
        if found.year and saved.year is not None and found.year.value == saved.year:
            kept.append(found.year)
        kept += [d for d in found.directors if any(_same(d.value, n) for n in saved.directors)]
        sources = dict.fromkeys(fact.source for fact in kept if fact is not None)
        return list(sources)[:MAX_SOURCES]
