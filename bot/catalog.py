"""Catalog files: the JSON format shared by the sample catalog, import and export.

    {
      "format": "taketwo-catalog",
      "version": 1,
      "videos": [
        {
          "slug": "artist-title",            # stable key, lowercase letters, digits and dashes
          "title": "...", "artist": "...",
          "album": "..." | null, "year": 2022 | null, "url": "https://..." | null,
          "credits": [{"role": "Director", "name": "..."}],
          "reviews": [{"headline": "...", "summary": "...", "outlet": "..." | null,
                       "author": null, "published_on": "YYYY-MM-DD" | null, "url": null}],
          "quotes":  [{"text": "...", "said_by": "..." | null, "source_url": null,
                       "sample": true}]
        }
      ]
    }

A file is checked whole before anything is written; every problem is reported with its place
(`videos[3].credits[0].name`). Importing is idempotent: the file is the truth for the videos
it lists, and videos it does not list are left alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from bot.db import Session
from bot.db.models import Credit, PressReview
from bot.db.quotes import CATALOG_GUILD

FORMAT = "taketwo-catalog"
VERSION = 1
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_URL = re.compile(r"^https?://\S+$")

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
}


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
    credits: list[Credit]
    reviews: list[PressReview]
    quotes: list[CatalogQuote]


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, place: str, message: str) -> None:
        self.problems.append(f"{place}: {message}")

    def object(self, value: Any, place: str, required: set[str], optional: set[str]) -> bool:
        if not isinstance(value, dict):
            self.fail(place, "must be an object")
            return False
        for key in sorted(required - value.keys()):
            self.fail(f"{place}.{key}", "is missing")
        for key in sorted(value.keys() - required - optional):
            self.fail(f"{place}.{key}", "is not a known field")
        return True

    def text(self, obj: dict[str, Any], key: str, place: str, *, required: bool) -> str | None:
        value = obj.get(key)
        where = f"{place}.{key}"
        if value is None:
            if required and key in obj:
                self.fail(where, "must not be null")
            return None
        if not isinstance(value, str):
            self.fail(where, "must be text")
            return None
        value = value.strip()
        if not value:
            if required:
                self.fail(where, "must not be empty")
            return None
        limit = LIMITS.get(key)
        if limit and len(value) > limit:
            self.fail(where, f"is {len(value)} characters long; the limit is {limit}")
        if key in ("url", "source_url") and not _URL.match(value):
            self.fail(where, "must be a link starting with http:// or https://")
        return value

    def items(self, obj: dict[str, Any], key: str, place: str) -> list[tuple[str, Any]]:
        value = obj.get(key, [])
        if not isinstance(value, list):
            self.fail(f"{place}.{key}", "must be a list")
            return []
        return [(f"{place}.{key}[{i}]", item) for i, item in enumerate(value)]


def _check_video(check: _Checker, raw: Any, place: str) -> CatalogVideo | None:
    before = len(check.problems)
    if not check.object(
        raw,
        place,
        {"slug", "title", "artist"},
        {"album", "year", "url", "credits", "reviews", "quotes"},
    ):
        return None
    slug = check.text(raw, "slug", place, required=True)
    if slug and not _SLUG.match(slug):
        check.fail(f"{place}.slug", "must be lowercase letters, digits and single dashes")
    title = check.text(raw, "title", place, required=True)
    artist = check.text(raw, "artist", place, required=True)
    album = check.text(raw, "album", place, required=False)
    url = check.text(raw, "url", place, required=False)
    year = raw.get("year")
    if year is not None and (
        isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100
    ):
        check.fail(f"{place}.year", "must be a whole year between 1900 and 2100")
    credits = []
    for where, item in check.items(raw, "credits", place):
        if check.object(item, where, {"role", "name"}, set()):
            role = check.text(item, "role", where, required=True)
            name = check.text(item, "name", where, required=True)
            if role and name:
                credits.append(Credit(role=role, name=name))
    reviews = []
    for where, item in check.items(raw, "reviews", place):
        if check.object(
            item, where, {"headline", "summary"}, {"outlet", "author", "published_on", "url"}
        ):
            headline = check.text(item, "headline", where, required=True)
            summary = check.text(item, "summary", where, required=True)
            published = check.text(item, "published_on", where, required=False)
            if published:
                try:
                    date.fromisoformat(published)
                except ValueError:
                    check.fail(f"{where}.published_on", "must be a date written YYYY-MM-DD")
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
        credits,
        reviews,
        quotes,
    )


def parse_catalog(data: Any) -> list[CatalogVideo]:
    """Check a decoded catalog file whole. Raises CatalogError listing every problem."""
    check = _Checker()
    videos: list[CatalogVideo] = []
    if check.object(data, "catalog", {"format", "version", "videos"}, set()):
        if "format" in data and data["format"] != FORMAT:
            check.fail("catalog.format", f'must be "{FORMAT}"')
        if "version" in data and data["version"] != VERSION:
            check.fail("catalog.version", f"must be {VERSION}")
        seen: dict[str, str] = {}
        for where, raw in check.items(data, "videos", "catalog"):
            video = _check_video(check, raw, where)
            if video is None:
                continue
            if video.slug in seen:
                check.fail(f"{where}.slug", f"repeats the slug of {seen[video.slug]}")
            seen[video.slug] = where
            videos.append(video)
    if check.problems:
        raise CatalogError(check.problems)
    return videos


def read_catalog_file(path: Path) -> list[CatalogVideo]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError([f"{path}: no such file"]) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError([f"{path}: not valid JSON ({exc})"]) from None
    return parse_catalog(data)


def sample_catalog() -> list[CatalogVideo]:
    text = resources.files("bot").joinpath("data/sample_catalog.json").read_text("utf-8")
    return parse_catalog(json.loads(text))


async def import_catalog(session: Session, videos: list[CatalogVideo]) -> int:
    """Write checked videos into the catalog. Returns how many videos were written."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for video in videos:
        video_id = await session.videos.upsert(
            slug=video.slug,
            title=video.title,
            artist=video.artist,
            album=video.album,
            year=video.year,
            url=video.url,
        )
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
        for quote in wanted:
            await session.quotes.add(
                guild_id=CATALOG_GUILD,
                video_id=video_id,
                text=quote.text,
                said_by=quote.said_by,
                source_url=quote.source_url,
                is_sample=quote.sample,
                created_at=now,
            )
    return len(videos)


async def export_catalog(session: Session) -> dict[str, Any]:
    """The whole catalog in the file format, so that export then import round-trips."""
    out = []
    for video in await session.videos.all():
        out.append(
            {
                "slug": video.slug,
                "title": video.title,
                "artist": video.artist,
                "album": video.album,
                "year": video.year,
                "url": video.url,
                "credits": [
                    {"role": c.role, "name": c.name} for c in await session.videos.credits(video.id)
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
