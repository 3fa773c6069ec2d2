"""Charts drawn as PNG images for replies: a member's score distribution, two members side by
side, and a ranked list. Pillow only (no discord import); the caller attaches `Chart.png` under
`Chart.filename` and references it from the embed as attachment://<filename>.

Drawing takes CPU (a few tenths of a millisecond for the score charts, drawn on pre-drawn cards
in palette colours; a few milliseconds for a ranking), so replies go through `draw`, which runs
it on a worker thread and keeps recently drawn charts: a chart depends only on what it shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import queue
import re
import struct
import threading
import time
import unicodedata
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any, Generic, NamedTuple, TypeVar

from PIL import Image, ImageDraw, ImageFont

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Chart:
    """A drawn chart, ready to attach to a reply."""

    png: bytes
    filename: str

    def __post_init__(self) -> None:
        # The embed refers to the file as attachment://<filename>, which only plain names survive.
        if not _ATTACHMENT_NAME.fullmatch(self.filename):
            raise ValueError(f"chart file name {self.filename!r} is not plain ASCII [a-z0-9_.-]")


@dataclass(frozen=True)
class Palette:
    background: Colour
    text: Colour
    muted_text: Colour
    grid: Colour
    bar: Colour
    accent: Colour
    second_series: Colour


# A dark slate card with light text: Discord shows images as they are, so the card brings its own
# background. Slate is darker than Discord's light theme and bluer than its dark grey, so the card
# stands apart in both. Blue against orange stays distinct for the common colour blindnesses.
PALETTE = Palette(
    background=(0x1E, 0x29, 0x3B),
    text=(0xF1, 0xF5, 0xF9),
    muted_text=(0x94, 0xA3, 0xB8),
    grid=(0x47, 0x55, 0x69),
    bar=(0x60, 0xA5, 0xFA),
    accent=(0xFA, 0xCC, 0x15),
    second_series=(0xF9, 0x73, 0x16),
)


def _palette_colours() -> list[Colour]:
    """Index 0, outside the card's rounded corners, is saved as transparent, so no theme colour
    shows there. Then every colour drawn, and the shades antialiased text blends through."""
    colours = [_TRANSPARENT_KEY, *(getattr(PALETTE, field.name) for field in fields(Palette))]
    for text_colour in (PALETTE.text, PALETTE.muted_text, PALETTE.accent):
        colours += [_blend(PALETTE.background, text_colour, step / 16) for step in range(1, 16)]
    return colours


def _blend(under: Colour, over: Colour, coverage: float) -> Colour:
    red, green, blue = (round(u + (o - u) * coverage) for u, o in zip(under, over, strict=True))
    return red, green, blue


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


_TRANSPARENT_KEY: Colour = (0xFF, 0x00, 0xFF)
_PALETTE_COLOURS = _palette_colours()
# Where each colour drawn is in the palette.
_INDEX = {colour: _PALETTE_COLOURS.index(colour) for colour in _PALETTE_COLOURS}
_PALETTE_CHANNELS = [channel for colour in _PALETTE_COLOURS for channel in colour]
_PNG_PALETTE = Image.new("P", (1, 1))
_PNG_PALETTE.putpalette(_PALETTE_CHANNELS)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The palette, and index 0 fully transparent (tRNS gives the alpha of the first indices).
_PNG_PALETTE_CHUNKS = _png_chunk(b"PLTE", bytes(_PALETTE_CHANNELS)) + _png_chunk(b"tRNS", b"\0")
_PNG_END = _png_chunk(b"IEND", b"")


def _indexed(image: Image.Image) -> Image.Image:
    # Every colour drawn is in the palette (text's antialiasing in shades), so nothing changes
    # colour.
    return image.quantize(palette=_PNG_PALETTE, dither=Image.Dither.NONE)


MARGIN = 20
CORNER_RADIUS = 12
BAR_CORNER_RADIUS = 3
TEXT_SIZE = 15
SMALL_TEXT_SIZE = 13
TEXT_GAP = 6
# A non-zero count stays visible beside a much larger one.
MIN_BAR_LENGTH = 2
ELLIPSIS = "…"

SCORES = range(1, 11)
# Discord shows an embed's image at most about 400 pixels wide: a wider score chart is only
# scaled down there, and its pixels are most of what drawing one costs.
DISTRIBUTION_SIZE = (400, 180)
SIDE_BY_SIDE_SIZE = (640, 300)
RANKING_WIDTH = 640
RANKING_ROW_HEIGHT = 28
RANKING_BAR_HEIGHT = 18
RANKING_LABEL_WIDTH = 220
# Under the bars: the scale's ticks.
RANKING_AXIS_HEIGHT = 20
MAX_RANKING_ENTRIES = 25
LEGEND_SWATCH = 10
NO_RATINGS = "No ratings yet"

# Charts kept drawn: a score chart is 2-3 KB, so about 12 MB. Enough for every rated video and
# every member a busy server looks at, whose /review and /profile charts share it (at 1,024,
# 2,000 videos' charts and 1,000 members' pushed each other out, and each /review window
# after a /profile one drew most of its charts again): a video's chart changes only when it
# is rated again.
CHART_CACHE_SIZE = 4096

_ATTACHMENT_NAME = re.compile(r"[a-z0-9_.-]+")
# Characters kept drawn, per font size: about 1 MB at most.
_GLYPHS_KEPT = 4096
# Texts kept drawn on palette images, per font size and colour: a few MB at most.
_TEXTS_KEPT = 4096
# Member text can be any length; nothing past this could ever fit in a label.
_LONGEST_LABEL_DRAWN = 200


# --- Text ---------------------------------------------------------------------------------


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    # Pillow's bundled scalable font: no system fonts needed on a fresh machine. Worker threads
    # share it: Pillow calls FreeType under the GIL (and locks it in free-threaded builds).
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):
        raise RuntimeError("charts need Pillow built with FreeType (its wheels are)")
    return font


def _printable(text: str) -> str:
    """The text without control characters (line breaks and tabs become spaces) or lone
    surrogates, which fonts cannot draw or Python cannot encode."""
    kept = []
    for char in text[:_LONGEST_LABEL_DRAWN]:
        if char.isspace():
            kept.append(" ")
        elif unicodedata.category(char) not in ("Cc", "Cs"):
            kept.append(char)
    return " ".join("".join(kept).split())


@dataclass(frozen=True)
class _Glyph:
    """One character as drawn: its antialiased ink, where the ink sits from the pen position on
    the baseline, and how far the pen moves on."""

    ink: Image.Image
    left: int
    top: int
    advance: float


@functools.lru_cache(maxsize=_GLYPHS_KEPT)
def _glyph(char: str, size: int) -> _Glyph:
    font = _font(size)
    left, top, right, bottom = (int(edge) for edge in font.getbbox(char, anchor="ls"))
    ink = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(ink).text((-left, -top), char, font=font, fill=255, anchor="ls")
    return _Glyph(ink, left, top, font.getlength(char))


def _text_width(text: str, size: int) -> float:
    return sum(_glyph(char, size).advance for char in text)


def _fit(text: str, size: int, max_width: float) -> str:
    """The printable text, cut with an ellipsis where it would be wider than max_width."""
    text = _printable(text)
    if _text_width(text, size) <= max_width:
        return text
    room = max_width - _text_width(ELLIPSIS, size)
    width, cut = 0.0, 0
    for char in text:
        width += _glyph(char, size).advance
        if width > room:
            break
        cut += 1
    return text[:cut].rstrip() + ELLIPSIS


def _laid_out(
    position: tuple[int, int], text: str, *, size: int, anchor: str
) -> Iterator[tuple[tuple[int, int], str]]:
    """Where each character's ink goes, for text placed by a two-letter anchor as Pillow's: l/m/r
    across; a(scender), m(iddle), d(escender) or s (baseline) down.

    Pillow lays out the bundled font glyph by glyph (its basic layout; the font has no kerning)
    and renders every glyph anew each time, most of a chart's drawing time. Laying out cached
    glyphs the same way gives the same pixels (a shade apart where two glyphs' edges share a
    pixel) at a tenth of the cost."""
    across, down = anchor[0], anchor[1]
    ascent, descent = _font(size).getmetrics()
    width = 0.0 if across == "l" else _text_width(text, size)
    shift = {"l": 0.0, "m": width / 2, "r": width}[across]
    drop = {"a": ascent, "m": (ascent - descent) / 2, "d": -descent, "s": 0}[down]
    # Offsets and pen positions are rounded half up, as FreeType's 26.6 fixed point is.
    baseline = position[1] + math.floor(drop + 0.5)
    pen: float = position[0] - math.floor(shift + 0.5)
    for char in text:
        glyph = _glyph(char, size)
        yield (math.floor(pen + 0.5) + glyph.left, baseline + glyph.top), char
        pen += glyph.advance


def _text(
    canvas: ImageDraw.ImageDraw,
    position: tuple[int, int],
    text: str,
    *,
    size: int,
    colour: Colour,
    anchor: str,
) -> None:
    """Text drawn in RGB, placed as `_laid_out` says."""
    for at, char in _laid_out(position, text, size=size, anchor=anchor):
        canvas.bitmap(at, _glyph(char, size).ink, fill=colour)


@dataclass(frozen=True)
class _Shades:
    """How ink of each coverage 0 to 255 in one text colour goes on a palette image: as the
    palette index that blending it over the background in RGB and taking the nearest palette
    colour gives, and only where that is not the background (a mask's 255)."""

    # Each a table for bytes.translate, by coverage: Image.point would convert it every time.
    indices: bytes
    drawn: bytes

    @classmethod
    def of(cls, colour: Colour) -> _Shades:
        coverages = Image.frombytes("L", (256, 1), bytes(range(256)))
        blended = Image.new("RGB", coverages.size, PALETTE.background)
        ImageDraw.Draw(blended).bitmap((0, 0), coverages, fill=colour)
        indices = _indexed(blended).tobytes()
        drawn = bytes(0 if index == _INDEX[PALETTE.background] else 255 for index in indices)
        return cls(indices, drawn)

    def shaded(self, coverage: Image.Image) -> tuple[Image.Image, Image.Image]:
        """The coverage's palette indices, and the mask they are pasted through."""
        coverages = coverage.tobytes()
        indices = Image.frombytes("P", coverage.size, coverages.translate(self.indices))
        return indices, Image.frombytes("L", coverage.size, coverages.translate(self.drawn))


_TEXT_SHADES = {
    colour: _Shades.of(colour) for colour in (PALETTE.text, PALETTE.muted_text, PALETTE.accent)
}


@dataclass(frozen=True)
class _ShadedText:
    """Text as palette indices, the mask they are pasted through, and where its top left is
    from the anchor's position: text is drawn the same wherever it is placed."""

    indices: Image.Image
    mask: Image.Image
    offset: tuple[int, int]


@functools.lru_cache(maxsize=_TEXTS_KEPT)
def _shaded_text(text: str, size: int, colour: Colour, anchor: str) -> _ShadedText | None:
    """The text as `_text` draws it, anchored at (0, 0); None if nothing of it is drawn."""
    placed = [
        (at, _glyph(char, size).ink)
        for at, char in _laid_out((0, 0), text, size=size, anchor=anchor)
    ]
    if not placed:
        return None
    left = min(x for (x, _), _ in placed)
    top = min(y for (_, y), _ in placed)
    right = max(x + ink.width for (x, _), ink in placed)
    bottom = max(y + ink.height for (_, y), ink in placed)
    # Blended as `_text` blends glyphs in RGB (where two glyphs' edges share a pixel, both
    # count), then shaded.
    coverage = Image.new("L", (right - left, bottom - top), 0)
    canvas = ImageDraw.Draw(coverage)
    for (x, y), ink in placed:
        canvas.bitmap((x - left, y - top), ink, fill=255)
    indices, mask = _TEXT_SHADES[colour].shaded(coverage)
    return _ShadedText(indices, mask, (left, top))


def _indexed_text(
    image: Image.Image,
    position: tuple[int, int],
    text: str,
    *,
    size: int,
    colour: Colour,
    anchor: str,
) -> None:
    """Text drawn on a palette image, over the background, as `_text` draws it in RGB. Kept
    drawn: charts repeat their counts and labels far more often than they repeat whole."""
    shaded = _shaded_text(text, size, colour, anchor)
    if shaded is not None:
        at = (position[0] + shaded.offset[0], position[1] + shaded.offset[1])
        image.paste(shaded.indices, at, shaded.mask)


# --- Drawing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Area:
    """Where the bars go, in pixels."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def slot_centre(self, index: int, slots: int) -> int:
        return self.left + round((index + 0.5) * self.width / slots)


def _card(width: int, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (width, height), _TRANSPARENT_KEY)
    canvas = ImageDraw.Draw(image)
    canvas.rounded_rectangle(
        (0, 0, width - 1, height - 1), radius=CORNER_RADIUS, fill=PALETTE.background
    )
    return image, canvas


def _png_rows(image: Image.Image, top: int, bottom: int) -> bytes:
    """The image's rows from top to bottom as PNG scanlines. Each starts with its filter type,
    0 (none): a column of zeros left of the picture. Deflate already finds what the other
    filters would: rows mostly repeat the one above."""
    return image.crop((-1, top, image.width, bottom)).tobytes()


def _deflated(rows: bytes, *, flush: int) -> bytes:
    """Raw deflate blocks of the rows, which join onto others' (a fresh compressor refers to
    nothing before them; a sync flush ends them on a byte). Level 1: a chart is mostly long
    runs of one colour, which it finds as well as the higher levels do, for a few hundred bytes
    more. memLevel 4: zlib shifts its hash table along every 32 KB of input, and a smaller one
    makes compressing a chart about a fifth faster, at about the same size."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS, 4)
    return compressor.compress(rows) + compressor.flush(flush)


