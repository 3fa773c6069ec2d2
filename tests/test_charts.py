"""Charts as PNG images: what a member sees in the picture (sizes, bars, colours, labels) and
how they are drawn (off the event loop, cached by what they show)."""

from __future__ import annotations

import asyncio
import io
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

from bot import charts
from bot.charts import PALETTE, Chart, ranking, score_distribution, side_by_side

Colour = tuple[int, int, int]
SOME_COUNTS = (1, 0, 2, 4, 9, 15, 22, 18, 7, 3)
OTHER_COUNTS = (0, 1, 1, 2, 3, 5, 4, 2, 1, 0)


def decoded(chart: Chart) -> Image.Image:
    image = Image.open(io.BytesIO(chart.png))
    image.load()
    return image


@dataclass(frozen=True)
class Pixels:
    """A chart's pixels as RGB, read by position."""

    width: int
    height: int
    data: bytes

    @classmethod
    def of(cls, chart: Chart) -> Pixels:
        image = decoded(chart).convert("RGB")
        return cls(image.width, image.height, image.tobytes())

    def at(self, x: int, y: int) -> Colour:
        i = 3 * (y * self.width + x)
        return self.data[i], self.data[i + 1], self.data[i + 2]

    def row(self, y: int) -> list[Colour]:
        return [self.at(x, y) for x in range(self.width)]

    def bar_bottom(self, colours: set[Colour]) -> int:
        """The lowest row with a bar colour in it: bars all stand on the same baseline."""
        for y in range(self.height - 1, -1, -1):
            if any(colour in colours for colour in self.row(y)):
                return y
        raise AssertionError("no bar in the chart")

    def runs(self, y: int, colours: set[Colour]) -> list[tuple[int, int, Colour]]:
        """(first x, last x, colour) of each stretch of one bar colour along row y."""
        found: list[tuple[int, int, Colour]] = []
        row = self.row(y)
        start = None
        for x, colour in enumerate([*row, (-1, -1, -1)]):
            if start is not None and colour != row[start]:
                found.append((start, x - 1, row[start]))
                start = None
            if start is None and colour in colours:
                start = x
        return found

    def height_up(self, x: int, bottom: int, colour: Colour) -> int:
        height = 0
        while bottom - height >= 0 and self.at(x, bottom - height) == colour:
            height += 1
        return height

    def width_along(self, y: int, colour: Colour) -> int:
        return sum(1 for pixel in self.row(y) if pixel == colour)

    def has(self, colour: Colour, left: int, top: int, right: int, bottom: int) -> bool:
        return any(self.at(x, y) == colour for x in range(left, right) for y in range(top, bottom))


def vertical_bars(
    chart: Chart, colours: set[Colour]
) -> tuple[Pixels, int, list[tuple[int, int, Colour]]]:
    """The bottom row of the bars, found by the bar colours that no text is drawn in (the
    highlighted score's number is in the accent colour), and the bars of `colours` along it."""
    pixels = Pixels.of(chart)
    bottom = pixels.bar_bottom({PALETTE.bar, PALETTE.second_series})
    return pixels, bottom, pixels.runs(bottom, colours)


def entries(count: int) -> tuple[tuple[str, float], ...]:
    return tuple((f"Video {n}", 10 - n * 0.3) for n in range(count))


