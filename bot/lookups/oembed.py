"""A video's title, channel and thumbnail from its host's public oEmbed endpoint (no API key).

oEmbed 1.0 (https://oembed.com/, section 2.3.4): a JSON object whose optional fields include
`title`, `author_name` (the channel or uploader) and `thumbnail_url`. YouTube serves it at
https://www.youtube.com/oembed?url=…&format=json, Vimeo at
https://vimeo.com/api/oembed.json?url=… (https://developer.vimeo.com/api/oembed/videos).

Section 2.3.5 of the spec answers a private (non-public) video with 401 Unauthorized. YouTube
also answers 401 or 403 when the owner turned embedding off, 400 for an id it does not know,
and has sent a plain "Forbidden" with status 200 for a private video; Vimeo answers 403 when
embedding is off and 404 for an unlisted video asked without its hash. Each of these is about
that one video, not the service: "nothing public there", never a reason to stop asking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.links import VideoLink
from bot.lookups.client import LookupClient, Miss, Service
from bot.settings import DEFAULT_OEMBED_VIMEO_URL, DEFAULT_OEMBED_YOUTUBE_URL

_NOT_PUBLIC = frozenset({400, 401, 403, 404, 410})
_NOT_PUBLIC_BODIES = frozenset({"Bad Request", "Unauthorized", "Forbidden", "Not Found"})
YOUTUBE = Service(
    "oEmbed (YouTube)",
    min_interval=0.2,
    missing_statuses=_NOT_PUBLIC,
    missing_bodies=_NOT_PUBLIC_BODIES,
)
VIMEO = Service(
    "oEmbed (Vimeo)",
    min_interval=0.2,
    missing_statuses=_NOT_PUBLIC,
    missing_bodies=_NOT_PUBLIC_BODIES,
)
# Longer than any title YouTube or Vimeo allow; a longer string is not a title.
MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class OEmbedInfo:
    """What the host says about the video; a field it left out is None."""

    title: str | None
    author_name: str | None
    thumbnail_url: str | None


def service_of(link: VideoLink) -> Service:
    return YOUTUBE if link.host == "youtube" else VIMEO


def _text(answer: dict[str, Any], name: str) -> str | None:
    value = answer.get(name)
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value if 0 < len(value) <= MAX_TEXT else None


def _web_address(answer: dict[str, Any], name: str) -> str | None:
    value = _text(answer, name)
    return value if value and value.startswith("https://") and " " not in value else None


async def fetch_oembed(
    client: LookupClient,
    link: VideoLink,
    *,
    youtube_url: str = DEFAULT_OEMBED_YOUTUBE_URL,
    vimeo_url: str = DEFAULT_OEMBED_VIMEO_URL,
) -> OEmbedInfo | Miss:
    """The host's oEmbed answer for `link`; MISSING when it has none to give (private,
    removed, embedding off, or an answer without any field read here), UNANSWERED when it
    could not be asked (unreachable, failing, skipped, lookups off)."""
    if link.host == "youtube":
        answer = await client.get_json(YOUTUBE, youtube_url, {"url": link.url, "format": "json"})
    else:
        answer = await client.get_json(VIMEO, vimeo_url, {"url": link.url})
    if isinstance(answer, Miss):
        return answer
    info = OEmbedInfo(
        title=_text(answer, "title"),
        author_name=_text(answer, "author_name"),
        thumbnail_url=_web_address(answer, "thumbnail_url"),
    )
    return Miss.MISSING if info == OEmbedInfo(None, None, None) else info
