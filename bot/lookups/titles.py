"""Artist and title from a video's title as uploaders write it: "Artist - Title (Official Video)".

Only the shapes below are read; anything else leaves the artist unknown (None) rather than
guessed, and the editor fills it in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that make up the labels uploaders add ("(Official 4K Video)", "[Lyric Video]",
# "| Lyrics", "【MV】", "(Официальный клип)"). A bracket is dropped only when every word in it
# is one of these, so "(Acoustic Version)" or "(Live at Somewhere)" stays in the title.
_LABEL_WORDS = frozenset(
    {
        "official",
        "music",
        "video",
        "audio",
        "lyric",
        "lyrics",
        "visualizer",
        "visualiser",
        "hd",
        "hq",
        "4k",
        "uhd",
        "mv",
        "m/v",
        "remastered",
        "remaster",
        "clip",
        "videoclip",
        "officiel",
        "oficial",
        "officiale",
        "offizielles",
        "musikvideo",
        "официальный",
        "официальное",
        "клип",
        "видео",
        "видеоклип",
        "премьера",
    }
)
_YEAR = re.compile(r"(19|20)\d\d")
_TRAILING_BRACKET = re.compile(r"\s*[(\[【（]([^()\[\]【】（）]*)[)\]】）]\s*$")
_LEADING_BRACKET = re.compile(r"^\s*[(\[【（]([^()\[\]【】（）]*)[)\]】）]\s*")
_PIPE_SUFFIX = re.compile(r"\s*[|｜]\s*([^|｜]*)$")
# Hyphen, en dash, em dash or horizontal bar with space on both sides: "Jay-Z" is one name.
_SEPARATOR = re.compile(r"\s+[-–—―]\s+")
# Japanese and Chinese uploads often write アーティスト「曲名」: the quotes mark the title.
_CORNER_QUOTED = re.compile(
    r"^(?P<artist>[^「『]+?)\s*[「『](?P<title>[^」』]+)[」』]\s*(?P<rest>.*)$"
)
_QUOTES = (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("«", "»"))


@dataclass(frozen=True, slots=True)
class SplitTitle:
    """What a video title says: the artist when it names one (else None), and the title."""

    artist: str | None
    title: str


def _is_label(text: str) -> bool:
    words = [w for w in re.split(r"[\s\-_/,.:]+", text.casefold().replace("m/v", "mv")) if w]
    named = [w for w in words if w in _LABEL_WORDS]
    # A year is part of a label ("Remastered 2009"), never a label alone ("(2009)").
    return bool(named) and all(w in _LABEL_WORDS or _YEAR.fullmatch(w) for w in words)


def _without_labels(text: str) -> str:
    while True:
        before = text
        for pattern in (_TRAILING_BRACKET, _PIPE_SUFFIX, _LEADING_BRACKET):
            match = pattern.search(text)
            if match and _is_label(match.group(1)):
                text = text[: match.start()] + text[match.end() :]
        text = text.strip()
        if text == before:
            return text


def _unquoted(text: str) -> str:
    for opening, closing in _QUOTES:
        if len(text) > 2 and text[0] == opening and text[-1] == closing:
            return text[1:-1].strip()
    return text


def split_title(raw: str) -> SplitTitle:
    """Reads "Artist - Title (Official Video)", "Artist – Title | Lyrics" and
    "アーティスト「曲名」MV"; a title without one of these shapes has no artist."""
    text = " ".join(raw.split())
    corner = _CORNER_QUOTED.match(text)
    if corner:
        rest, artist = _without_labels(corner["rest"]), _without_labels(corner["artist"])
        if artist and (not rest or _is_label(rest)):
            return SplitTitle(artist, corner["title"].strip())
    text = _without_labels(text)
    parts = _SEPARATOR.split(text, maxsplit=1)
    if len(parts) == 2:
        artist, title = _without_labels(parts[0]), _unquoted(_without_labels(parts[1]))
        if artist and title:
            return SplitTitle(artist, title)
    return SplitTitle(None, _unquoted(text) or text)
