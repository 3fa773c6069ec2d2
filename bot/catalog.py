"""Catalog files: the JSON format shared by the sample catalog, import and export.

    {
      "format": "taketwo-catalog",
      "version": 2,
      "videos": [
        {
          "slug": "artist-title",            # stable key, lowercase letters, digits and dashes
          "title": "...", "artist": "...",
          "album": "..." | null, "year": 2022 | null, "url": "https://..." | null,
          "thumbnail_url": "https://..." | null,   # may be left out: see below
          "sources": ["https://..."],        # pages that back the facts; may be empty
          "credits": [{"role": "Director", "name": "...", "for": "video"},
                      {"role": "Producer", "name": "...", "for": "song"}],
          "reviews": [{"headline": "...", "summary": "...", "outlet": "..." | null,
                       "author": null, "published_on": "YYYY-MM-DD" | null, "url": null}],
          "quotes":  [{"text": "...", "said_by": "..." | null, "source_url": null,
                       "sample": true}]
        }
      ]
    }

A credit is the video's (`"for": "video"`: director, video producer, cast, cinematographer,
editor…) or the song's it sets (`"for": "song"`: the song's producers…); without `for` it is
the video's. `sources` are links to published pages that back the video's facts; a file may
leave them out, the sample catalog gives every video at least one.

`thumbnail_url` is the picture the video's host shows for it (found by `/video add url:` or
`python -m bot catalog refresh`). Export always writes it; a file that leaves it out leaves
the catalog's thumbnail as it is (files written before thumbnails existed do not erase the
ones found since) unless it gives the video another `url` (the old link's picture is not the
new one's), while `null` removes it.

A video's `url` is kept in its one canonical form (bot/links.py), and one link names one
video: two entries with the same link, or a link another video of the catalog has (one the
file does not list), are refused.

Version 1 files (before sources and credit kinds) are still read: they have no sources and
every credit in them is the video's. Export writes version 2.

A file is checked whole before anything is written; every problem is reported with its place
(`videos[3].credits[0].name`). Importing is idempotent: the file is the truth for the videos
it lists, and videos it does not list are left alone.

Files come from people, so reading one is bounded before JSON decoding starts: its size from
the file system, its nesting from a scan of the brackets, and numbers by their digit count.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from bot.clock import now
from bot.db import ReadSession, WriteSession
from bot.db.models import (
    CATALOG_GUILD,
    CREDIT_KINDS,
    SONG_CREDIT,
    VIDEO_CREDIT,
    Credit,
    PressReview,
)
from bot.db.text import CONTROL, CONTROL_IN_PARAGRAPH, SURROGATE
from bot.links import canonical_or_as_given

FORMAT = "taketwo-catalog"
VERSION = 2
READABLE_VERSIONS = (1, 2)
# Letters and digits of any script (a title in Arabic or Japanese keeps its own), in lower
# case where the script has case, joined by single dashes: what the bot itself makes.
_SLUG = re.compile(r"^[^\W_]+(-[^\W_]+)*$")
_URL = re.compile(r"^https?://\S+$")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
YEARS = (1900, 2100)

# 20,000 videos like the sample's (credits, reviews, quotes) make a 21 MB file as export writes
# it, and decode in about 110 MB. The cap leaves room for richer entries; a hostile file of
# that size decodes in no more than about 500 MB.
MAX_FILE_BYTES = 32_000_000
# catalog > videos > a video > its credits > a credit: nothing in the format sits deeper.
MAX_DEPTH = 5
# 50 objects and lists a video for 20,000 videos (the sample has at most 15 a video).
MAX_CONTAINERS = 1_000_000
# The format's numbers are the version and years; int() refuses past 4,300 digits anyway.
MAX_NUMBER_DIGITS = 20
# A file that is wrong throughout (another format) is wrong on every line: a person reads the
# first problems and fixes the cause, so checking stops there.
MAX_PROBLEMS_LISTED = 100
# /video credits shows a video's credits as `Role: Name` lines in one modal text box, which
# holds 4,000 characters; an imported video must stay editable there.
MAX_CREDITS = 100
MAX_CREDITS_TEXT = 4000
# /credits lists a video's sources as links in one embed field (1,024 characters).
MAX_SOURCES = 10

# Limits chosen so any field fits the Discord embed part it is shown in.
LIMITS = {
    "title": 200,
    "artist": 200,
    "album": 200,
    "slug": 100,
    "url": 500,
    "role": 100,
    "name": 200,
    "headline": 256,
    "summary": 1000,
    "outlet": 100,
    "author": 100,
    "text": 1000,
    "said_by": 200,
    "source_url": 500,
    "source": 500,
    "thumbnail_url": 500,
}
# Fields that hold a link.
_LINKS = {"url", "source_url", "source", "thumbnail_url"}
# Fields shown as paragraphs; every other field is one line.
_MULTILINE = {"summary", "text"}


class CatalogError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class CatalogQuote:
    text: str
    said_by: str | None = None
    source_url: str | None = None
    sample: bool = False


@dataclass(frozen=True, slots=True)
class CatalogVideo:
    slug: str
    title: str
    artist: str
    album: str | None
    year: int | None
    url: str | None
    sources: list[str]
    credits: list[Credit]
    reviews: list[PressReview]
    quotes: list[CatalogQuote]
    thumbnail_url: str | None = None
    # False when the file left `thumbnail_url` out: the catalog's thumbnail stays as it is.
    thumbnail_given: bool = False


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, place: str, message: str) -> None:
        if len(self.problems) == MAX_PROBLEMS_LISTED:
            raise CatalogError([*self.problems, f"… stopped after {MAX_PROBLEMS_LISTED} problems"])
        self.problems.append(f"{place}: {message}")

    def object(self, value: Any, place: str, required: set[str], optional: set[str]) -> bool:
        if not isinstance(value, dict):
            self.fail(place, "must be an object")
            return False
        for key in getattr(value, "repeated", ()):
            self.fail(f"{place}.{_field_name(key)}", "appears more than once in this object")
        for key in sorted(required - value.keys()):
            self.fail(f"{place}.{key}", "is missing")
        for key in sorted(value.keys() - required - optional):
            self.fail(f"{place}.{_field_name(key)}", "is not a known field")
        return True

    def text(self, obj: dict[str, Any], key: str, place: str, *, required: bool) -> str | None:
        value = obj.get(key)
        where = f"{place}.{key}"
        if value is None:
            if required and key in obj:
                self.fail(where, "must not be null")
            return None
        return self.string(value, where, key, required=required)

    def string(self, value: Any, where: str, key: str, *, required: bool) -> str | None:
        """A text value checked by the rules of the field `key` (its limit, link or not)."""
        if not isinstance(value, str):
            self.fail(where, "must be text")
            return None
        text = value.strip()
        if not text:
            if required:
                self.fail(where, "must not be empty")
            return None
        odd = SURROGATE.search(text)
        if odd:
            self.fail(where, f"contains {_escape(odd[0])}, half of a UTF-16 pair, not a character")
            return None
        odd = (CONTROL_IN_PARAGRAPH if key in _MULTILINE else CONTROL).search(text)
        if odd:
            allowed = "text, line breaks and tabs" if key in _MULTILINE else "one line of text"
            self.fail(where, f"contains the control character {_escape(odd[0])}; {allowed} only")
            return None
        limit = LIMITS.get(key)
        if limit and len(text) > limit:
            self.fail(where, f"is {len(text)} characters long; the limit is {limit}")
        if key in _LINKS and not _URL.match(text):
            self.fail(where, "must be a link starting with http:// or https://")
        return text

    def items(self, obj: dict[str, Any], key: str, place: str) -> Iterator[tuple[str, Any]]:
        value = obj.get(key, [])
        if not isinstance(value, list):
            self.fail(f"{place}.{key}", "must be a list")
            return iter(())
        return ((f"{place}.{key}[{i}]", item) for i, item in enumerate(value))


def _check_video(check: _Checker, raw: Any, place: str) -> CatalogVideo | None:
    before = len(check.problems)
    if not check.object(
        raw,
        place,
        {"slug", "title", "artist"},
        {"album", "year", "url", "thumbnail_url", "sources", "credits", "reviews", "quotes"},
    ):
        return None
    slug = check.text(raw, "slug", place, required=True)
    if slug and (not _SLUG.match(slug) or slug != slug.casefold()):
        check.fail(f"{place}.slug", "must be lowercase letters, digits and single dashes")
    title = check.text(raw, "title", place, required=True)
    artist = check.text(raw, "artist", place, required=True)
    album = check.text(raw, "album", place, required=False)
    url = check.text(raw, "url", place, required=False)
    if url:
        url = canonical_or_as_given(url)
    thumbnail_url = check.text(raw, "thumbnail_url", place, required=False)
    year = raw.get("year")
    if year is not None and (
        isinstance(year, bool) or not isinstance(year, int) or not YEARS[0] <= year <= YEARS[1]
    ):
        check.fail(f"{place}.year", f"must be a whole year between {YEARS[0]} and {YEARS[1]}")
    sources: list[str] = []
    for where, item in check.items(raw, "sources", place):
        source = check.string(item, where, "source", required=True)
        if source in sources:
            check.fail(where, f"repeats {place}.sources[{sources.index(source)}]")
        elif source:
            sources.append(source)
    if len(sources) > MAX_SOURCES:
        check.fail(f"{place}.sources", f"has {len(sources)} links; the limit is {MAX_SOURCES}")
    credits = []
    for where, item in check.items(raw, "credits", place):
        if check.object(item, where, {"role", "name"}, {"for"}):
            role = check.text(item, "role", where, required=True)
            name = check.text(item, "name", where, required=True)
            kind = item.get("for", VIDEO_CREDIT)
            if kind not in CREDIT_KINDS:
                check.fail(f"{where}.for", 'must be "video" or "song"')
            elif role and kind == VIDEO_CREDIT and _song_role(role):
                check.fail(
                    f"{where}.role",
                    f'starts with "{_SONG_WORD}", which marks a song credit in /video credits; '
                    'write the role without it and add "for": "song"',
                )
            elif role and name:
                credits.append(Credit(role=role, name=name, kind=kind))
    if len(credits) > MAX_CREDITS:
        check.fail(f"{place}.credits", f"has {len(credits)} credits; the limit is {MAX_CREDITS}")
    elif (size := len(credits_text(credits))) > MAX_CREDITS_TEXT:
        check.fail(
            f"{place}.credits",
            f"take {size} characters as `Role: Name` lines; "
            f"/video credits holds {MAX_CREDITS_TEXT}",
        )
    reviews = []
    for where, item in check.items(raw, "reviews", place):
        if check.object(
            item, where, {"headline", "summary"}, {"outlet", "author", "published_on", "url"}
        ):
            headline = check.text(item, "headline", where, required=True)
            summary = check.text(item, "summary", where, required=True)
            published = check.text(item, "published_on", where, required=False)
            if published and not is_review_date(published):
                check.fail(
                    f"{where}.published_on",
                    f"must be a date written YYYY-MM-DD, between {YEARS[0]} and {YEARS[1]}",
                )
            if headline and summary:
                reviews.append(
                    PressReview(
                        headline=headline,
                        summary=summary,
                        outlet=check.text(item, "outlet", where, required=False),
                        author=check.text(item, "author", where, required=False),
                        published_on=published,
                        url=check.text(item, "url", where, required=False),
                    )
                )
    quotes = []
    for where, item in check.items(raw, "quotes", place):
        if check.object(item, where, {"text"}, {"said_by", "source_url", "sample"}):
            text = check.text(item, "text", where, required=True)
            sample = item.get("sample", False)
            if not isinstance(sample, bool):
                check.fail(f"{where}.sample", "must be true or false")
            if text:
                quotes.append(
                    CatalogQuote(
                        text=text,
                        said_by=check.text(item, "said_by", where, required=False),
                        source_url=check.text(item, "source_url", where, required=False),
                        sample=bool(sample),
                    )
                )
    if len(check.problems) > before or not (slug and title and artist):
        return None
    return CatalogVideo(
        slug,
        title,
        artist,
        album,
        year if isinstance(year, int) else None,
        url,
        sources,
        credits,
        reviews,
        quotes,
        thumbnail_url,
        thumbnail_given="thumbnail_url" in raw,
    )


def parse_catalog(data: Any) -> list[CatalogVideo]:
    """Check a decoded catalog file whole. Raises CatalogError listing every problem."""
    check = _Checker()
    videos: list[CatalogVideo] = []
    if check.object(data, "catalog", {"format", "version", "videos"}, set()):
        if "format" in data and data["format"] != FORMAT:
            check.fail("catalog.format", f'must be "{FORMAT}"')
        version = data.get("version")
        if "version" in data and (isinstance(version, bool) or version not in READABLE_VERSIONS):
            check.fail("catalog.version", f"must be {' or '.join(map(str, READABLE_VERSIONS))}")
        seen: dict[str, str] = {}
        linked: dict[str, str] = {}
        for where, raw in check.items(data, "videos", "catalog"):
            video = _check_video(check, raw, where)
            if video is None:
                continue
            if video.slug in seen:
                check.fail(f"{where}.slug", f"repeats the slug of {seen[video.slug]}")
            if video.url in linked:
                check.fail(f"{where}.url", f"is the same video as {linked[video.url]}")
            seen[video.slug] = where
            if video.url:
                linked.setdefault(video.url, where)
            videos.append(video)
    if check.problems:
        raise CatalogError(check.problems)
    return videos


def read_catalog_file(path: Path) -> list[CatalogVideo]:
    """Read, decode and check a catalog file. Raises CatalogError listing every problem."""
    text = _read_text(path)
    shape = _shape_problem(text)
    if shape:
        raise CatalogError([f"{path}: {shape}"])
    try:
        data = json.loads(text, object_pairs_hook=_JsonObject.from_pairs, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise CatalogError([f"{path}: not valid JSON ({exc})"]) from None
    return parse_catalog(data)


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CatalogError([f"{path}: is {_megabytes(size)}; {_FILE_LIMIT}"])
        with path.open("rb") as file:
            # The size can be wrong (a device, a file still growing): never read past the cap.
            raw = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise CatalogError([f"{path}: no such file"]) from None
    except IsADirectoryError:
        raise CatalogError([f"{path}: is a folder, not a file"]) from None
    except OSError as exc:
        raise CatalogError([f"{path}: cannot be read ({exc.strerror})"]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise CatalogError([f"{path}: is larger than {MAX_FILE_BYTES:,} bytes; {_FILE_LIMIT}"])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError([f"{path}: not UTF-8 text (at byte {exc.start})"]) from None


_FILE_LIMIT = f"catalog files are limited to {MAX_FILE_BYTES // 1_000_000} MB"
# A JSON string (its brackets are text), or a bracket. The closing quote is optional so that
# a string left open ends the match instead of being searched for again at every later quote.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB ({size:,} bytes)"


def _shape_problem(text: str) -> str | None:
    """Says where the text nests deeper than the format, or holds more objects and lists than
    a catalog could. Checked before decoding: Python's JSON decoder recurses on nesting, and
    each empty `{}` costs some 30 times its size once decoded."""
    depth = containers = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match[0]
        if token in "[{":
            depth += 1
            containers += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                return f"line {line}: nests deeper than the {MAX_DEPTH} levels the format has"
            if containers > MAX_CONTAINERS:
                return f"holds over {MAX_CONTAINERS:,} objects and lists, more than a catalog needs"
        elif token in "]}":
            depth -= 1
    return None


class _JsonObject(dict[str, Any]):
    """A decoded JSON object that remembers the keys its text repeated (json keeps the last)."""

    __slots__ = ("repeated",)
    repeated: tuple[str, ...] | list[str]

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, Any]]) -> _JsonObject:
        obj = cls(pairs)
        obj.repeated = ()
        if len(obj) < len(pairs):
            obj.repeated = [key for key, n in Counter(k for k, _ in pairs).items() if n > 1]
        return obj


class _HugeNumber:
    """Stands in for an integer longer than any field needs; no field accepts it."""


def _bounded_int(digits: str) -> int | _HugeNumber:
    return int(digits) if len(digits) <= MAX_NUMBER_DIGITS else _HugeNumber()


def _field_name(key: str) -> str:
    """A field name from the file, fit for a one-line report: odd ones quoted and escaped."""
    if re.fullmatch(r"[A-Za-z0-9_]{1,40}", key):
        return key
    return json.dumps(key if len(key) <= 40 else key[:40] + "…")


def _escape(char: str) -> str:
    return f"\\u{ord(char):04x}"


# In /video credits, a line whose role starts with this word is a credit of the song:
# `Song Producer: Name`.
_SONG_WORD = "Song"


def credit_line(credit: Credit) -> str:
    """A credit as one `Role: Name` line of /video credits; the song's start with "Song"."""
    role = f"{_SONG_WORD} {credit.role}" if credit.kind == SONG_CREDIT else credit.role
    return f"{role}: {credit.name}"


