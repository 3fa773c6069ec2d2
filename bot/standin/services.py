"""A loopback stand-in for the services lookups ask: YouTube's and Vimeo's oEmbed endpoints and
Wikidata's api.php, on 127.0.0.1, answering in the shapes the services document.

- oEmbed: the JSON of https://oembed.com/ section 2.3.4 (type "video", version "1.0", title,
  author_name, author_url, provider_name, provider_url, thumbnail_url/width/height, html,
  width, height), as YouTube (https://www.youtube.com/oembed) and Vimeo
  (https://developer.vimeo.com/api/oembed/videos) serve it; an unknown video is a 404.
  A video in `refused` gets the answer YouTube gives it, with YouTube's plain-text body:
  401 Unauthorized for a private video or one whose owner turned embedding off (section
  2.3.5 of the oEmbed spec lists 401 for a private, non-public resource), 400 Bad Request
  for an id YouTube does not know, or a bare "Forbidden" with status 200, as YouTube has
  sent for private videos.
- Wikidata: `wbsearchentities` answers {"searchinfo": {"search": …}, "search": [{"id",
  "title", "concepturi", "url", "label", "description", "match"}], "success": 1}
  (https://www.wikidata.org/w/api.php?action=help&modules=wbsearchentities, prefix match on
  labels and aliases; `label` is the item's label, `match` what matched);
  `wbgetentities` answers {"entities": {id: {"type": "item", "id", "labels", "aliases",
  "claims"}}, "success": 1}, labels and aliases only in the `languages` asked for, an
  unknown id as {"id": …, "missing": ""}
  (https://www.wikidata.org/w/api.php?action=help&modules=wbgetentities; statement JSON per
  https://www.mediawiki.org/wiki/Wikibase/DataModel/JSON).

- Source pages (`/pages/NAME`): the web pages a catalog's sources link to, for
  `python -m bot catalog refresh`. `pages` gives each page's HTTP status (a name not there
  is a 404); a page in `head_refused` answers HEAD with 405 Method Not Allowed, as some
  sites do (RFC 9110, section 15.5.6), and GET normally; a page in `held` is answered only
  once `release` is set.

Every artist, title and person here is made up. Switches make a service answer slowly,
404, 429 with Retry-After, or malformed JSON (for its next few requests only, or until
switched back); `requests` records what each one was asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.links import VideoLink, vimeo, youtube

# Made-up videos. The ids have YouTube's and Vimeo's shapes and name nothing real.
FULL = youtube("TkTwFull001")  # a music video item with every fact
SONG_ONLY = youtube("TkTwSong002")  # only the song has an item
NOTHING = youtube("TkTwNone003")  # oEmbed answers; Wikidata has no item
NO_ARTIST = youtube("TkTwBare004")  # the title names no artist
JAPANESE = youtube("TkTwJapa005")  # a title in Japanese
VIMEO_FULL = vimeo("424242")

OEMBED_TITLES = {
    FULL: ("The Examples - Test Pattern (Official Video)", "TheExamplesVEVO"),
    SONG_ONLY: ("The Examples – Signal Drift [Official Music Video]", "The Examples"),
    NOTHING: ("Nobody Known - Unlisted Tune (Official 4K Video)", "Nobody Known"),
    NO_ARTIST: ("Test Pattern Rehearsal", "Example Rehearsals"),
    JAPANESE: ("架空楽団「夜の試験放送」Music Video", "架空楽団 Official"),
    VIMEO_FULL: ("The Examples - Test Pattern (Director's Cut)", "Example Films"),
}


# What `refused` videos get, as YouTube answers them: (status, plain-text body).
UNAUTHORIZED = (401, "Unauthorized")
BAD_REQUEST = (400, "Bad Request")
FORBIDDEN_AS_200 = (200, "Forbidden")


def thumbnail_of(link: VideoLink) -> str:
    return f"https://thumbnails.example/{link.host}/{link.video_id}.jpg"


def _item(number: int) -> str:
    return f"Q{number}"


def _labels(names: Mapping[str, str]) -> dict[str, Any]:
    return {lang: {"language": lang, "value": value} for lang, value in names.items()}


def _item_statement(prop: str, item: str) -> dict[str, Any]:
    return {
        "mainsnak": {
            "snaktype": "value",
            "property": prop,
            "datavalue": {
                "value": {"entity-type": "item", "numeric-id": int(item[1:]), "id": item},
                "type": "wikibase-entityid",
            },
            "datatype": "wikibase-item",
        },
        "type": "statement",
        "rank": "normal",
    }


def _time_statement(time: str, precision: int, rank: str = "normal") -> dict[str, Any]:
    return {
        "mainsnak": {
            "snaktype": "value",
            "property": "P577",
            "datavalue": {
                "value": {
                    "time": time,
                    "timezone": 0,
                    "before": 0,
                    "after": 0,
                    "precision": precision,
                    "calendarmodel": "http://www.wikidata.org/entity/Q1985727",
                },
                "type": "time",
            },
            "datatype": "time",
        },
        "type": "statement",
        "rank": rank,
    }


def _entity(
    item: str,
    names: Mapping[str, str],
    description: str = "",
    *,
    aliases: Mapping[str, list[str]] | None = None,
    claims: Mapping[str, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    return {
        "type": "item",
        "id": item,
        "labels": _labels(names),
        "descriptions": {"en": {"language": "en", "value": description}} if description else {},
        "aliases": {
            lang: [{"language": lang, "value": v} for v in values]
            for lang, values in (aliases or {}).items()
        },
        "claims": dict(claims or {}),
    }


MUSIC_VIDEO, SONG, SINGLE, ALBUM = "Q193977", "Q7366", "Q134556", "Q482994"
FILM, TV_SERIES = "Q11424", "Q5398426"
EXAMPLES, ANN, CAL, SAMPLE_RATE = _item(900001), _item(900002), _item(900003), _item(900004)
TEST_PATTERN_VIDEO, TEST_PATTERN_SONG = _item(900010), _item(900011)
SIGNAL_DRIFT_SONG, OTHER_TEST_PATTERN = _item(900020), _item(900030)
GAKUDAN, YORU_VIDEO, YAMADA = _item(900040), _item(900041), _item(900042)


def made_up_entities() -> dict[str, dict[str, Any]]:
    """A tiny made-up Wikidata: The Examples' "Test Pattern" (video and song items), the song
    "Signal Drift" (no video item), another artist's "Test Pattern", and a Japanese video."""

    def kind(*items: str) -> list[dict[str, Any]]:
        return [_item_statement("P31", i) for i in items]

    def ref(prop: str, *items: str) -> list[dict[str, Any]]:
        return [_item_statement(prop, i) for i in items]

    return {
        EXAMPLES: _entity(EXAMPLES, {"en": "The Examples"}, "made-up band"),
        ANN: _entity(ANN, {"en": "Ann Example"}, "made-up director"),
        CAL: _entity(CAL, {"en": "Cal Placeholder"}, "made-up director"),
        SAMPLE_RATE: _entity(
            SAMPLE_RATE, {"en": "Sample Rate"}, "made-up album", claims={"P31": kind(ALBUM)}
        ),
        TEST_PATTERN_VIDEO: _entity(
            TEST_PATTERN_VIDEO,
            {"en": "Test Pattern"},
            "made-up music video",
            claims={
                "P31": kind(MUSIC_VIDEO),
                "P175": ref("P175", EXAMPLES),
                "P57": ref("P57", ANN, CAL),
                "P577": [
                    _time_statement("+2024-03-01T00:00:00Z", 11),
                    _time_statement("+2023-01-01T00:00:00Z", 9, rank="deprecated"),
                ],
            },
        ),
        TEST_PATTERN_SONG: _entity(
            TEST_PATTERN_SONG,
            {"en": "Test Pattern"},
            "made-up song",
            claims={
                "P31": kind(SONG),
                "P175": ref("P175", EXAMPLES),
                "P361": ref("P361", SAMPLE_RATE),
                "P577": [_time_statement("+2023-11-00T00:00:00Z", 10)],
            },
        ),
        SIGNAL_DRIFT_SONG: _entity(
            SIGNAL_DRIFT_SONG,
            {"en": "Signal Drift"},
            "made-up single",
            claims={
                "P31": kind(SINGLE),
                "P175": ref("P175", EXAMPLES),
                "P361": ref("P361", SAMPLE_RATE),
                "P577": [_time_statement("+2022-00-00T00:00:00Z", 9)],
            },
        ),
        OTHER_TEST_PATTERN: _entity(
            OTHER_TEST_PATTERN,
            {"en": "Test Pattern"},
            "made-up song by someone else",
            claims={"P31": kind(SONG), "P175": ref("P175", YAMADA)},
        ),
        GAKUDAN: _entity(GAKUDAN, {"ja": "架空楽団", "en": "Kakuu Gakudan"}, "made-up band"),
        YAMADA: _entity(YAMADA, {"ja": "試験 太郎", "en": "Taro Shiken"}, "made-up director"),
        YORU_VIDEO: _entity(
            YORU_VIDEO,
            {"ja": "夜の試験放送", "en": "Night Test Broadcast"},
            "made-up music video",
            claims={
                "P31": kind(MUSIC_VIDEO),
                "P175": ref("P175", GAKUDAN),
                "P57": ref("P57", YAMADA),
                "P577": [_time_statement("+2021-07-07T00:00:00Z", 11)],
            },
        ),
    }


