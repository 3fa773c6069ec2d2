"""Embeds for every reply. Each function takes data-layer objects and returns a message part
that respects Discord's limits, whatever the catalog or a member wrote."""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Callable, Hashable, Iterable, Sequence
from urllib.parse import urlsplit

import discord
from discord.utils import escape_markdown

from bot import charts
from bot.charts import Chart
from bot.db.models import (
    SONG_CREDIT,
    Credit,
    PressReview,
    Quote,
    ScoreSummary,
    TakesPage,
    TopList,
    Video,
    VideoPage,
)
from bot.lookups.facts import Fact
from bot.ui.limits import (
    EMBED_DESCRIPTION,
    EMBED_FIELDS,
    EMBED_TITLE,
    EMBEDS_TOTAL,
    FIELD_NAME,
    FIELD_VALUE,
    FOOTER,
    clip,
    fit_embed,
)
from bot.video_drafts import Draft
from bot.wording import count

log = logging.getLogger(__name__)

BRAND = discord.Colour(0xE8A33D)
BAR = "█"
BAR_WIDTH = 14
MAX_REVIEWS_SHOWN = 4


def _names(names: Iterable[str]) -> str:
    return ", ".join(escape_markdown(n) for n in names)


def video_subtitle(video: Video) -> str:
    parts = [f"**{escape_markdown(video.artist)}**"]
    if video.album and video.year:
        parts.append(f"*{escape_markdown(video.album)}* ({video.year})")
    elif video.album:
        parts.append(f"*{escape_markdown(video.album)}*")
    elif video.year:
        parts.append(str(video.year))
    return " · ".join(parts)


def mean_text(score: ScoreSummary) -> str:
    if score.mean is None:
        return "no ratings yet"
    return f"**{score.mean:.2f}**/10 from {count(score.count, 'ratings')}"


def histogram(score: ScoreSummary) -> str:
    """Scores 10 down to 1 as bars scaled to the most common score, in a code block."""
    return _bars(score.histogram)


# The same few thousand histograms come back (a member's, a video's in a server): drawn
# once each, they cost a /profile or a /review a dictionary lookup instead of ten lines.
@functools.lru_cache(maxsize=4096)
def _bars(counts: tuple[int, ...]) -> str:
    peak = max(counts) or 1
    lines = []
    for value in range(10, 0, -1):
        count = counts[value - 1]
        bar = BAR * round(BAR_WIDTH * count / peak) if count else ""
        lines.append(f"{value:>2} {bar:<{BAR_WIDTH}} {count}")
    return "```\n" + "\n".join(lines) + "\n```"


def press_review_name(review: PressReview) -> str:
    """`The Root: “Headline” by Author`; without an outlet, the headline leads."""
    name = f"“{review.headline}”"
    if review.outlet:
        name = f"{review.outlet}: {name}"
    if review.author:
        name += f" by {review.author}"
    return name


def review_embed(page: VideoPage, guild_name: str) -> discord.Embed:
    video = page.video
    embed = discord.Embed(
        title=clip(video.title, EMBED_TITLE),
        url=video.url,
        colour=BRAND,
        description=clip(video_subtitle(video), EMBED_DESCRIPTION),
    )
    directors = page.credits_for("Director")
    if directors:
        embed.add_field(
            name="Directed by", value=clip(_names(directors), FIELD_VALUE), inline=False
        )
    for review in page.reviews[:MAX_REVIEWS_SHOWN]:
        name = clip(press_review_name(review), FIELD_NAME)
        value = escape_markdown(review.summary)
        if review.url:
            link = f"\n[Read the review]({review.url})"
            value = clip(value, FIELD_VALUE - len(link)) + link
        embed.add_field(name=name, value=clip(value, FIELD_VALUE), inline=False)
    hidden = len(page.reviews) - MAX_REVIEWS_SHOWN
    if hidden > 0:
        embed.add_field(
            name="More press",
            value=f"{count(hidden, 'press reviews')} more not shown.",
            inline=False,
        )
    score = page.score
    community = mean_text(score)
    if score.count:
        community += "\n" + histogram(score)
    else:
        community += ": be the first with the Rate button below."
    embed.add_field(
        name=clip(f"Community score in {guild_name}", FIELD_NAME),
        value=clip(community, FIELD_VALUE),
        inline=False,
    )
    if page.take_count:
        takes = f"{count(page.take_count, 'takes')}: read them with /takes."
        top = page.top_take
        if top is not None and top.agree_count:
            takes += (
                f"\nMost agreed ({top.agree_count}): “{escape_markdown(clip(top.text, 300))}” "
                f"— <@{top.user_id}>, {top.score}/10"
            )
        embed.add_field(name="Community takes", value=clip(takes, FIELD_VALUE), inline=False)
    if page.thumbnail_url:
        embed.set_thumbnail(url=page.thumbnail_url)
    footer = "Rate it, see the credits or hear a quote with the buttons below."
    if page.member_score is not None:
        footer = f"Your score: {page.member_score}/10 · " + footer
    embed.set_footer(text=clip(footer, FOOTER))
    return fit_embed(embed)


