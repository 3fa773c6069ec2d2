"""Video links members paste: which video a YouTube or Vimeo link points at, as one canonical URL.

Only the hosts named here are trusted, compared whole: `youtube.com.evil.example`, a user name
before the host (`https://youtube.com@evil.example/`) or another scheme is refused, so a link
the catalog stores always opens the video it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from bot.errors import UserFacingError

Host = Literal["youtube", "vimeo"]

SUPPORTED = (
    "a YouTube link (youtube.com/watch?v=…, youtu.be/…, a Shorts, embed or music.youtube.com "
    "link) or a Vimeo link (vimeo.com/123456789, from a channel or group, an unlisted one with "
    "its hash, or player.vimeo.com/video/123456789)"
)
# Longer than any real video link: a pasted essay is refused before it is parsed.
MAX_LINK_LENGTH = 2000
# Discord refuses a link button whose URL is longer than this.
MAX_BUTTON_URL = 512

_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
# No leading zero: two spellings of one number would be two catalog entries.
_VIMEO_ID = re.compile(r"[1-9][0-9]{0,19}")
# The hash an unlisted Vimeo video's link carries (vimeo.com/ID/HASH, or ?h=HASH on the
# player): without it Vimeo answers as if the video did not exist, so it is kept.
_VIMEO_HASH = re.compile(r"[0-9a-f]{6,32}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# urlsplit quietly drops tabs and line breaks, so `you\ttube.com` would pass as youtube.com.
_UNSAFE = re.compile(r"[\s\\\x00-\x1f\x7f]")

_YOUTUBE_WATCH_HOSTS = frozenset(
    {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com"}
)
_YOUTUBE_EMBED_HOSTS = frozenset({"www.youtube-nocookie.com", "youtube-nocookie.com"})
_YOUTUBE_SHORT_HOSTS = frozenset({"youtu.be", "www.youtu.be"})
_VIMEO_HOSTS = frozenset({"vimeo.com", "www.vimeo.com"})
_VIMEO_PLAYER_HOSTS = frozenset({"player.vimeo.com"})
# Path forms on youtube.com that carry the id as the segment after them.
_YOUTUBE_ID_PATHS = frozenset({"shorts", "embed", "live", "v"})


@dataclass(frozen=True, slots=True)
class VideoLink:
    """A recognised video: where it is hosted, its id there, and the one URL the catalog keeps."""

    host: Host
    video_id: str
    url: str


def youtube(video_id: str) -> VideoLink:
    return VideoLink("youtube", video_id, f"https://www.youtube.com/watch?v={video_id}")


def vimeo(video_id: str, unlisted_hash: str | None = None) -> VideoLink:
    path = f"{video_id}/{unlisted_hash}" if unlisted_hash else video_id
    return VideoLink("vimeo", video_id, f"https://vimeo.com/{path}")


def _refused(reason: str) -> UserFacingError:
    return UserFacingError(f"{reason} TakeTwo reads {SUPPORTED}.")


def _segments(path: str) -> list[str]:
    # One trailing slash is harmless (`youtu.be/ID/`); empty segments elsewhere are not.
    return path.removesuffix("/").split("/")[1:] if path.startswith("/") else []


def _youtube_id(host: str, path: str, query: str) -> str | None:
    segments = _segments(path)
    if host in _YOUTUBE_SHORT_HOSTS:
        candidate = segments[0] if len(segments) == 1 else None
    elif host in _YOUTUBE_EMBED_HOSTS:
        candidate = segments[1] if len(segments) == 2 and segments[0] == "embed" else None
    elif segments == ["watch"]:
        values = parse_qs(query, keep_blank_values=True).get("v", [])
        # Two different v= values name two videos: which one was meant is not guessed.
        candidate = values[0] if len(set(values)) == 1 else None
    elif len(segments) == 2 and segments[0] in _YOUTUBE_ID_PATHS:
        candidate = segments[1]
    else:
        candidate = None
    return candidate if candidate and _YOUTUBE_ID.fullmatch(candidate) else None


def _vimeo_video(host: str, path: str, query: str) -> VideoLink | None:
    """The forms Vimeo's oEmbed documentation lists (vimeo.com/ID, vimeo.com/channels/NAME/ID,
    vimeo.com/groups/NAME/videos/ID), an unlisted video's vimeo.com/ID/HASH, and the
    player's video/ID (?h=HASH when unlisted)."""
    segments = _segments(path)
    hashes = parse_qs(query).get("h", []) if host in _VIMEO_PLAYER_HOSTS else []
    unlisted = hashes[0] if len(hashes) == 1 else None
    match segments:
        case ["video", video_id] if host in _VIMEO_PLAYER_HOSTS and len(hashes) <= 1:
            pass
        case [video_id] if host in _VIMEO_HOSTS:
            pass
        case [video_id, unlisted] if host in _VIMEO_HOSTS:
            pass
        case ["channels", _, video_id] | ["groups", _, "videos", video_id] if host in _VIMEO_HOSTS:
            pass
        case _:
            return None
    if not _VIMEO_ID.fullmatch(video_id):
        return None
    if unlisted is not None and not _VIMEO_HASH.fullmatch(unlisted):
        return None
    return vimeo(video_id, unlisted)


def parse_video_link(text: str) -> VideoLink:
    """The video a pasted link points at. Raises UserFacingError, naming what is supported,
    for anything else. A link without a scheme (`youtu.be/…`) is read as https."""
    link = text.strip()
    if not link:
        raise _refused("That is not a link.")
    if len(link) > MAX_LINK_LENGTH or _UNSAFE.search(link):
        raise _refused("That is not a link TakeTwo can read.")
    if not link.lower().startswith(("http://", "https://")):
        if _SCHEME.match(link):
            raise _refused("Only web links (https://) are read.")
        link = "https://" + link

    try:
        parts = urlsplit(link)  # raises for an unclosed "[" (an IPv6 address cut short)
        port = parts.port
    except ValueError:
        raise _refused("That link's address is malformed.") from None
    host = (parts.hostname or "").lower()
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        # `https://youtube.com@evil.example/` opens evil.example: a user name is never trusted.
        raise _refused("That link hides its real address.")
    if port not in (None, 80, 443):
        raise _refused("That link points at an unusual port.")

    if host in _YOUTUBE_WATCH_HOSTS | _YOUTUBE_EMBED_HOSTS | _YOUTUBE_SHORT_HOSTS:
        youtube_id = _youtube_id(host, parts.path, parts.query)
        if youtube_id is None:
            raise _refused("That YouTube link does not name a single video.")
        return youtube(youtube_id)
    if host in _VIMEO_HOSTS | _VIMEO_PLAYER_HOSTS:
        found = _vimeo_video(host, parts.path, parts.query)
        if found is None:
            raise _refused("That Vimeo link does not name a single video.")
        return found
    raise _refused("That link is not from YouTube or Vimeo.")


def canonical_or_as_given(url: str) -> str:
    """A YouTube or Vimeo link in its one canonical form (so the same video is found by its
    link however it was written); any other link as it was given."""
    try:
        return parse_video_link(url).url
    except UserFacingError:
        return url


def watchable(url: str) -> bool:
    """Whether `url` may be a Watch (link) button: an http(s) address naming a host with a
    dot, no longer than Discord takes. A link typed before links were checked may be neither;
    Discord would refuse the whole message for it."""
    if len(url) > MAX_BUTTON_URL or _UNSAFE.search(url):
        return False
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname or "", parts.port  # a malformed port raises ValueError
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and "." in host.strip(".")