@dataclass(slots=True)
class Seen:
    """One request the stand-in received."""

    service: str
    query: dict[str, str]
    user_agent: str
    method: str = "GET"
    path: str = ""


@dataclass(slots=True)
class Behaviour:
    """How a service answers now: normally, or with one of the failures (for the next
    `only_next` requests when that is set, then normally again)."""

    slow: bool = False
    status: int | None = None
    retry_after: str | None = None
    malformed: bool = False
    only_next: int | None = None


SERVICES = ("youtube", "vimeo", "wikidata", "pages")


@dataclass
class ServicesStandIn:
    entities: dict[str, dict[str, Any]] = field(default_factory=made_up_entities)
    requests: list[Seen] = field(default_factory=list)
    behaviour: dict[str, Behaviour] = field(
        default_factory=lambda: {name: Behaviour() for name in SERVICES}
    )
    # The videos oEmbed knows: link -> (title, channel).
    titles: dict[VideoLink, tuple[str, str]] = field(default_factory=lambda: dict(OEMBED_TITLES))
    # Videos oEmbed refuses one by one: link -> (status, body), e.g. UNAUTHORIZED.
    refused: dict[VideoLink, tuple[int, str]] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    head_refused: set[str] = field(default_factory=set)
    held: set[str] = field(default_factory=set)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    base: str = ""
    _runner: web.AppRunner | None = None
    # Set by close(): a slow answer stops waiting.
    _closing: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def youtube_url(self) -> str:
        return f"{self.base}/oembed"

    @property
    def vimeo_url(self) -> str:
        return f"{self.base}/api/oembed.json"

    @property
    def wikidata_url(self) -> str:
        return f"{self.base}/w/api.php"

    def add_made_up_video(self, number: int) -> VideoLink:
        """One more music video by The Examples, directed by Ann Example, with its song: a
        link every service knows (the benchmark adds videos no cache has seen)."""
        name = f"Bench Song {number:05d}"  # fixed width: no name is the start of another
        link = youtube(f"TkTwB{number:06d}")
        self.titles[link] = (f"The Examples - {name} (Official Video)", "TheExamplesVEVO")
        video, song = _item(910000 + 2 * number), _item(910001 + 2 * number)
        self.entities[video] = _entity(
            video,
            {"en": name},
            "made-up music video",
            claims={
                "P31": [_item_statement("P31", MUSIC_VIDEO)],
                "P175": [_item_statement("P175", EXAMPLES)],
                "P57": [_item_statement("P57", ANN)],
                "P577": [_time_statement("+2024-05-01T00:00:00Z", 11)],
            },
        )
        self.entities[song] = _entity(
            song,
            {"en": name},
            "made-up song",
            claims={
                "P31": [_item_statement("P31", SONG)],
                "P175": [_item_statement("P175", EXAMPLES)],
                "P361": [_item_statement("P361", SAMPLE_RATE)],
            },
        )
        return link

    def page_url(self, name: str) -> str:
        return f"{self.base}/pages/{name}"

    def asked(self, service: str) -> list[Seen]:
        return [seen for seen in self.requests if seen.service == service]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/oembed", self._youtube)
        app.router.add_get("/api/oembed.json", self._vimeo)
        app.router.add_get("/w/api.php", self._wikidata)
        # add_get also routes HEAD to the handler; the handler tells them apart.
        app.router.add_get("/pages/{name}", self._page)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _misbehaving(self, service: str) -> web.Response | None:
        behaviour = self.behaviour[service]
        left = behaviour.only_next
        if left is not None and left <= 0:
            self.behaviour[service] = behaviour = Behaviour()
        elif left is not None:
            behaviour.only_next = left - 1
        if behaviour.slow:
            await self._closing.wait()  # longer than any client timeout
        if behaviour.status is not None:
            headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else {}
            return web.Response(status=behaviour.status, text="stand-in refusal", headers=headers)
        if behaviour.malformed:
            return web.Response(text='{"title": "cut off', content_type="application/json")
        return None

    def _record(self, service: str, request: web.Request) -> None:
        self.requests.append(
            Seen(
                service,
                dict(request.query),
                request.headers.get("User-Agent", ""),
                request.method,
                request.path,
            )
        )

    async def _page(self, request: web.Request) -> web.Response:
        self._record("pages", request)
        if (refusal := await self._misbehaving("pages")) is not None:
            return refusal
        name = request.match_info["name"]
        if name in self.held:
            waits = [asyncio.ensure_future(e.wait()) for e in (self.release, self._closing)]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
        if request.method == "HEAD" and name in self.head_refused:
            return web.Response(status=405, headers={"Allow": "GET"})
        status = self.pages.get(name, 404)
        return web.Response(status=status, text=f"page {name}", content_type="text/html")

    def _oembed(self, url: str, provider: str) -> web.Response:
        refused = next((answer for link, answer in self.refused.items() if link.url == url), None)
        if refused is not None:
            status, body = refused
            return web.Response(status=status, text=body)
        link = self._link(url)
        if link is None:
            return web.Response(status=404, text="Not Found")
        title, author = self.titles[link]
        return web.json_response(
            {
                "type": "video",
                "version": "1.0",
                "title": title,
                "author_name": author,
                "author_url": f"https://{provider.lower()}.example/{author.replace(' ', '')}",
                "provider_name": provider,
                "provider_url": f"https://{provider.lower()}.example/",
                "thumbnail_url": thumbnail_of(link),
                "thumbnail_width": 480,
                "thumbnail_height": 360,
                "html": f'<iframe src="https://{provider.lower()}.example/embed"></iframe>',
                "width": 200,
                "height": 113,
            }
        )

    def _link(self, url: str) -> VideoLink | None:
        return next((link for link in self.titles if link.url == url), None)

    async def _youtube(self, request: web.Request) -> web.Response:
        self._record("youtube", request)
        if (refusal := await self._misbehaving("youtube")) is not None:
            return refusal
        if request.query.get("format") != "json":
            return web.Response(status=501, text="Not Implemented")
        return self._oembed(request.query.get("url", ""), "YouTube")

    async def _vimeo(self, request: web.Request) -> web.Response:
        self._record("vimeo", request)
        if (refusal := await self._misbehaving("vimeo")) is not None:
            return refusal
        return self._oembed(request.query.get("url", ""), "Vimeo")

    async def _wikidata(self, request: web.Request) -> web.Response:
        self._record("wikidata", request)
        if (refusal := await self._misbehaving("wikidata")) is not None:
            return refusal
        query = request.query
        if query.get("format") != "json":
            return web.Response(status=400, text="format=json expected by this stand-in")
        if query.get("action") == "wbsearchentities":
            return web.json_response(self._search(query.get("search", ""), query["language"]))
        if query.get("action") == "wbgetentities":
            return web.json_response(
                self._get(query.get("ids", ""), query.get("props", ""), query.get("languages"))
            )
        return web.json_response(
            {"error": {"code": "badvalue", "info": 'Unrecognized value for parameter "action".'}}
        )

    def _search(self, text: str, language: str) -> dict[str, Any]:
        wanted = text.casefold()
        results = []
        for item, entity in self.entities.items():
            label = entity["labels"].get(language, {}).get("value")
            names = [(label, "label")]
            names += [(a["value"], "alias") for a in entity["aliases"].get(language, [])]
            match = next(
                ((n, kind) for n, kind in names if n and n.casefold().startswith(wanted)), None
            )
            if match is None:
                continue
            results.append(
                {
                    "id": item,
                    "title": item,
                    "pageid": int(item[1:]),
                    "concepturi": f"http://www.wikidata.org/entity/{item}",
                    "url": f"//www.wikidata.org/wiki/{item}",
                    "label": label or match[0],
                    "description": entity["descriptions"].get("en", {}).get("value", ""),
                    "match": {"type": match[1], "language": language, "text": match[0]},
                }
            )
        return {"searchinfo": {"search": text}, "search": results, "success": 1}

    def _get(self, ids: str, props: str, languages: str | None) -> dict[str, Any]:
        wanted = set(props.split("|"))
        shown = set(languages.split("|")) if languages else None

        def in_languages(names: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in names.items() if shown is None or k in shown}

        entities: dict[str, Any] = {}
        for item in ids.split("|"):
            entity = self.entities.get(item)
            if entity is None:
                entities[item] = {"id": item, "missing": ""}
                continue
            entities[item] = {
                key: in_languages(value) if key in ("labels", "aliases") else value
                for key, value in entity.items()
                if key in ("type", "id") or key in wanted
            }
        return {"entities": entities, "success": 1}
