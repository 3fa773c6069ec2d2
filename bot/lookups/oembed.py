"""A video's title, channel and thumbnail from its host's public oEmbed endpoint (no API key).

oEmbed 1.0 (https://oembed.com/, section 2.3.4): a JSON object whose optional fields include
`title`, `author_name` (the channel or uploader) and `thumbnail_url`. YouTube serves it at
https://www.youtube.com/oembed?url=…&format=json, Vimeo at
https://vimeo.com/api/oembed.json?url=… (https://developer.vimeo.com/api/oembed/videos).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.links import VideoLink
from bot.lookups.client import LookupClient, Service

YOUTUBE = Service("oEmbed (YouTube)", min_interval=0.2)
VIMEO = Service("oEmbed (Vimeo)", min_interval=0.2)
DEFAULT_YOUTUBE_URL = "https://www.youtube.com/oembed"
DEFAULT_VIMEO_URL = "https://vimeo.com/api/oembed.json"
# Longer than any title YouTube or Vimeo allow; a longer string is not a title.
MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class OEmbedInfo:
    """What the host says about the video; a field it left out is None."""

    title: str | None
    author_name: str | None
    thumbnail_url: str | None


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
    youtube_url: str = DEFAULT_YOUTUBE_URL,
    vimeo_url: str = DEFAULT_VIMEO_URL,
) -> OEmbedInfo | None:
    """The host's oEmbed answer for `link`, or None when it has none (private, removed, the
    service unreachable or skipped, lookups off)."""
    if link.host == "youtube":
        answer = await client.get_json(YOUTUBE, youtube_url, {"url": link.url, "format": "json"})
    else:
        answer = await client.get_json(VIMEO, vimeo_url, {"url": link.url})
    if answer is None:
        return None
    info = OEmbedInfo(
        title=_text(answer, "title"),
        author_name=_text(answer, "author_name"),
        thumbnail_url=_web_address(answer, "thumbnail_url"),
    )
    return None if info == OEmbedInfo(None, None, None) else info