SONG_CREDITS = "Song credits"
SOURCES = "Sources"


def _by_role(credits: Iterable[Credit]) -> list[tuple[str, list[str]]]:
    """Names grouped by role, whatever its case or spacing ("Cast" and "cast" are one role),
    named by the role's first spelling with a capital first letter."""
    groups: dict[str, tuple[str, list[str]]] = {}
    for credit in credits:
        key = " ".join(credit.role.split()).casefold()
        role = credit.role[:1].upper() + credit.role[1:]
        groups.setdefault(key, (role, []))[1].append(credit.name)
    return list(groups.values())


def _site(url: str) -> str:
    """The site a link points to, as a source's label: `stereogum.com`."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    return host.removeprefix("www.") if host else clip(url, 60)


def source_link(url: str) -> str:
    """A page as a markdown link named by its site: `[stereogum.com](https://…)`."""
    # A ")" would end the markdown link early; encoded, it opens the same page.
    target = url.replace("(", "%28").replace(")", "%29")
    return f"[{escape_markdown(_site(url))}]({target})"


def _source_links(sources: Sequence[str]) -> str:
    """Whole links, one a line, as many as fit one field, then how many more there are."""
    lines: list[str] = []
    for url in sources:
        line = source_link(url)
        rest = len(sources) - len(lines) - 1
        tail = f"\n…and {rest} more" if rest else ""
        if len("\n".join([*lines, line]) + tail) > FIELD_VALUE:
            break
        lines.append(line)
    hidden = len(sources) - len(lines)
    return "\n".join(lines) + (f"\n…and {hidden} more" if hidden else "")


def credits_embed(
    video: Video, credits: list[Credit], sources: Sequence[str] = ()
) -> discord.Embed:
    """The video's credits grouped by role, then the song's under their own heading, then
    links to the pages that back them."""
    embed = discord.Embed(
        title=clip(f"Credits: {video.title}", EMBED_TITLE),
        colour=BRAND,
        description=clip(video_subtitle(video), EMBED_DESCRIPTION),
    )
    video_roles = _by_role(c for c in credits if c.kind != SONG_CREDIT)
    song_roles = _by_role(c for c in credits if c.kind == SONG_CREDIT)
    room = EMBED_FIELDS - bool(song_roles) - bool(sources)
    for role, names in video_roles[:room]:
        value = "\n".join(escape_markdown(n) for n in names)
        embed.add_field(name=clip(role, FIELD_NAME), value=clip(value, FIELD_VALUE), inline=True)
    if song_roles:
        lines = (f"**{escape_markdown(role)}**: {_names(names)}" for role, names in song_roles)
        embed.add_field(name=SONG_CREDITS, value=clip("\n".join(lines), FIELD_VALUE), inline=False)
    if not credits:
        embed.description = (embed.description or "") + "\n\nNo credits are listed yet."
    if sources:
        # Credits give way to the sources when the embed is too long: a cut link is no link.
        links = _source_links(sources)
        fit_embed(embed, EMBEDS_TOTAL - len(SOURCES) - len(links))
        embed.add_field(name=SOURCES, value=links, inline=False)
    return fit_embed(embed)


def _found(facts: Sequence[Fact[str] | Fact[int]]) -> str:
    """Found values, then the pages they came from (each once)."""
    values = _names(str(fact.value) for fact in facts)
    pages = ", ".join(source_link(url) for url in dict.fromkeys(f.source for f in facts))
    return f"{values}\nfrom {pages}"


def draft_embed(draft: Draft, *, lookups_on: bool) -> discord.Embed:
    """What the lookups found about a link, each fact with the page it came from, before
    the editor opens the add form."""
    found = draft.found
    rows: list[tuple[str, Sequence[Fact[str] | Fact[int]]]] = [
        ("Title", [found.title] if found.title else []),
        ("Artist", [found.artist] if found.artist else []),
        ("Channel", [found.channel] if found.channel else []),
        ("Album", [found.album] if found.album else []),
        ("Year", [found.year] if found.year else []),
        ("Video published", [found.published] if found.published else []),
        ("Song released", [found.song_published] if found.song_published else []),
        ("Directed by", found.directors),
        ("Performed by", found.performers),
        ("Thumbnail", [found.thumbnail] if found.thumbnail else []),
    ]
    embed = discord.Embed(title="Adding a video from its link", url=draft.url, colour=BRAND)
    shown = [(name, facts) for name, facts in rows if facts]
    for name, facts in shown:
        embed.add_field(name=name, value=clip(_found(facts), FIELD_VALUE), inline=False)
    # Found, nothing found, or a service that did not answer (never "nothing was found" when
    # nothing could be asked), and Wikidata items left unused because several matched.
    intro = draft.summary(lookups_on=lookups_on)
    typed = [
        f"{name}: {escape_markdown(str(value))}"
        for name, value in (
            ("Title", draft.typed.title),
            ("Artist", draft.typed.artist),
            ("Album", draft.typed.album),
            ("Year", draft.typed.year),
        )
        if value is not None
    ]
    if typed:
        embed.add_field(
            name="You typed (the form uses these)",
            value=clip("\n".join(typed), FIELD_VALUE),
            inline=False,
        )
    embed.description = f"{intro}\nCorrect anything in the form, then save."
    if draft.thumbnail:
        embed.set_thumbnail(url=draft.thumbnail)
    embed.set_footer(text=clip(draft.url, FOOTER))
    return fit_embed(embed)


def quote_embed(quote: Quote) -> discord.Embed:
    # Member-written text: shown in an embed (embeds never ping) and sent with mentions off.
    text = f"“{escape_markdown(quote.text)}”"
    if quote.said_by:
        text += f"\n— {escape_markdown(quote.said_by)}"
    if quote.source_url:
        text += f"\n[Original message]({quote.source_url})"
    embed = discord.Embed(description=clip(text, EMBED_DESCRIPTION), colour=BRAND)
    if quote.video_title:
        embed.add_field(name="About", value=clip(escape_markdown(quote.video_title), FIELD_VALUE))
    footer = f"Quote #{quote.id}"
    if quote.is_sample:
        footer += " · sample quote from the TakeTwo catalog"
    embed.set_footer(text=footer)
    return fit_embed(embed)


def top_embed(top: TopList, guild_name: str) -> discord.Embed:
    lines = []
    for rank, entry in enumerate(top.entries, start=1):
        lines.append(
            f"**{rank}.** {escape_markdown(clip(entry.video.label, 120))}\n"
            f"    **{entry.weighted:.2f}** · mean {entry.mean:.2f} "
            f"from {count(entry.count, 'ratings')}"
        )
    embed = discord.Embed(
        title=clip(f"Top videos in {guild_name}", EMBED_TITLE),
        colour=BRAND,
        description=clip("\n".join(lines), EMBED_DESCRIPTION),
    )
    embed.set_footer(
        text=clip(
            "Ranked by Bayesian mean: each video's ratings plus "
            f"{count(top.prior_weight, 'ratings')} "
            f"at the server average of {top.prior_mean:.2f}. Videos need "
            f"{count(top.min_ratings, 'ratings')} to "
            "be listed.",
            FOOTER,
        )
    )
    return fit_embed(embed)


def rating_saved(video: Video, score: int, summary: ScoreSummary) -> str:
    return clip(
        f"You rated **{escape_markdown(video.title)}** {score}/10. "
        f"Server score: {mean_text(summary)}.",
        2000,
    )


def daily_embed(quote: Quote) -> discord.Embed:
    embed = quote_embed(quote)
    embed.title = "Quote of the day"
    return fit_embed(embed)


def daily_status_embed(lines: list[tuple[str, str]], warning: str | None) -> discord.Embed:
    embed = discord.Embed(title="Daily quote", colour=BRAND)
    for name, value in lines[:EMBED_FIELDS]:
        embed.add_field(name=clip(name, FIELD_NAME), value=clip(value, FIELD_VALUE), inline=False)
    if warning:
        embed.set_footer(text=clip(warning, FOOTER))
    return fit_embed(embed)


def takes_embed(video: Video, page: TakesPage, sort: str) -> discord.Embed:
    order = "newest first" if sort == "newest" else "highest score first"
    embed = discord.Embed(title=clip(f"Takes on {video.title}", EMBED_TITLE), colour=BRAND)
    if not page.takes:
        embed.description = "No takes yet: write the first with /take."
    for take in page.takes:
        agrees = f" · {count(take.agree_count, 'agrees')}" if take.agree_count else ""
        embed.add_field(
            name=clip(f"#{take.id} · {take.score}/10{agrees}", FIELD_NAME),
            # A mention inside an embed shows the member's name and never pings.
            value=clip(f"<@{take.user_id}>: {escape_markdown(take.text)}", FIELD_VALUE),
            inline=False,
        )
    embed.set_footer(
        text=f"Page {page.page + 1} of {page.pages} · {count(page.total, 'takes')} · {order}"
    )
    return fit_embed(embed)


async def chart_file(
    embed: discord.Embed, make: Callable[..., Chart], *args: Hashable, **kwargs: Hashable
) -> discord.File | None:
    """The chart `make(*args, **kwargs)` as the embed's image, and the file to send with it.
    A chart that cannot be drawn is left out (logged): the embed says the same in words."""
    try:
        chart = await charts.draw(make, *args, **kwargs)
    except Exception:
        log.warning("a chart could not be drawn; replying without it", exc_info=True)
        return None
    embed.set_image(url=f"attachment://{chart.filename}")
    return discord.File(io.BytesIO(chart.png), filename=chart.filename)