@pytest.mark.parametrize(
    ("make", "size", "filename"),
    [
        (lambda: score_distribution(SOME_COUNTS, highlight=3), (400, 180), "scores.png"),
        (lambda: side_by_side(SOME_COUNTS, OTHER_COUNTS, "Ann", "Bo"), (640, 300), "taste.png"),
        (lambda: ranking(entries(1)), (640, 60 + 28), "top.png"),
        (lambda: ranking(entries(7)), (640, 60 + 28 * 7), "top.png"),
        (lambda: ranking(entries(25)), (640, 60 + 28 * 25), "top.png"),
    ],
)
def test_each_chart_is_a_png_card_of_its_size(
    make: Callable[[], Chart], size: tuple[int, int], filename: str
) -> None:
    chart = make()
    image = decoded(chart)
    assert (image.format, image.mode, image.size) == ("PNG", "P", size)
    assert chart.filename == filename
    # The card is opaque; only what lies outside its rounded corners is transparent.
    rgba = image.convert("RGBA")
    corner = rgba.getpixel((0, 0))
    assert isinstance(corner, tuple) and corner[3] == 0
    assert rgba.getpixel((size[0] // 2, 1)) == (*PALETTE.background, 255)


def test_the_same_data_draws_the_same_bytes_and_other_data_other_bytes() -> None:
    assert score_distribution(SOME_COUNTS).png == score_distribution(SOME_COUNTS).png
    assert score_distribution(SOME_COUNTS).png != score_distribution(OTHER_COUNTS).png
    assert score_distribution(SOME_COUNTS).png != score_distribution(SOME_COUNTS, highlight=5).png
    pair = side_by_side(SOME_COUNTS, OTHER_COUNTS, "Ann", "Bo")
    assert pair.png == side_by_side(SOME_COUNTS, OTHER_COUNTS, "Ann", "Bo").png
    assert pair.png != side_by_side(OTHER_COUNTS, SOME_COUNTS, "Ann", "Bo").png
    assert pair.png != side_by_side(SOME_COUNTS, OTHER_COUNTS, "Ann", "Cy").png
    top = ranking(entries(5))
    assert top.png == ranking(entries(5)).png
    assert top.png != ranking(entries(4)).png
    assert top.png != ranking((("Video 0", 7.5), *entries(5)[1:])).png


def test_the_highlighted_score_is_the_accent_colour_and_the_others_the_bar_colour() -> None:
    chart = score_distribution((1, 2, 3, 4, 5, 6, 7, 8, 9, 10), highlight=7)
    pixels, bottom, bars = vertical_bars(chart, {PALETTE.bar, PALETTE.accent})
    assert [colour for _, _, colour in bars] == [PALETTE.bar] * 6 + [PALETTE.accent] + [
        PALETTE.bar
    ] * 3
    first, last, _ = bars[6]
    assert pixels.at((first + last) // 2, bottom - 10) == PALETTE.accent
    plain = score_distribution((1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
    assert {colour for _, _, colour in vertical_bars(plain, {PALETTE.bar, PALETTE.accent})[2]} == {
        PALETTE.bar
    }


def test_bar_heights_follow_the_counts_with_each_count_above_its_bar() -> None:
    chart = score_distribution((0, 2, 0, 4, 0, 0, 0, 0, 0, 0))
    pixels, bottom, bars = vertical_bars(chart, {PALETTE.bar})
    assert len(bars) == 2
    (two_left, two_right, _), (four_left, four_right, _) = bars
    assert two_right < four_left  # score 2 left of score 4
    two = pixels.height_up((two_left + two_right) // 2, bottom, PALETTE.bar)
    four = pixels.height_up((four_left + four_right) // 2, bottom, PALETTE.bar)
    assert four > charts.DISTRIBUTION_SIZE[1] // 2  # the tallest bar fills its area
    assert abs(four - 2 * two) <= 2
    for left, right, height in ((two_left, two_right, two), (four_left, four_right, four)):
        top = bottom - height
        assert pixels.has(PALETTE.text, left, top - 20, right + 1, top)
    # Nothing is written above the scores nobody gave.
    slot = (pixels.width - 2 * charts.MARGIN) / 10
    score_three = (round(charts.MARGIN + 2 * slot + 5), 0, round(charts.MARGIN + 3 * slot - 5))
    assert not pixels.has(PALETTE.text, *score_three, bottom)


def test_no_ratings_draws_the_axis_and_says_so_in_the_middle() -> None:
    pixels = Pixels.of(score_distribution((0,) * 10))
    assert not pixels.has(PALETTE.bar, 0, 0, pixels.width, pixels.height)
    middle_x, middle_y = pixels.width // 2, pixels.height // 2
    message = (middle_x - 60, middle_y - 30, middle_x + 60, middle_y + 10)
    assert pixels.has(PALETTE.muted_text, *message)
    with_ratings = Pixels.of(score_distribution((0, 0, 0, 0, 1, 0, 0, 0, 0, 0)))
    assert not with_ratings.has(PALETTE.muted_text, *message)
    both_empty = Pixels.of(side_by_side((0,) * 10, (0,) * 10, "Ann", "Bo"))
    assert not both_empty.has(PALETTE.bar, 0, 60, both_empty.width, both_empty.height)
    assert both_empty.has(PALETTE.muted_text, 260, 120, 380, 190)


def test_side_by_side_pairs_each_members_share_of_their_own_ratings() -> None:
    only_threes = (0, 0, 10, 0, 0, 0, 0, 0, 0, 0)
    one_eight = (0, 0, 0, 0, 0, 0, 0, 1, 0, 0)
    chart = side_by_side(only_threes, one_eight, "Ann", "Bo")
    colours = {PALETTE.bar, PALETTE.second_series}
    pixels, bottom, bars = vertical_bars(chart, colours)
    assert [colour for _, _, colour in bars] == [PALETTE.bar, PALETTE.second_series]
    slot = (pixels.width - 2 * charts.MARGIN) / 10
    (first_left, first_right, _), (second_left, second_right, _) = bars
    assert charts.MARGIN + 2 * slot < first_left < first_right < charts.MARGIN + 3 * slot
    assert charts.MARGIN + 7 * slot < second_left < second_right < charts.MARGIN + 8 * slot
    # 10 of 10 and 1 of 1 are both all of that member's ratings: the same height.
    first = pixels.height_up((first_left + first_right) // 2, bottom, PALETTE.bar)
    second = pixels.height_up((second_left + second_right) // 2, bottom, PALETTE.second_series)
    assert first == second > 100
    # Both bars of a score sit side by side over it.
    paired = side_by_side(only_threes, only_threes, "Ann", "Bo")
    _, _, pair = vertical_bars(paired, colours)
    assert [colour for _, _, colour in pair] == [PALETTE.bar, PALETTE.second_series]
    assert pair[1][0] - pair[0][1] <= 2


def test_ranking_bars_follow_the_values_clamped_to_the_scale() -> None:
    chart = ranking((("Best", 10.0), ("Half", 5.0), ("None", 0.0)))
    pixels = Pixels.of(chart)
    middles = [charts.MARGIN + 14 + 28 * row for row in range(3)]
    best, half, none = (pixels.width_along(y, PALETTE.bar) for y in middles)
    assert best > 200
    assert abs(best - 2 * half) <= 2
    assert none == 0
    # Each row starts with its rank, in the rank column left of the labels.
    for y in middles:
        assert pixels.has(PALETTE.muted_text, charts.MARGIN, y - 8, charts.MARGIN + 25, y + 8)
    assert ranking((("Too high", 15.0),)).png == ranking((("Too high", 10.0),)).png
    assert ranking((("Too low", -3.0),)).png == ranking((("Too low", 0.0),)).png
    out_of_five = Pixels.of(ranking((("Full", 5.0), ("Half", 2.5)), scale_max=5.0))
    full_of_five, half_of_five = (out_of_five.width_along(y, PALETTE.bar) for y in middles[:2])
    assert full_of_five > 200
    assert abs(full_of_five - 2 * half_of_five) <= 2


def drawn_width(text: str) -> float:
    return ImageFont.load_default(size=charts.TEXT_SIZE).getlength(text)


def test_long_labels_are_cut_to_their_room_with_an_ellipsis() -> None:
    # Two labels that differ only near their end: drawn whole they would differ inside the
    # picture; cut, the pictures are the same. Labels that differ early still differ.
    stem = "W" * 28
    assert 60 + drawn_width(stem) < 600  # the ends would be drawn if nothing cut them
    first, second = stem + "XX", stem + "YY"
    assert side_by_side(SOME_COUNTS, SOME_COUNTS, first, "Bo").png == (
        side_by_side(SOME_COUNTS, SOME_COUNTS, second, "Bo").png
    )
    assert ranking(((first, 5.0),)).png == ranking(((second, 5.0),)).png
    assert ranking((("A" + stem, 5.0),)).png != ranking((("B" + stem, 5.0),)).png
    # The second label is cut before the note at the right, not drawn over it.
    note_area = (500, 0, 620, 40)
    short = Pixels.of(side_by_side(SOME_COUNTS, SOME_COUNTS, "Ann", "Bo"))
    long = Pixels.of(side_by_side(SOME_COUNTS, SOME_COUNTS, "Ann", stem))
    assert not long.has(PALETTE.text, *note_area)
    assert short.has(PALETTE.muted_text, *note_area)
    assert charts._fit(stem, charts.TEXT_SIZE, 150).endswith(charts.ELLIPSIS)
    assert drawn_width(charts._fit(stem, charts.TEXT_SIZE, 150)) <= 150


@pytest.mark.parametrize(
    "label",
    [
        "山田太郎のミュージックビデオ",
        "👩🏽‍🎤 ✨🎬🎶",
        "مرحبا بالعالم",
        "\u202eשלום עולם\u202c",
        "Z̸̡̢̛̛̖̗̘̙̜̝̞̟̠̤̥̦̩̪̫̬̭̮̯̰̱̲̳̹̺̻̼ͅa" * 3,
        "lone \ud800 surrogate",
        "nul\x00 bell\x07 escape\x1b[31m",
        "\n\t\r",
        "",
        "x" * 5000,
        "\ufeff\u200b\u2028\U000e0001\U0010ffff",
    ],
)
def test_any_label_draws(label: str) -> None:
    top = ranking(((label, 7.0), ("plain", 3.0)))
    assert decoded(top).size == (640, 60 + 28 * 2)
    pair = side_by_side(SOME_COUNTS, OTHER_COUNTS, label, label)
    assert decoded(pair).size == (640, 300)


def test_control_characters_are_left_out_and_line_breaks_become_spaces() -> None:
    def pair(label: str) -> bytes:
        return side_by_side(SOME_COUNTS, OTHER_COUNTS, label, "Bo").png

    assert pair("Ann\x00\x07\x1b") == pair("Ann")
    assert pair("Ann\nLee") == pair("Ann Lee")
    assert pair("Ann Lee") != pair("AnnLee")


@pytest.mark.parametrize("anchor", ["lm", "mm", "ma", "ms", "rm"])
@pytest.mark.parametrize(
    "text",
    ["Video title number 12 with some…", "Tomás e\u0301 ÅÆØ AVAVA 日本 😀", "1 7 10 0.0 9.6 25."],
)
def test_text_from_cached_glyphs_is_drawn_where_and_as_pillow_draws_it(
    text: str, anchor: str
) -> None:
    ours = Image.new("RGB", (600, 40), PALETTE.background)
    at = (300, 20)
    charts._text(ImageDraw.Draw(ours), at, text, size=15, colour=PALETTE.text, anchor=anchor)
    pillows = Image.new("RGB", (600, 40), PALETTE.background)
    font = ImageFont.load_default(size=15)
    ImageDraw.Draw(pillows).text(at, text, font=font, fill=PALETTE.text, anchor=anchor)
    blank = Image.new("RGB", (600, 40), PALETTE.background)
    ink = ImageChops.difference(pillows, blank).getbbox()
    assert ink is not None
    assert ImageChops.difference(ours, blank).getbbox() == ink
    # Where two glyphs' edges share a pixel, it is blended twice: a shade apart at most.
    bands = ImageChops.difference(ours, pillows).getextrema()
    assert all(isinstance(band, tuple) and band[1] <= 2 for band in bands)


@pytest.mark.parametrize(
    "bad",
    [
        lambda: score_distribution((1,) * 9),
        lambda: score_distribution((1,) * 11),
        lambda: score_distribution((1, 1, 1, 1, 1, 1, 1, 1, 1, -1)),
        lambda: score_distribution((1, 1, 1, 1, 1, 1, 1, 1, 1, 1.5)),  # type: ignore[arg-type]
        lambda: score_distribution((True,) + (1,) * 9),
        lambda: score_distribution(SOME_COUNTS, highlight=0),
        lambda: score_distribution(SOME_COUNTS, highlight=11),
        lambda: score_distribution(SOME_COUNTS, highlight=True),
        lambda: side_by_side(SOME_COUNTS, (1,) * 3, "Ann", "Bo"),
        lambda: side_by_side(SOME_COUNTS, SOME_COUNTS, "Ann", None),  # type: ignore[arg-type]
        lambda: ranking(()),
        lambda: ranking(entries(26)),
        lambda: ranking((("NaN", float("nan")),)),
        lambda: ranking((("text", "7"),)),  # type: ignore[arg-type]
        lambda: ranking(((7, 7.0),)),  # type: ignore[arg-type]
        lambda: ranking(entries(3), scale_max=0),
        lambda: ranking(entries(3), scale_max=float("inf")),
        lambda: Chart(png=b"", filename="Scores.png"),
        lambda: Chart(png=b"", filename="my scores.png"),
        lambda: Chart(png=b"", filename=""),
    ],
)
def test_bad_input_is_refused_with_a_value_error(bad: Callable[[], Chart]) -> None:
    with pytest.raises(ValueError):
        bad()


async def test_draw_runs_off_the_event_loop_and_keeps_what_it_drew() -> None:
    threads: list[int] = []

    def make(counts: tuple[int, ...], *, highlight: int | None = None) -> Chart:
        threads.append(threading.get_ident())
        return score_distribution(counts, highlight=highlight)

    first = await charts.draw(make, SOME_COUNTS, highlight=3)
    assert len(threads) == 1 and threads[0] != threading.get_ident()
    assert first == score_distribution(SOME_COUNTS, highlight=3)
    again = await charts.draw(make, SOME_COUNTS, highlight=3)
    assert again is first and len(threads) == 1
    # What the chart shows is the key: other counts, another highlight, another function.
    await charts.draw(make, OTHER_COUNTS, highlight=3)
    await charts.draw(make, SOME_COUNTS, highlight=4)
    assert len(threads) == 3
    assert await charts.draw(score_distribution, SOME_COUNTS, highlight=3) is not first


async def test_many_charts_at_once_each_get_their_own_from_one_drawing_thread() -> None:
    threads: set[int] = set()
    busy = threading.Event()

    def make(n: int) -> Chart:
        threads.add(threading.get_ident())
        if n == 0:
            assert busy.wait(5)  # holds the thread while the others queue up
        if n == 13:
            raise ValueError("thirteen")
        if n == 14:
            raise StopIteration  # a future cannot hold it: it comes back as a RuntimeError
        if n == 15:
            raise SystemExit(1)  # must not end the thread that every chart waits on
        return Chart(png=str(n).encode(), filename="n.png")

    holding = asyncio.ensure_future(charts.draw(make, 0))
    await asyncio.sleep(0.05)
    waiting = [asyncio.ensure_future(charts.draw(make, n)) for n in range(1000, 1040)]
    unlucky = [asyncio.ensure_future(charts.draw(make, n)) for n in (13, 14, 15)]
    cancelled = asyncio.ensure_future(charts.draw(make, 999))
    await asyncio.sleep(0.05)  # every job queued behind the one holding the thread
    cancelled.cancel()
    busy.set()
    drawn = await asyncio.wait_for(asyncio.gather(holding, *waiting), 5)
    assert [chart.png for chart in drawn] == [b"0"] + [str(n).encode() for n in range(1000, 1040)]
    # A chart that fails reaches its caller alone, as an error; the thread draws on.
    errors = await asyncio.wait_for(asyncio.gather(*unlucky, return_exceptions=True), 5)
    assert [type(error) for error in errors] == [ValueError, RuntimeError, RuntimeError]
    assert cancelled.cancelled()
    assert (await asyncio.wait_for(charts.draw(make, 1040), 5)).png == b"1040"
    assert len(threads) == 1 and threading.get_ident() not in threads


async def test_draw_keeps_the_most_recently_used_charts_up_to_its_bound() -> None:
    made: list[int] = []

    def make(n: int) -> Chart:
        made.append(n)
        return Chart(png=str(n).encode(), filename="n.png")

    for n in range(charts.CHART_CACHE_SIZE):
        await charts.draw(make, n)
    await charts.draw(make, 0)  # used again: now the most recent
    await charts.draw(make, charts.CHART_CACHE_SIZE)  # one more than it keeps: 1 goes
    made.clear()
    await charts.draw(make, 0)
    assert made == []
    await charts.draw(make, 1)
    assert made == [1]


def pillow_card(
    size: tuple[int, int], area: charts._Area, highlight: int | None
) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """The card and its score axis drawn the straightforward way, with Pillow in RGB."""
    width, height = size
    image = Image.new("RGB", size, (0xFF, 0x00, 0xFF))
    canvas = ImageDraw.Draw(image)
    box = (0, 0, width - 1, height - 1)
    canvas.rounded_rectangle(box, radius=charts.CORNER_RADIUS, fill=PALETTE.background)
    canvas.line((area.left, area.bottom, area.right, area.bottom), fill=PALETTE.grid)
    for index, score in enumerate(charts.SCORES):
        colour = PALETTE.accent if score == highlight else PALETTE.muted_text
        at = (area.slot_centre(index, 10), area.bottom + charts.TEXT_GAP)
        canvas.text(at, str(score), font=ImageFont.load_default(size=15), fill=colour, anchor="ma")
    return image, canvas


def pillow_no_ratings(canvas: ImageDraw.ImageDraw, area: charts._Area) -> None:
    middle = (area.left + area.width // 2, area.top + area.height // 2)
    font = ImageFont.load_default(size=15)
    canvas.text(middle, charts.NO_RATINGS, font=font, fill=PALETTE.muted_text, anchor="mm")


def pillow_bar(
    canvas: ImageDraw.ImageDraw, centre: int, width: int, bottom: int, length: int, colour: Colour
) -> None:
    left = centre - width // 2
    radius = min(charts.BAR_CORNER_RADIUS, length // 2)
    box = (left, bottom - length, left + width - 1, bottom - 1)
    canvas.rounded_rectangle(box, radius, fill=colour, corners=(True, True, False, False))


def matched_to_palette(image: Image.Image) -> Image.Image:
    return image.quantize(palette=charts._PNG_PALETTE, dither=Image.Dither.NONE).convert("RGB")


def drawn_with_pillow(counts: tuple[int, ...], highlight: int | None) -> Image.Image:
    """A score distribution drawn the straightforward way, Pillow's shapes and text in RGB
    matched to the palette, at the places the chart puts them."""
    area = charts._distribution_area()
    image, canvas = pillow_card(charts.DISTRIBUTION_SIZE, area, highlight)
    small_font = ImageFont.load_default(size=13)
    if not any(counts):
        pillow_no_ratings(canvas, area)
    bar_width = area.width // 10 * 3 // 5
    lengths = charts._bar_lengths(counts, area.height, max(counts))
    for index, (count, length) in enumerate(zip(counts, lengths, strict=True)):
        if count == 0:
            continue
        colour = PALETTE.accent if index + 1 == highlight else PALETTE.bar
        pillow_bar(canvas, area.slot_centre(index, 10), bar_width, area.bottom, length, colour)
        above = (area.slot_centre(index, 10), area.bottom - length - charts.TEXT_GAP)
        canvas.text(above, str(count), font=small_font, fill=PALETTE.text, anchor="ms")
    return matched_to_palette(image)


def side_by_side_drawn_with_pillow(
    first: tuple[int, ...], second: tuple[int, ...], first_label: str, second_label: str
) -> Image.Image:
    """Two members' distributions drawn the straightforward way, as `drawn_with_pillow`."""
    area = charts._side_by_side_area()
    image, canvas = pillow_card(charts.SIDE_BY_SIDE_SIZE, area, None)
    font, small_font = (ImageFont.load_default(size=size) for size in (15, 13))
    # The legend: a note at the right, and each member's swatch and label in half the rest.
    middle, right = charts.MARGIN + 7, 640 - charts.MARGIN
    note = "share of each member's ratings"
    canvas.text((right, middle), note, font=small_font, fill=PALETTE.muted_text, anchor="rm")
    label_width = (right - math.ceil(small_font.getlength(note)) - 40) // 2 - 10 - 6 - 20
    # Bars 18 px wide, their centres 10 px left and 9 px right of the score's: 1 px apart.
    members = (
        (first, first_label, PALETTE.bar, -10),
        (second, second_label, PALETTE.second_series, 9),
    )
    left = charts.MARGIN
    for _, label, colour, _ in members:
        canvas.rectangle((left, middle - 5, left + 9, middle + 4), fill=colour)
        shown = charts._fit(label, 15, label_width)
        canvas.text((left + 16, middle), shown, font=font, fill=PALETTE.text, anchor="lm")
        left += 16 + label_width + 20
    if not any(first) and not any(second):
        pillow_no_ratings(canvas, area)
        return matched_to_palette(image)
    tallest = max(max(counts) / sum(counts) for counts in (first, second) if any(counts))
    for counts, _, colour, offset in members:
        shares = [count / sum(counts) if any(counts) else 0.0 for count in counts]
        for index, length in enumerate(charts._bar_lengths(shares, area.height, tallest)):
            if length:
                centre = area.slot_centre(index, 10) + offset
                pillow_bar(canvas, centre, 18, area.bottom, length, colour)
    return matched_to_palette(image)


def assert_the_picture(chart: Chart, reference: Image.Image) -> None:
    """The chart shows what the reference drawing does: the same size and colours, but for a
    few antialiased pixels."""
    image = decoded(chart)
    assert image.size == reference.size
    # Outside the card's corners the colour key, which the PNG makes transparent: comparing
    # colours compares where the chart is transparent too.
    width, height = image.size
    corners = ((0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1))
    alpha = image.convert("RGBA").getchannel("A")
    assert {alpha.getpixel(corner) for corner in corners} == {0}
    differences = ImageChops.difference(image.convert("RGB"), reference).tobytes()
    differing = [differences[i : i + 3] for i in range(0, len(differences), 3)]
    differing = [pixel for pixel in differing if any(pixel)]
    # Only antialiased text may be a shade apart, where Pillow blends two glyphs' edges.
    assert len(differing) <= 20
    shade = max(abs(t - b) for t, b in zip(PALETTE.text, PALETTE.background, strict=True)) / 16
    assert all(max(pixel) <= shade + 1 for pixel in differing)


@pytest.mark.parametrize(
    ("counts", "highlight"),
    [
        (SOME_COUNTS, 3),
        (OTHER_COUNTS, None),
        ((0,) * 10, 10),
        # Bars of every short length (2 to 8 px), whose rounded tops differ, and a full one.
        ((1, 2, 3, 4, 5, 6, 7, 8, 90, 180), 5),
        ((2731, 0, 12, 999, 3000, 1, 45, 0, 1808, 77), 9),
    ],
)
def test_the_score_distribution_is_the_picture_pillow_draws_straightforwardly(
    counts: tuple[int, ...], highlight: int | None
) -> None:
    chart = score_distribution(counts, highlight=highlight)
    assert_the_picture(chart, drawn_with_pillow(counts, highlight))


@pytest.mark.parametrize(
    ("first", "second", "first_label"),
    [
        (SOME_COUNTS, OTHER_COUNTS, "Ann"),
        ((0,) * 10, (0,) * 10, "Tomás e\u0301 AVAVA"),
        ((0, 0, 10, 0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0, 0, 1, 0, 0), "W" * 40),
        ((1, 2, 3, 4, 5, 6, 7, 8, 90, 180), (0,) * 10, "山田太郎 😀"),
    ],
)
def test_side_by_side_is_the_picture_pillow_draws_straightforwardly(
    first: tuple[int, ...], second: tuple[int, ...], first_label: str
) -> None:
    chart = side_by_side(first, second, first_label, "Bo")
    assert_the_picture(chart, side_by_side_drawn_with_pillow(first, second, first_label, "Bo"))


def test_parts_of_charts_are_drawn_once_when_threads_ask_at_the_same_time() -> None:
    drawn: list[int] = []
    started = threading.Barrier(8)

    def draw(key: int) -> list[int]:
        drawn.append(key)
        time.sleep(0.01)  # long enough for the others to ask meanwhile
        return [key]

    parts = charts._Parts(draw)
    got: list[list[int]] = []

    def ask() -> None:
        started.wait()
        got.append(parts[7])

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert drawn == [7]
    assert len(got) == 8 and all(part is got[0] for part in got)
