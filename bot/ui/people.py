"""Replies about members and credited people: /profile, /taste, /person and /top by:.
Each chart sent as an image is also given in words in the embed (for screen readers and
for servers that hide images)."""

from __future__ import annotations

import discord
from discord.utils import escape_markdown

from bot.db.models import (
    FAVOURITE_MIN_VIDEOS,
    MemberProfile,
    PeopleTopList,
    PersonPage,
    PersonScore,
    ScoreSummary,
    SharedRating,
)
from bot.errors import UserFacingError
from bot.taste import WIDEST_GAP, Taste
from bot.ui import replies
from bot.ui.context import client, guild_id, guild_name
from bot.ui.embeds import BRAND, histogram, mean_text
from bot.ui.limits import (
    EMBED_DESCRIPTION,
    EMBED_TITLE,
    FIELD_NAME,
    FIELD_VALUE,
    FOOTER,
    clip,
    fit_embed,
)
from bot.wording import count


def _name(text: str, limit: int = 100) -> str:
    return escape_markdown(clip(text, limit))


def _favourites(people: list[PersonScore], kind: str) -> str:
    if not people:
        return f"None yet: rate {FAVOURITE_MIN_VIDEOS} or more videos by the same {kind}."
    return "\n".join(
        f"**{_name(p.name)}**: {p.mean:.2f} over {count(p.videos, 'videos')}" for p in people
    )


def profile_embed(profile: MemberProfile, who: str, guild_name: str) -> discord.Embed:
    mean = profile.mean
    server = f"{profile.server_mean:.2f}" if profile.server_mean is not None else "none yet"
    summary = (
        f"Rated {count(profile.count, 'videos')}, mean **{mean:.2f}**/10 (the server's: {server})"
        if mean is not None
        else "No ratings yet: rate a video with /rate or the Rate button under /review."
    )
    embed = discord.Embed(
        title=clip(f"{who} in {guild_name}", EMBED_TITLE),
        colour=BRAND,
        description=clip(summary, EMBED_DESCRIPTION),
    )
    if profile.count:
        scores = ScoreSummary(count=profile.count, histogram=profile.histogram)
        embed.add_field(name="Their scores", value=histogram(scores), inline=False)
        embed.add_field(
            name="Favourite directors",
            value=clip(_favourites(profile.favourite_directors, "director"), FIELD_VALUE),
        )
        embed.add_field(
            name="Favourite artists",
            value=clip(_favourites(profile.favourite_artists, "artist"), FIELD_VALUE),
        )
    takes = count(profile.take_count, "takes")
    best = profile.most_agreed
    if best is not None and best.take.agree_count:
        takes += (
            f"\nMost agreed ({count(best.take.agree_count, 'agrees')}), on "
            f"**{_name(best.video.title)}**, {best.take.score}/10: "
            f"“{escape_markdown(clip(best.take.text, 300))}”"
        )
    embed.add_field(name="Takes", value=clip(takes, FIELD_VALUE), inline=False)
    if profile.last_ratings:
        lines = [
            f"**{_name(r.video.title)}** — {_name(r.video.artist, 60)}: {r.score}/10 "
            f"<t:{r.rated_at}:R>"
            for r in profile.last_ratings
        ]
        embed.add_field(name="Last rated", value=clip("\n".join(lines), FIELD_VALUE), inline=False)
    embed.set_footer(
        text=clip(
            f"Favourites: the people whose videos they rate highest, with at least "
            f"{count(FAVOURITE_MIN_VIDEOS, 'videos')} rated. "
            + (
                "Hidden from other members' /profile and /taste (/privacy hide-ratings)."
                if profile.hides_ratings
                else "Keep yours out of others' /profile with /privacy hide-ratings."
            ),
            FOOTER,
        )
    )
    return fit_embed(embed)


def _shared_line(s: SharedRating, first: str, second: str) -> str:
    return (
        f"**{_name(s.video.title)}** — {_name(s.video.artist, 60)}: "
        f"{first} {s.first}, {second} {s.second}"
    )