def _song_role(role: str) -> str | None:
    """The song's role a role of /video credits names (`Song producer` -> `producer`)."""
    words = role.split(maxsplit=1)
    if len(words) == 2 and words[0].casefold() == _SONG_WORD.casefold():
        return words[1]
    return None


def credit_from_line(role: str, name: str) -> Credit:
    """The credit a `Role: Name` line of /video credits means: `Song producer: Name` is the
    song's producer, any other role is the video's."""
    role, name = role.strip(), name.strip()
    song_role = _song_role(role)
    if song_role:
        return Credit(role=song_role, name=name, kind=SONG_CREDIT)
    return Credit(role=role, name=name)


def credits_text(credits: list[Credit]) -> str:
    """Credits as /video credits shows them for editing: one `Role: Name` line each."""
    return "\n".join(credit_line(c) for c in credits)


def is_review_date(text: str) -> bool:
    """YYYY-MM-DD, a real day, in the years the catalog takes."""
    if not _DATE.fullmatch(text):
        return False
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return False
    return YEARS[0] <= day.year <= YEARS[1]


def sample_catalog() -> list[CatalogVideo]:
    text = resources.files("bot").joinpath("data/sample_catalog.json").read_text("utf-8")
    return parse_catalog(json.loads(text))


async def _links_taken(session: WriteSession, videos: list[CatalogVideo]) -> list[str]:
    """The file's links that another video of the catalog has, one the file does not list
    (a video the file lists may hand its link over: the file is the truth for it)."""
    listed = {video.slug for video in videos}
    problems = []
    for place, video in enumerate(videos):
        holder = await session.videos.with_url(video.url) if video.url else None
        if holder is not None and holder.slug not in listed:
            problems.append(
                f"catalog.videos[{place}].url: is the link of {holder.slug!r} in the catalog "
                "already (change or remove that video's link first)"
            )
    return problems


