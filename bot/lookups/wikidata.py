"""Facts about a music video from Wikidata's public API (no key), found by title and performer.

Up to four GET requests to api.php, in series (https://www.mediawiki.org/wiki/API:Etiquette):
1. `action=wbsearchentities` (https://www.wikidata.org/w/api.php?action=help&modules=wbsearchentities):
   items whose label or alias matches the title; the answer's `search` lists them by `id`,
   each with its `label` and the `match` (the label or alias that matched, as `text`).
2. `action=wbgetentities` (https://www.wikidata.org/w/api.php?action=help&modules=wbgetentities)
   with `props=labels|aliases|claims`, for the hits whose label or matched alias is the title
   itself (a film or a person named like the song has thousands of statements; they are not
   fetched): each item's names and statements, in the JSON shape of
   https://www.mediawiki.org/wiki/Wikibase/DataModel/JSON (`claims` → property → statements,
   each with `mainsnak.datavalue`, and a `rank`).
3. `wbgetentities` with `props=labels|aliases` for the performers and directors named.
4. `wbgetentities` with `props=labels|claims` for what the song is part of (P361), to keep
   only what is an album.

An item is used only when its label (or alias) is the title and one of its performers (P175)
is the artist, and it is a music video (P31 = Q193977) or a song or single: a title alone
never picks an item, and when several items of a kind match, none is used (which is meant
is not guessed). The video item gives the director (P57) and the publication date (P577);
the song item gives the album (P361, part of, when that item is an album) and its own
release date.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from bot.lookups.client import LookupClient, Miss, Service
from bot.lookups.facts import Fact
from bot.settings import DEFAULT_WIKIDATA_API_URL

log = logging.getLogger(__name__)

WIKIDATA = Service("Wikidata", min_interval=0.25)
MUSIC_VIDEO = "Q193977"
# song, single, musical work/composition, musical work
SONG_KINDS = frozenset({"Q7366", "Q134556", "Q105543609", "Q2188189"})
# What "part of" (P361) may point at to be read as the album: album, studio album, EP, live
# album, compilation album, soundtrack album, remix album, greatest hits album. A series, a
# contest or a film the song is part of is not its album.
ALBUM_KINDS = frozenset(
    {
        "Q482994",
        "Q208569",
        "Q169930",
        "Q209939",
        "Q222910",
        "Q4176708",
        "Q963099",
        "Q723849",
    }
)
INSTANCE_OF, DIRECTOR, PERFORMER, PUBLISHED, PART_OF = "P31", "P57", "P175", "P577", "P361"
SEARCH_LIMIT = 10
# wbgetentities takes at most 50 ids a request.
MAX_IDS = 50
_ITEM_ID = re.compile(r"Q[1-9][0-9]{0,11}")
# Wikidata's time values: "+2024-03-01T00:00:00Z", with precision 9 (year), 10 (month), 11 (day).
_TIME = re.compile(r"\+(\d{4})-(\d\d)-(\d\d)T")
_ARTIST_JOINS = re.compile(r"\s*(?:&|,|\+|\bx\b|\bfeat\.?|\bft\.?|\bfeaturing\b|\bwith\b)\s*")


@dataclass(frozen=True, slots=True)
class WikidataFacts:
    video_item: str | None = None
    song_item: str | None = None
    directors: tuple[Fact[str], ...] = ()
    performers: tuple[Fact[str], ...] = ()
    published: Fact[str] | None = None
    song_published: Fact[str] | None = None
    album: Fact[str] | None = None
    # The pages of items that matched alike (two music videos, or two songs, with this title
    # and performer): none of them was used.
    ambiguous: tuple[str, ...] = ()


def search_language(text: str) -> str:
    """The language whose labels are searched: the title's script decides (a Japanese title
    is labelled in Japanese), English otherwise."""
    han = False
    for char in text:
        name = unicodedata.name(char, "")
        if name.startswith(("HIRAGANA", "KATAKANA")):
            return "ja"
        if name.startswith("HANGUL"):
            return "ko"
        if name.startswith("CYRILLIC"):
            return "ru"
        if name.startswith("GREEK"):
            return "el"
        han = han or name.startswith("CJK")
    return "zh" if han else "en"


def _same(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().replace("&", "and").split())


def _names(entity: dict[str, Any]) -> list[str]:
    names = [v.get("value") for v in (entity.get("labels") or {}).values() if isinstance(v, dict)]
    for aliases in (entity.get("aliases") or {}).values():
        names += [a.get("value") for a in aliases if isinstance(a, dict)]
    return [n for n in names if isinstance(n, str) and n.strip()]


def _label(entity: dict[str, Any], languages: tuple[str, ...]) -> str | None:
    labels = entity.get("labels") or {}
    for language in languages:
        label = labels.get(language)
        if isinstance(label, dict) and isinstance(label.get("value"), str):
            return str(label["value"]).strip() or None
    return None


def _statements(entity: dict[str, Any], prop: str) -> list[dict[str, Any]]:
    """A property's statements, the preferred ones only when some are preferred, never the
    deprecated ones (the Wikibase ranks)."""
    claims = entity.get("claims") or {}
    statements = [s for s in claims.get(prop) or [] if isinstance(s, dict)]
    preferred = [s for s in statements if s.get("rank") == "preferred"]
    return preferred or [s for s in statements if s.get("rank") != "deprecated"]


def _value(statement: dict[str, Any]) -> Any:
    snak = statement.get("mainsnak") or {}
    if snak.get("snaktype") != "value":
        return None
    return (snak.get("datavalue") or {}).get("value")


def _item_ids(entity: dict[str, Any], prop: str) -> list[str]:
    ids = []
    for statement in _statements(entity, prop):
        value = _value(statement)
        item = value.get("id") if isinstance(value, dict) else None
        if isinstance(item, str) and _ITEM_ID.fullmatch(item) and item not in ids:
            ids.append(item)
    return ids


def _date(entity: dict[str, Any]) -> str | None:
    """The earliest publication date as precise as stated: "2024", "2024-03" or "2024-03-01"."""
    dates = []
    for statement in _statements(entity, PUBLISHED):
        value = _value(statement)
        if not isinstance(value, dict) or not isinstance(value.get("time"), str):
            continue
        match = _TIME.match(value["time"])
        precision = value.get("precision")
        if match is None or precision not in (9, 10, 11):
            continue
        parts = match.groups()[: precision - 8]
        if any(int(part) == 0 for part in parts):
            continue
        dates.append("-".join(parts))
    return min(dates) if dates else None


def _search_names(hit: dict[str, Any]) -> list[str]:
    """The names a search hit is known by: its label, what matched, its aliases."""
    match = hit.get("match")
    names = [hit.get("label"), match.get("text") if isinstance(match, dict) else None]
    aliases = hit.get("aliases")
    names += aliases if isinstance(aliases, list) else []
    return [name for name in names if isinstance(name, str)]


class _Wikidata:
    def __init__(self, client: LookupClient, api_url: str, language: str) -> None:
        self.client = client
        self.api_url = api_url
        self.languages = tuple(dict.fromkeys((language, "en", "mul")))
        # Set when a request got no answer: "nothing matched" would then be a guess.
        self.unanswered = False

    def page(self, item: str) -> str:
        # The item's page on the wiki the API belongs to: /w/api.php → /wiki/Q….
        return urljoin(self.api_url, f"/wiki/{item}")

    async def ask(self, params: dict[str, str]) -> dict[str, Any] | None:
        answer = await self.client.get_json(WIKIDATA, self.api_url, {**params, "format": "json"})
        if answer is Miss.UNANSWERED:
            self.unanswered = True
        if isinstance(answer, Miss):
            return None
        if "error" in answer:
            # The API reports a bad request with HTTP 200 and an "error" object.
            log.warning("Wikidata: the API refused %s: %s", params.get("action"), answer["error"])
            self.unanswered = True
            return None
        return answer

    async def search(self, title: str) -> list[str]:
        """The items whose label or alias is the title itself (the search also lists those
        it merely starts)."""
        answer = await self.ask(
            {
                "action": "wbsearchentities",
                "search": title,
                "language": self.languages[0],
                "uselang": self.languages[0],
                "type": "item",
                "limit": str(SEARCH_LIMIT),
            }
        )
        results = (answer or {}).get("search")
        if not isinstance(results, list):
            return []
        wanted = _same(title)
        ids = [
            hit.get("id")
            for hit in results
            if isinstance(hit, dict) and any(_same(n) == wanted for n in _search_names(hit))
        ]
        return [i for i in dict.fromkeys(ids) if isinstance(i, str) and _ITEM_ID.fullmatch(i)]

    async def entities(self, ids: list[str], props: str) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        answer = await self.ask(
            {
                "action": "wbgetentities",
                "ids": "|".join(ids[:MAX_IDS]),
                "props": props,
                "languages": "|".join(self.languages),
            }
        )
        entities = (answer or {}).get("entities")
        if not isinstance(entities, dict):
            return {}
        return {k: v for k, v in entities.items() if isinstance(v, dict) and "missing" not in v}

    def named(
        self, ids: list[str], named: dict[str, dict[str, Any]], source: str
    ) -> list[Fact[str]]:
        labels = (_label(named[i], self.languages) if i in named else None for i in ids)
        return [Fact(label, source) for label in labels if label]


async def find_facts(
    client: LookupClient, title: str, artist: str, *, api_url: str = DEFAULT_WIKIDATA_API_URL
) -> WikidataFacts | Miss:
    """The music video's and the song's facts; MISSING when no item has this title and this
    performer, UNANSWERED when Wikidata could not be asked all it takes to tell."""
    wikidata = _Wikidata(client, api_url, search_language(title))
    candidates = await wikidata.entities(await wikidata.search(title), "labels|aliases|claims")
    titled = {
        item: entity
        for item, entity in candidates.items()
        if _same(title) in {_same(name) for name in _names(entity)}
    }
    referenced = list(
        dict.fromkeys(
            ref
            for entity in titled.values()
            for prop in (PERFORMER, DIRECTOR)
            for ref in _item_ids(entity, prop)
        )
    )
    named = await wikidata.entities(referenced, "labels|aliases")
    if wikidata.unanswered:
        return Miss.UNANSWERED
    artists = {_same(artist)} | {_same(part) for part in _ARTIST_JOINS.split(artist) if part}

    def performed(entity: dict[str, Any]) -> bool:
        return any(
            _same(name) in artists
            for ref in _item_ids(entity, PERFORMER)
            for name in _names(named.get(ref, {}))
        )

    def matching(kinds: frozenset[str]) -> list[str]:
        return [
            item
            for item, entity in titled.items()
            if performed(entity) and kinds & set(_item_ids(entity, INSTANCE_OF))
        ]

    videos, songs = matching(frozenset({MUSIC_VIDEO})), matching(SONG_KINDS)
    alike = [item for found in (videos, songs) if len(found) > 1 for item in found]
    ambiguous = tuple(map(wikidata.page, alike))
    video = videos[0] if len(videos) == 1 else None
    song = songs[0] if len(songs) == 1 else None
    if video is None and song is None:
        return WikidataFacts(ambiguous=ambiguous) if ambiguous else Miss.MISSING
    video_entity = titled[video] if video else {}
    song_entity = titled[song] if song else {}
    video_page = wikidata.page(video) if video else None
    song_page = wikidata.page(song) if song else None
    performer_item, performer_page = (
        (video_entity, video_page) if video else (song_entity, song_page)
    )
    album_item, album_page = (song_entity, song_page) if song else (video_entity, video_page)
    video_date = _date(video_entity) if video_page else None
    song_date = _date(song_entity) if song_page else None
    part_of = _item_ids(album_item, PART_OF)
    wholes = await wikidata.entities(part_of, "labels|claims")
    albums = wikidata.named(
        [i for i in part_of if ALBUM_KINDS & set(_item_ids(wholes.get(i, {}), INSTANCE_OF))],
        wholes,
        album_page or "",
    )
    return WikidataFacts(
        video_item=video_page,
        song_item=song_page,
        directors=tuple(wikidata.named(_item_ids(video_entity, DIRECTOR), named, video_page or "")),
        performers=tuple(
            wikidata.named(_item_ids(performer_item, PERFORMER), named, performer_page or "")
        ),
        published=Fact(video_date, video_page) if video_date and video_page else None,
        song_published=Fact(song_date, song_page) if song_date and song_page else None,
        # Two albums: which one is meant is not guessed.
        album=albums[0] if len(albums) == 1 else None,
        ambiguous=ambiguous,
    )