def _png(width: int, height: int, deflated: bytes, adler: int) -> bytes:
    """A palette PNG of the deflated scanlines and their Adler-32: a fifth of the bytes of RGBA
    and several times faster to encode. Written here rather than by Pillow's PNG plugin, whose
    Python side cost as much as the compression."""
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    # zlib's header (deflate, 32 KB window, fastest) and trailer around the blocks (RFC 1950).
    compressed = b"\x78\x01" + deflated + struct.pack(">I", adler)
    return b"".join(
        (
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _PNG_PALETTE_CHUNKS,
            _png_chunk(b"IDAT", compressed),
            _PNG_END,
        )
    )


def _chart(image: Image.Image, filename: str) -> Chart:
    """The chart of an RGB drawing."""
    rows = _png_rows(_indexed(image), 0, image.height)
    deflated = _deflated(rows, flush=zlib.Z_FINISH)
    return Chart(
        png=_png(image.width, image.height, deflated, zlib.adler32(rows)), filename=filename
    )


@dataclass(frozen=True)
class _Card:
    """A chart's background drawn once, with its PNG's start and end compressed once: the rows
    above `top` and from `bottom` on, which charts drawn on a copy of it never draw on."""

    image: Image.Image
    top: int
    bottom: int
    head: bytes
    head_adler: int
    tail: bytes
    tail_rows: bytes

    @classmethod
    def of(cls, image: Image.Image, *, top: int, bottom: int) -> _Card:
        head_rows = _png_rows(image, 0, top)
        tail_rows = _png_rows(image, bottom, image.height)
        head = _deflated(head_rows, flush=zlib.Z_SYNC_FLUSH)
        tail = _deflated(tail_rows, flush=zlib.Z_FINISH)
        return cls(image, top, bottom, head, zlib.adler32(head_rows), tail, tail_rows)

    def png(self, chart: Image.Image) -> bytes:
        """The PNG of a chart drawn on a copy of the card. Only the rows it drew on are
        compressed: compression is most of a chart's time."""
        rows = _png_rows(chart, self.top, self.bottom)
        deflated = self.head + _deflated(rows, flush=zlib.Z_SYNC_FLUSH) + self.tail
        adler = zlib.adler32(self.tail_rows, zlib.adler32(rows, self.head_adler))
        return _png(chart.width, chart.height, deflated, adler)