async def import_catalog(session: WriteSession, videos: list[CatalogVideo]) -> int:
    """Write checked videos into the catalog. Returns how many videos were written. Raises
    CatalogError, having written nothing, when a link belongs to another video."""
    problems = await _links_taken(session, videos)
    if problems:
        raise CatalogError(problems[:MAX_PROBLEMS_LISTED])
    added_at = now()
    thumbnails = await session.videos.thumbnails()
    links = await session.videos.links()
    for video in videos:
        video_id = await session.videos.upsert(
            slug=video.slug,
            title=video.title,
            artist=video.artist,
            album=video.album,
            year=video.year,
            url=video.url,
        )
        # Left out, the catalog's thumbnail stays, unless the link changed: it was the old one's.
        from_file = video.thumbnail_given or links.get(video_id) != video.url
        thumbnail = video.thumbnail_url if from_file else thumbnails.get(video_id)
        if thumbnails.get(video_id) != thumbnail:
            await session.videos.set_thumbnail(video_id, thumbnail)
        if await session.videos.sources(video_id) != video.sources:
            await session.videos.replace_sources(video_id, video.sources)
        if await session.videos.credits(video_id) != video.credits:
            await session.videos.replace_credits(video_id, video.credits)
        if await session.videos.reviews(video_id) != video.reviews:
            await session.videos.replace_reviews(video_id, video.reviews)
        wanted = list(video.quotes)
        for quote in await session.quotes.catalog_quotes(video_id):
            key = CatalogQuote(quote.text, quote.said_by, quote.source_url, quote.is_sample)
            if key in wanted:
                wanted.remove(key)
            else:
                await session.quotes.remove(quote.id)
        for missing in wanted:
            await session.quotes.add(
                guild_id=CATALOG_GUILD,
                video_id=video_id,
                text=missing.text,
                said_by=missing.said_by,
                source_url=missing.source_url,
                is_sample=missing.sample,
                created_at=added_at,
            )
    return len(videos)


async def export_catalog(session: ReadSession) -> dict[str, Any]:
    """The whole catalog in the file format, so that export then import round-trips."""
    out = []
    thumbnails = await session.videos.thumbnails()
    for video in await session.videos.all():
        out.append(
            {
                "slug": video.slug,
                "title": video.title,
                "artist": video.artist,
                "album": video.album,
                "year": video.year,
                "url": video.url,
                "thumbnail_url": thumbnails.get(video.id),
                "sources": await session.videos.sources(video.id),
                "credits": [
                    {"role": c.role, "name": c.name, "for": c.kind}
                    for c in await session.videos.credits(video.id)
                ],
                "reviews": [
                    {
                        "headline": r.headline,
                        "summary": r.summary,
                        "outlet": r.outlet,
                        "author": r.author,
                        "published_on": r.published_on,
                        "url": r.url,
                    }
                    for r in await session.videos.reviews(video.id)
                ],
                "quotes": [
                    {
                        "text": q.text,
                        "said_by": q.said_by,
                        "source_url": q.source_url,
                        "sample": q.is_sample,
                    }
                    for q in await session.quotes.catalog_quotes(video.id)
                ],
            }
        )
    return {"format": FORMAT, "version": VERSION, "videos": out}
