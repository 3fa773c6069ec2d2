"""Charts as PNG images: a score distribution (/profile, /review), two members' scores side by
side (/taste) and a ranking (/top). Drawn with Pillow off the event loop (`draw`), cached by
what they show.

Every chart is a card in one palette. Text is drawn once per distinct label, antialiased on
the card's colour, and reduced to the palette; each chart is then the card's fixed parts
(copied), rectangles in palette colours and those labels pasted in place, saved as a
palette PNG. That keeps a chart well under a millisecond: /review draws one per reply."""

from __future__ import annotations

import asyncio
import io
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from PIL import Image, ImageDraw, ImageFont

# One palette for every chart. A dark card with light text reads the same in Discord's
# light and dark themes: the card carries its own background instead of the theme's.
CARD = (43, 45, 49)
TEXT = (219, 222, 225)
MUTED = (148, 155, 164)
GRID = (63, 65, 71)
BAR = (232, 163, 61)  # the bot's brand colour, as the embeds' stripe
ACCENT = (88, 101, 242)  # a highlighted bar (the member's own score)
SECOND = (87, 194, 182)  # the second member's bars in /taste
# Antialiased text needs the shades between the card and each text colour.
_SHADES = 10

SCORES = range(1, 11)
MARGIN = 16
FONT_SIZE = 14
TITLE_SIZE = 15
LABEL_WIDTH = 230  # a ranking's labels, before their bars
ELLIPSIS = "…"
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@dataclass(frozen=True)
class Chart:
    """A chart as a reply attaches it: referenced from the embed as attachment://filename."""

    png: bytes
    filename: str


def _ramp(start: tuple[int, int, int], end: tuple[int, int, int]) -> list[tuple[int, ...]]:
    return [
        tuple(round(a + (b - a) * step / _SHADES) for a, b in zip(start, end, strict=True))
        for step in range(1, _SHADES)
    ]


COLOURS: list[tuple[int, ...]] = [
    CARD,
    TEXT,
    MUTED,
    GRID,
    BAR,
    ACCENT,
    SECOND,
    *_ramp(CARD, TEXT),
    *_ramp(CARD, MUTED),
]
CARD_INDEX, TEXT_INDEX, MUTED_INDEX, GRID_INDEX, BAR_INDEX, ACCENT_INDEX, SECOND_INDEX = range(7)


@cache
def _palette() -> Image.Image:
    image = Image.new("P", (1, 1))
    flat = [channel for colour in COLOURS for channel in colour]
    image.putpalette(flat + list(CARD) * (256 - len(COLOURS)))
    return image


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's own scalable font (10.1 and later): no system font needed on a fresh machine.
    return ImageFont.load_default(size=size)


def _shown(text: str) -> str:
    """Text safe to draw: no control or direction characters, never empty."""
    return _INVISIBLE.sub("", text).strip() or "?"


def _fitted(text: str, width: int, size: int = FONT_SIZE) -> str:
    """The text, cut with an ellipsis to fit `width` pixels."""
    text = _shown(text)
    font = _font(size)
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + ELLIPSIS) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


@lru_cache(maxsize=1024)
def _label(text: str, colour: tuple[int, int, int], size: int = FONT_SIZE) -> Image.Image:
    """The text drawn antialiased on the card's colour, in the palette."""
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    sprite = Image.new("RGB", (max(1, int(right - left)), max(1, int(bottom - top))), CARD)
    ImageDraw.Draw(sprite).text((-left, -top), text, font=font, fill=colour)
    return sprite.quantize(palette=_palette(), dither=Image.Dither.NONE)


def _put(
    card: Image.Image,
    text: str,
    x: float,
    y: float,
    *,
    colour: tuple[int, int, int] = TEXT,
    anchor: str = "left",
    size: int = FONT_SIZE,
) -> None:
    """Paste a label with its left edge, centre or right edge (`anchor`) at x and its top
    at y."""
    sprite = _label(text, colour, size)
    shift = {"left": 0.0, "centre": sprite.width / 2, "right": float(sprite.width)}[anchor]
    card.paste(sprite, (round(x - shift), round(y)))


def _card(width: int, height: int) -> Image.Image:
    image = Image.new("P", (width, height), CARD_INDEX)
    image.putpalette(_palette().getpalette() or [])
    return image


def _png(image: Image.Image, filename: str) -> Chart:
    buffer = io.BytesIO()
    # Level 1: a chart is mostly flat colour, so stronger compression saves little and
    # costs time on every reply.
    image.save(buffer, "PNG", compress_level=1)
    return Chart(buffer.getvalue(), filename)


def _counts(counts: Sequence[int], what: str = "counts") -> tuple[int, ...]:
    values = tuple(counts)
    if len(values) != len(SCORES):
        raise ValueError(f"{what} must hold 10 numbers, one per score from 1 to 10")
    if any(not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in values):
        raise ValueError(f"{what} must be whole numbers of at least 0")
    return values


# Score charts: bars over the scores 1 to 10.
SCORE_WIDTH, SCORE_HEIGHT = 600, 260
_PLOT_TOP = MARGIN + 22  # room for the highest bar's count
_AXIS_Y = SCORE_HEIGHT - MARGIN - 20  # the baseline; the scores are written under it


@cache
def _score_axes() -> Image.Image:
    """The parts every score chart shares: the card, the baseline and the scores."""
    image = _card(SCORE_WIDTH, SCORE_HEIGHT)
    draw = ImageDraw.Draw(image)
    draw.line((MARGIN, _AXIS_Y, SCORE_WIDTH - MARGIN, _AXIS_Y), fill=GRID_INDEX, width=1)
    for score in SCORES:
        _put(image, str(score), _slot_centre(score), _AXIS_Y + 6, colour=MUTED, anchor="centre")
    return image