_Key = TypeVar("_Key", bound=Hashable)
_Part = TypeVar("_Part")


class _Parts(Generic[_Key, _Part]):
    """Parts of charts drawn once, on first use, and only read after. Worker threads draw charts
    at the same time, so each part is drawn under a lock, and kept only once it is whole."""

    def __init__(self, draw: Callable[[_Key], _Part]) -> None:
        self._draw = draw
        self._drawn: dict[_Key, _Part] = {}
        self._lock = threading.Lock()

    def __getitem__(self, key: _Key) -> _Part:
        part = self._drawn.get(key)
        if part is None:
            with self._lock:
                part = self._drawn.get(key)
                if part is None:
                    part = self._draw(key)
                    self._drawn[key] = part
        return part


def _bar_lengths(values: Sequence[float], longest: int, scale_max: float) -> list[int]:
    """Each value's bar length in pixels, in proportion to scale_max."""
    if scale_max <= 0:
        return [0 for _ in values]
    return [
        max(MIN_BAR_LENGTH, round(value / scale_max * longest)) if value > 0 else 0
        for value in values
    ]


def _vertical_bar(
    canvas: ImageDraw.ImageDraw,
    centre: int,
    width: int,
    bottom: int,
    length: int,
    colour: Colour | int,
) -> None:
    if length <= 0:
        return
    left = centre - width // 2
    box = (left, bottom - length, left + width - 1, bottom - 1)
    radius = min(BAR_CORNER_RADIUS, length // 2, width // 2)
    canvas.rounded_rectangle(box, radius=radius, fill=colour, corners=(True, True, False, False))


# From this length on, a bar's rounded top is the same (only the straight part below grows).
_BAR_TOP_ROWS = 2 * BAR_CORNER_RADIUS + 1


def _bar_top(size: tuple[int, int]) -> Image.Image:
    """Where a bar's top rows (all of a bar shorter than _BAR_TOP_ROWS) are drawn, as a mask
    of the bar's width and that many rows."""
    width, rows = size
    mask = Image.new("L", size, 0)
    _vertical_bar(ImageDraw.Draw(mask), width // 2, width, rows, rows, 255)
    return mask


_BAR_TOPS = _Parts(_bar_top)


def _indexed_vertical_bar(
    image: Image.Image, centre: int, width: int, bottom: int, length: int, colour: Colour
) -> None:
    """A bar drawn on a palette image as `_vertical_bar` draws it: the rounded top through its
    mask, the rest a plain rectangle."""
    if length <= 0:
        return
    left, top = centre - width // 2, bottom - length
    top_rows = min(length, _BAR_TOP_ROWS)
    box = (left, top, left + width, top + top_rows)
    image.paste(_INDEX[colour], box, _BAR_TOPS[width, top_rows])
    if length > top_rows:
        image.paste(_INDEX[colour], (left, top + top_rows, left + width, bottom))


def _horizontal_bar(
    canvas: ImageDraw.ImageDraw, left: int, middle: int, length: int, colour: Colour
) -> None:
    if length <= 0:
        return
    top = middle - RANKING_BAR_HEIGHT // 2
    box = (left, top, left + length - 1, top + RANKING_BAR_HEIGHT - 1)
    radius = min(BAR_CORNER_RADIUS, length // 2, RANKING_BAR_HEIGHT // 2)
    canvas.rounded_rectangle(box, radius=radius, fill=colour, corners=(False, True, True, False))


def _score_axis(canvas: ImageDraw.ImageDraw, area: _Area, highlight: int | None) -> None:
    """The baseline and the scores 1 to 10 under it; the highlighted score in the accent colour."""
    canvas.line((area.left, area.bottom, area.right, area.bottom), fill=PALETTE.grid, width=1)
    for index, score in enumerate(SCORES):
        colour = PALETTE.accent if score == highlight else PALETTE.muted_text
        position = (area.slot_centre(index, len(SCORES)), area.bottom + TEXT_GAP)
        _text(canvas, position, str(score), size=TEXT_SIZE, colour=colour, anchor="ma")


def _centred_message(image: Image.Image, area: _Area, message: str) -> None:
    middle = (area.left + area.width // 2, area.top + area.height // 2)
    _indexed_text(image, middle, message, size=TEXT_SIZE, colour=PALETTE.muted_text, anchor="mm")


def _score_area(width: int, height: int, top: int) -> _Area:
    """The bar area above the score axis, starting at top (room for what is above the bars)."""
    return _Area(MARGIN, top, width - MARGIN, height - MARGIN - TEXT_SIZE - TEXT_GAP)


# --- Input checks ---------------------------------------------------------------------------


def _is_whole(number: object) -> bool:
    return isinstance(number, int) and not isinstance(number, bool)


def _check_counts(counts: Sequence[int]) -> None:
    if len(counts) != len(SCORES):
        raise ValueError(f"a score distribution has {len(SCORES)} counts, not {len(counts)}")
    for count in counts:
        if not _is_whole(count) or count < 0:
            raise ValueError(f"a rating count is a whole number of at least 0, not {count!r}")


def _check_label(label: object) -> str:
    if not isinstance(label, str):
        raise ValueError(f"a chart label is text, not {type(label).__name__}")
    return label


def _clamped(value: float, scale_max: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"a ranked value is a number, not {value!r}")
    return min(max(float(value), 0.0), scale_max)


# --- Charts ---------------------------------------------------------------------------------


def _distribution_area() -> _Area:
    width, height = DISTRIBUTION_SIZE
    return _score_area(width, height, top=MARGIN + SMALL_TEXT_SIZE + TEXT_GAP)


def _distribution_card(highlight: int | None) -> _Card:
    """What every score distribution with this highlight shows: the card and the score axis.
    Charts draw between the top margin and the axis."""
    image, canvas = _card(*DISTRIBUTION_SIZE)
    area = _distribution_area()
    _score_axis(canvas, area, highlight)
    return _Card.of(_indexed(image), top=MARGIN, bottom=area.bottom)


# A chart starts as a copy of its card, so that only the bars and counts are drawn per chart
# (on the palette image: no RGB drawing, no colour matching).
_DISTRIBUTION_CARDS = _Parts(_distribution_card)


def score_distribution(counts: tuple[int, ...], *, highlight: int | None = None) -> Chart:
    """How many ratings gave each score 1 to 10, as bars with the count above each; the
    highlighted score (say, the member's own) in the accent colour."""
    _check_counts(counts)
    if highlight is not None and not (_is_whole(highlight) and highlight in SCORES):
        raise ValueError(f"the highlighted score is 1 to 10 or none, not {highlight!r}")
    card = _DISTRIBUTION_CARDS[highlight]
    image = card.image.copy()
    area = _distribution_area()
    if not any(counts):
        _centred_message(image, area, NO_RATINGS)
        return Chart(png=card.png(image), filename="scores.png")
    bar_width = area.width // len(SCORES) * 3 // 5
    lengths = _bar_lengths(counts, area.height, max(counts))
    for index, (score, count, length) in enumerate(zip(SCORES, counts, lengths, strict=True)):
        if count == 0:
            continue
        centre = area.slot_centre(index, len(SCORES))
        colour = PALETTE.accent if score == highlight else PALETTE.bar
        _indexed_vertical_bar(image, centre, bar_width, area.bottom, length, colour)
        above = (centre, area.bottom - length - TEXT_GAP)
        _indexed_text(
            image, above, str(count), size=SMALL_TEXT_SIZE, colour=PALETTE.text, anchor="ms"
        )
    return Chart(png=card.png(image), filename="scores.png")


def _shares(counts: Sequence[int]) -> list[float]:
    total = sum(counts)
    return [count / total if total else 0.0 for count in counts]


_SHARE_NOTE = "share of each member's ratings"
_LEGEND_MIDDLE = MARGIN + TEXT_SIZE // 2


def _side_by_side_area() -> _Area:
    width, height = SIDE_BY_SIDE_SIZE
    return _score_area(width, height, top=MARGIN + TEXT_SIZE + 2 * MARGIN)


def _side_by_side_card(note: str) -> _Card:
    """What every side-by-side chart shows: the card, the note at the right of the legend and
    the score axis. Charts draw between the top margin and the axis."""
    width, height = SIDE_BY_SIDE_SIZE
    image, canvas = _card(width, height)
    at = (width - MARGIN, _LEGEND_MIDDLE)
    _text(canvas, at, note, size=SMALL_TEXT_SIZE, colour=PALETTE.muted_text, anchor="rm")
    area = _side_by_side_area()
    _score_axis(canvas, area, highlight=None)
    return _Card.of(_indexed(image), top=MARGIN, bottom=area.bottom)


_SIDE_BY_SIDE_CARDS = _Parts(_side_by_side_card)


def _legend(image: Image.Image, series: Sequence[tuple[str, Colour]], note: str) -> None:
    """A swatch and a label per series along the top, left of the card's note; the labels share
    what the note leaves, each cut to its part."""
    right = image.width - MARGIN
    label_room = right - math.ceil(_text_width(note, SMALL_TEXT_SIZE)) - MARGIN - MARGIN
    label_width = label_room // len(series) - LEGEND_SWATCH - TEXT_GAP - MARGIN
    swatch_top = _LEGEND_MIDDLE - LEGEND_SWATCH // 2
    left = MARGIN
    for label, colour in series:
        swatch = (left, swatch_top, left + LEGEND_SWATCH, swatch_top + LEGEND_SWATCH)
        image.paste(_INDEX[colour], swatch)
        label_left = left + LEGEND_SWATCH + TEXT_GAP
        shown = _fit(label, TEXT_SIZE, label_width)
        at = (label_left, _LEGEND_MIDDLE)
        _indexed_text(image, at, shown, size=TEXT_SIZE, colour=PALETTE.text, anchor="lm")
        left = label_left + label_width + MARGIN


def side_by_side(
    first: tuple[int, ...], second: tuple[int, ...], first_label: str, second_label: str
) -> Chart:
    """Two members' score distributions as paired bars per score. Each bar is that member's
    share of their own ratings, so a member with many ratings does not flatten the other."""
    _check_counts(first)
    _check_counts(second)
    members = (
        (_check_label(first_label), first, PALETTE.bar),
        (_check_label(second_label), second, PALETTE.second_series),
    )
    card = _SIDE_BY_SIDE_CARDS[_SHARE_NOTE]
    image = card.image.copy()
    _legend(image, [(label, colour) for label, _, colour in members], _SHARE_NOTE)
    area = _side_by_side_area()
    if not any(first) and not any(second):
        _centred_message(image, area, NO_RATINGS)
        return Chart(png=card.png(image), filename="taste.png")
    shares = [_shares(counts) for _, counts, _ in members]
    tallest = max(max(member_shares) for member_shares in shares)
    bar_width = area.width // len(SCORES) * 3 // 10
    # The first member's bar just left of the score, the second's just right, 1 px apart.
    offsets = (-(bar_width + 1) // 2, (bar_width + 1) // 2)
    for member_shares, (_, _, colour), offset in zip(shares, members, offsets, strict=True):
        for index, length in enumerate(_bar_lengths(member_shares, area.height, tallest)):
            centre = area.slot_centre(index, len(SCORES)) + offset
            _indexed_vertical_bar(image, centre, bar_width, area.bottom, length, colour)
    return Chart(png=card.png(image), filename="taste.png")


def _value_axis(canvas: ImageDraw.ImageDraw, area: _Area, scale_max: float) -> None:
    """Grid lines at 0, half and all of the scale, labelled under the bars."""
    for fraction in (0.0, 0.5, 1.0):
        x = area.left + round(fraction * area.width)
        canvas.line((x, area.top, x, area.bottom), fill=PALETTE.grid, width=1)
        tick = f"{fraction * scale_max:g}"
        below = (x, area.bottom + TEXT_GAP)
        _text(canvas, below, tick, size=SMALL_TEXT_SIZE, colour=PALETTE.muted_text, anchor="ma")


def ranking(entries: tuple[tuple[str, float], ...], *, scale_max: float = 10.0) -> Chart:
    """A ranked list as horizontal bars: rank and label on the left, the value (one decimal) at
    the end of its bar. Values outside 0 to scale_max are drawn at the nearest end."""
    if not 1 <= len(entries) <= MAX_RANKING_ENTRIES:
        raise ValueError(f"a ranking has 1 to {MAX_RANKING_ENTRIES} entries, not {len(entries)}")
    if not math.isfinite(scale_max) or scale_max <= 0:
        raise ValueError(f"a ranking's scale ends above 0, not at {scale_max!r}")
    labels = [_check_label(label) for label, _ in entries]
    values = [_clamped(value, scale_max) for _, value in entries]
    # The rank is drawn apart from the label so that a right-to-left label cannot move it.
    rank_right = MARGIN + math.ceil(_text_width(f"{MAX_RANKING_ENTRIES}.", TEXT_SIZE))
    label_left = rank_right + TEXT_GAP
    value_room = math.ceil(_text_width(f"{scale_max:.1f}", TEXT_SIZE)) + TEXT_GAP
    rows = len(entries) * RANKING_ROW_HEIGHT
    height = MARGIN + rows + RANKING_AXIS_HEIGHT + MARGIN
    image, canvas = _card(RANKING_WIDTH, height)
    bars_left = label_left + RANKING_LABEL_WIDTH + TEXT_GAP
    area = _Area(bars_left, MARGIN, RANKING_WIDTH - MARGIN - value_room, MARGIN + rows)
    _value_axis(canvas, area, scale_max)
    lengths = _bar_lengths(values, area.width, scale_max)
    for rank, (label, value, length) in enumerate(zip(labels, values, lengths, strict=True), 1):
        middle = area.top + (rank - 1) * RANKING_ROW_HEIGHT + RANKING_ROW_HEIGHT // 2
        _text(
            canvas,
            (rank_right, middle),
            f"{rank}.",
            size=TEXT_SIZE,
            colour=PALETTE.muted_text,
            anchor="rm",
        )
        shown = _fit(label, TEXT_SIZE, RANKING_LABEL_WIDTH)
        _text(canvas, (label_left, middle), shown, size=TEXT_SIZE, colour=PALETTE.text, anchor="lm")
        _horizontal_bar(canvas, area.left, middle, length, PALETTE.bar)
        value_at = (area.left + length + TEXT_GAP, middle)
        _text(canvas, value_at, f"{value:.1f}", size=TEXT_SIZE, colour=PALETTE.text, anchor="lm")
    return _chart(image, "top.png")


# --- Off the event loop, cached -------------------------------------------------------------

_drawn: OrderedDict[Hashable, Chart] = OrderedDict()
_drawn_lock = threading.Lock()
# A drawing thread hands back what it drew once it has nothing more waiting, or once it has
# drawn for this long: under load, several charts per wake-up of the event loop; a quick
# chart never waits long behind slow ones (a ranking takes a few milliseconds).
HANDOVER_AFTER_SECONDS = 0.002


class _Job(NamedTuple):
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Chart]
    make: Callable[[], Chart]


class _Drawer:
    """One thread that draws charts for the event loop. A hop through a thread pool costs a
    wake-up each way (about 0.1 ms of CPU, a third of drawing a score chart), and a pool's
    threads drawing at once contend for the GIL; this thread draws one chart at a time and
    hands back every chart it drew with one call into the loop. A daemon: it holds nothing
    that needs finishing, and must not keep a stopping bot up."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def draw(self, make: Callable[[], Chart]) -> asyncio.Future[Chart]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Chart] = loop.create_future()
        self._jobs.put(_Job(loop, future, make))
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="taketwo-charts", daemon=True
                    )
                    self._thread.start()
        return future

    def _run(self) -> None:
        while True:
            done: dict[asyncio.AbstractEventLoop, list[tuple[_Job, Chart | Exception]]] = {}
            job: _Job | None = self._jobs.get()
            started = time.perf_counter()
            while job is not None:
                done.setdefault(job.loop, []).append((job, _drawn_or_error(job.make)))
                if time.perf_counter() - started > HANDOVER_AFTER_SECONDS:
                    break
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    job = None
            for loop, outcomes in done.items():
                # A loop that has closed has nobody waiting for these.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_hand_back, outcomes)


def _drawn_or_error(make: Callable[[], Chart]) -> Chart | Exception:
    """The chart, or what stopped it as an error its caller can raise: whatever a chart
    raises must not end the thread that every other chart waits on."""
    try:
        return make()
    except StopIteration as error:  # a future refuses it (it would end a coroutine)
        return RuntimeError(f"drawing a chart raised {error!r}")
    except Exception as error:
        return error
    except BaseException as error:
        return RuntimeError(f"drawing a chart raised {error!r}")


def _hand_back(outcomes: list[tuple[_Job, Chart | Exception]]) -> None:
    for job, outcome in outcomes:
        if job.future.done():  # its caller stopped waiting (cancelled)
            continue
        if isinstance(outcome, Exception):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)


_drawer = _Drawer()


async def draw(make: Callable[..., Chart], *args: Any, **kwargs: Any) -> Chart:
    """make(*args, **kwargs), drawn on the charts' own thread so the event loop keeps serving,
    and kept in a bounded least-recently-used cache: the same function with the same arguments
    shows the same chart. Two concurrent first calls may both draw; either result is the
    same chart."""
    key = (make, args, tuple(sorted(kwargs.items())))
    with _drawn_lock:
        chart = _drawn.get(key)
        if chart is not None:
            _drawn.move_to_end(key)
            return chart
    chart = await _drawer.draw(functools.partial(make, *args, **kwargs))
    with _drawn_lock:
        _drawn[key] = chart
        _drawn.move_to_end(key)
        while len(_drawn) > CHART_CACHE_SIZE:
            _drawn.popitem(last=False)
    return chart