def taste_embed(taste: Taste, first: str, second: str) -> discord.Embed:
    shared = len(taste.shared)
    agreement = taste.agreement
    if agreement is None:
        description = (
            f"{first} and {second} have rated {count(shared, 'videos')} in common; "
            f"a comparison needs {taste.needed} more."
        )
    else:
        description = f"**{agreement}%** agreement over {count(shared, 'videos')} both rated."
    embed = discord.Embed(
        title=clip(f"Taste: {first} and {second}", EMBED_TITLE),
        colour=BRAND,
        description=clip(description, EMBED_DESCRIPTION),
    )
    if agreement is not None:
        a, b = (clip(first, 20), clip(second, 20))
        agreed = "\n".join(_shared_line(s, a, b) for s in taste.agreed_most())
        embed.add_field(name="Agree most on", value=clip(agreed, FIELD_VALUE), inline=False)
        split = taste.disagreed_most()
        disagreed = (
            "\n".join(_shared_line(s, a, b) for s in split)
            if split
            else "Nothing: they gave every video the same score."
        )
        embed.add_field(name="Disagree most on", value=clip(disagreed, FIELD_VALUE), inline=False)
        firsts, seconds = taste.histograms()
        table = "\n".join(
            f"{score:>2} {firsts[score - 1]:>5} {seconds[score - 1]:>5}"
            for score in range(10, 0, -1)
        )
        embed.add_field(
            name=clip(f"Scores over shared videos ({a}, {b})", FIELD_NAME),
            value=f"```\n    {'1st':>5} {'2nd':>5}\n{table}\n```",
            inline=False,
        )
        embed.set_footer(
            text=clip(
                "Agreement: 100% minus the average gap between their two scores for each "
                f"shared video, as a share of the widest gap ({WIDEST_GAP} points).",
                FOOTER,
            )
        )
    return fit_embed(embed)


def person_embed(page: PersonPage, guild_name: str) -> discord.Embed:
    total = page.score
    overall = (
        f"In {guild_name}: {mean_text(total)} across their videos."
        if total.count
        else f"No one in {guild_name} has rated their videos yet."
    )
    lines = []
    for credit in page.credits:
        video = credit.video
        year = f" ({video.year})" if video.year else ""
        score = (
            f"{credit.score.mean:.2f} from {count(credit.score.count, 'ratings')}"
            if credit.score.mean is not None
            else "not rated here"
        )
        lines.append(
            f"**{_name(video.title)}** — {_name(video.artist, 60)}{year} · "
            f"{escape_markdown(', '.join(credit.roles))} · {score}"
        )
    body, shown = _fit_lines(lines, EMBED_DESCRIPTION - len(overall) - 40)
    if shown < len(lines):
        body += f"\n…and {count(len(lines) - shown, 'videos')} more."
    embed = discord.Embed(
        title=clip(page.name, EMBED_TITLE),
        colour=BRAND,
        description=clip(f"{overall}\n\n{body}", EMBED_DESCRIPTION),
    )
    embed.set_footer(text=f"Credited on {count(len(page.credits), 'videos')} in the catalog.")
    return fit_embed(embed)


def _fit_lines(lines: list[str], room: int) -> tuple[str, int]:
    """As many whole lines as fit in `room` characters, and how many that is."""
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > room:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept), len(kept)


def people_top_embed(top: PeopleTopList, guild_name: str) -> discord.Embed:
    lines = [
        f"**{rank}.** {_name(entry.name)}\n"
        f"    **{entry.weighted:.2f}** · mean {entry.mean:.2f} from "
        f"{count(entry.count, 'ratings')} over {count(entry.videos, 'videos')}"
        for rank, entry in enumerate(top.entries, start=1)
    ]
    # Whole entries only: 25 long names would pass the description's limit.
    body, shown = _fit_lines(lines, EMBED_DESCRIPTION - 40)
    if shown < len(lines):
        body += f"\n…and {len(lines) - shown} more."
    embed = discord.Embed(
        title=clip(f"Top {top.role} in {guild_name}", EMBED_TITLE), colour=BRAND, description=body
    )
    embed.set_footer(
        text=clip(
            "Ranked by Bayesian mean: all the ratings of their videos plus "
            f"{count(top.prior_weight, 'ratings')} at the server average of "
            f"{top.prior_mean:.2f}. Each needs {count(top.min_ratings, 'ratings')} "
            "to be listed.",
            FOOTER,
        )
    )
    return fit_embed(embed)


# The longest value an autocomplete choice carries.
AUTOCOMPLETE_VALUE = 100


async def send_person(interaction: discord.Interaction, value: str, *, ephemeral: bool) -> None:
    """Answer with the /person page of the name a member picked or typed."""
    server = guild_id(interaction)
    async with client(interaction).db.read() as session:
        name = await session.people.resolve(value)
        if name is None and len(value) == AUTOCOMPLETE_VALUE:
            # A longer name, cut to what an autocomplete value holds: the name it starts.
            found = await session.people.search(value, limit=1)
            name = found[0] if found and found[0].startswith(value) else None
        if name is None:
            raise UserFacingError(
                f"No one called “{escape_markdown(clip(value, 100))}” is credited in the "
                "catalog: pick a name from the list."
            )
        page = await session.people.page(server, name)
    shown = person_embed(page, escape_markdown(guild_name(interaction)))
    await replies.send(interaction, embed=shown, ephemeral=ephemeral)