def _slot_centre(score: int) -> float:
    slot = (SCORE_WIDTH - 2 * MARGIN) / len(SCORES)
    return MARGIN + slot * (score - 0.5)


def _bars(
    image: Image.Image,
    counts: tuple[int, ...],
    peak: int,
    *,
    width: float,
    offset: float,
    colour: int,
    highlight: int | None = None,
) -> None:
    """One bar per score, `width` wide and `offset` from its slot's centre, scaled to the
    peak, with its count above it."""
    draw = ImageDraw.Draw(image)
    room = _AXIS_Y - _PLOT_TOP - 18
    for score, n in zip(SCORES, counts, strict=True):
        if not n:
            continue
        height = max(2, round(room * n / peak))
        left = _slot_centre(score) + offset - width / 2
        fill = ACCENT_INDEX if score == highlight else colour
        draw.rectangle((left, _AXIS_Y - height, left + width, _AXIS_Y - 1), fill=fill)
        _put(image, f"{n:,}", left + width / 2, _AXIS_Y - height - 17, anchor="centre")


def _nothing_yet(image: Image.Image) -> None:
    _put(image, "No ratings yet", image.width / 2, image.height / 2 - 20, anchor="centre")


def score_distribution(counts: Sequence[int], *, highlight: int | None = None) -> Chart:
    """How many ratings gave each score from 1 to 10, as bars; `highlight` (a score) drawn
    in the accent colour."""
    values = _counts(counts)
    if highlight is not None and highlight not in SCORES:
        raise ValueError("highlight must be a score from 1 to 10")
    image = _score_axes().copy()
    if not any(values):
        _nothing_yet(image)
    else:
        slot = (SCORE_WIDTH - 2 * MARGIN) / len(SCORES)
        _bars(
            image,
            values,
            max(values),
            width=slot * 0.62,
            offset=0,
            colour=BAR_INDEX,
            highlight=highlight,
        )
    return _png(image, "scores.png")


def side_by_side(
    first: Sequence[int], second: Sequence[int], first_label: str, second_label: str
) -> Chart:
    """Two members' scores, as a pair of bars per score, with a legend naming them."""
    ones, twos = _counts(first, "first"), _counts(second, "second")
    image = _score_axes().copy()
    peak = max((*ones, *twos))
    if not peak:
        _nothing_yet(image)
    else:
        slot = (SCORE_WIDTH - 2 * MARGIN) / len(SCORES)
        width = slot * 0.36
        _bars(image, ones, peak, width=width, offset=-width / 2 - 1, colour=BAR_INDEX)
        _bars(image, twos, peak, width=width, offset=width / 2 + 1, colour=SECOND_INDEX)
    draw = ImageDraw.Draw(image)
    x = float(MARGIN)
    for label, index in ((first_label, BAR_INDEX), (second_label, SECOND_INDEX)):
        draw.rectangle((x, MARGIN + 3, x + 11, MARGIN + 14), fill=index)
        name = _fitted(label, 200)
        _put(image, name, x + 17, MARGIN + 1)
        x += 17 + _font(FONT_SIZE).getlength(name) + 24
    return _png(image, "taste.png")


# Rankings: one row per entry, its label, then a bar as long as its value.
RANK_WIDTH = 640
ROW = 28
MAX_ENTRIES = 25


def ranking(entries: Sequence[tuple[str, float]], *, scale_max: float = 10.0) -> Chart:
    """Entries (label, value) in rank order, each a bar from 0 to `scale_max` with its value
    written at its end."""
    rows = tuple(entries)
    if not 1 <= len(rows) <= MAX_ENTRIES:
        raise ValueError(f"a ranking shows 1 to {MAX_ENTRIES} entries")
    if scale_max <= 0:
        raise ValueError("scale_max must be above 0")
    height = 2 * MARGIN + ROW * len(rows) + 4
    image = _card(RANK_WIDTH, height)
    draw = ImageDraw.Draw(image)
    bar_left = MARGIN + LABEL_WIDTH + 8
    room = RANK_WIDTH - bar_left - MARGIN - 40  # the value is written after the bar
    for rank, (label, value) in enumerate(rows, start=1):
        top = MARGIN + ROW * (rank - 1)
        shown = max(0.0, min(float(value), scale_max))
        _put(image, _fitted(f"{rank}. {label}", LABEL_WIDTH), MARGIN, top + 6)
        length = max(2, round(room * shown / scale_max))
        draw.rectangle((bar_left, top + 5, bar_left + length, top + ROW - 5), fill=BAR_INDEX)
        _put(image, f"{shown:.1f}", bar_left + length + 6, top + 6, colour=MUTED)
    return _png(image, "ranking.png")


# Drawing off the event loop, with a cache keyed by what the chart shows.
CACHED_CHARTS = 256
_cache: OrderedDict[tuple[Any, ...], Chart] = OrderedDict()
_cache_lock = threading.Lock()


async def draw(make: Callable[..., Chart], *args: Any, **kwargs: Any) -> Chart:
    """The chart `make(*args, **kwargs)` draws: from the cache when the same chart was drawn
    lately, else drawn on a worker thread (never on the event loop). The arguments are what
    the chart shows, so they are its key (they must be hashable)."""
    key = (make.__module__, make.__qualname__, args, tuple(sorted(kwargs.items())))
    with _cache_lock:
        if (found := _cache.get(key)) is not None:
            _cache.move_to_end(key)
            return found
    chart = await asyncio.to_thread(make, *args, **kwargs)
    with _cache_lock:
        _cache[key] = chart
        while len(_cache) > CACHED_CHARTS:
            _cache.popitem(last=False)
    return chart
