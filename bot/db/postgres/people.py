"""Members' profiles (/profile, /taste) and credited people (/person, /top by:), read from
PostgreSQL with the answers SQLite gives (bot/db/sqlite/people.py), order included.

Names are ordered byte by byte (COLLATE "C"), as SQLite orders text; a mean is a float
(sum / count in double precision, as SQLite's avg() is), so ties and ranks come out alike.
Each answer is one statement: one round trip.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.db.coalesce import Coalescer
from bot.db.models import (
    ARTIST_ROLE,
    DIRECTOR_ROLE,
    FAVOURITE_MIN_VIDEOS,
    FAVOURITES,
    MIN_RATINGS,
    NEUTRAL_MEAN,
    PRIOR_WEIGHT,
    PROFILE_LOOKUP_MOST,
    SONG_CREDIT,
    TALLIED_PAST,
    MemberProfile,
    PeopleTopList,
    PersonCredit,
    PersonPage,
    PersonScore,
    ProfileTake,
    RankedPerson,
    RatedVideo,
    SharedRating,
    Take,
    Video,
)
from bot.db.postgres.connections import Queries
from bot.db.postgres.rows import SCORES, TAKE, VIDEO, qualified, summary_from
from bot.db.postgres.videos import holding
from bot.db.text import fold

_VIDEO = qualified("v", VIDEO)
_VIDEO_WIDTH = len(VIDEO.split(", "))
_TAKE_WIDTH = len(TAKE.split(", "))
# The highest code point: a prefix's range ends just before text that sorts after it.
_LAST = "\U0010ffff"
# A credit as a video's director: lower() under "C" changes ASCII letters only, as SQLite's.
_DIRECTORS = f"c.kind = 'video' AND lower(c.role COLLATE \"C\") = '{DIRECTOR_ROLE}'"


def _favourites(rated: str) -> str:
    """The people of `rated` (a statement of video_id, name, score) with at least $4 videos,
    best mean first, at most $5: as an array of (name, videos, mean) rows."""
    return (
        "ARRAY(SELECT (name, count(*), sum(score)::float8 / count(*)) "
        f"FROM ({rated}) AS rated GROUP BY name HAVING count(*) >= $4 "
        'ORDER BY sum(score)::float8 / count(*) DESC, count(*) DESC, name COLLATE "C" LIMIT $5)'
    )


_HISTOGRAM = ", ".join(f"count(*) FILTER (WHERE score = {k})" for k in range(1, 11))


def _counted_directors(guild: str, member: str) -> str:
    # A person credited twice on one video (two director credits) counts that video once.
    return _favourites(
        "SELECT DISTINCT r.video_id, c.name, r.score FROM ratings AS r "
        "JOIN credits AS c ON c.video_id = r.video_id "
        f"WHERE r.guild_id = {guild} AND r.user_id = {member} AND {_DIRECTORS}"
    )


def _counted_artists(guild: str, member: str) -> str:
    return _favourites(
        "SELECT r.video_id, v.artist AS name, r.score FROM ratings AS r "
        f"JOIN videos AS v ON v.id = r.video_id WHERE r.guild_id = {guild} "
        f"AND r.user_id = {member}"
    )


def _tallied(role: str, guild: str, member: str) -> str:
    """A tallied member's favourites of one role (member_people, migration 0008), in the
    order and shape `_favourites` gives: a read of their tallies, not of their ratings."""
    return (
        "ARRAY(SELECT (name, videos::bigint, total::float8 / videos) FROM member_people "
        f"WHERE guild_id = {guild} AND user_id = {member} AND role = '{role}' AND videos >= $4 "
        'ORDER BY total::float8 / videos DESC, videos DESC, name COLLATE "C" LIMIT $5)'
    )


def _rated(guild: str, member: str) -> str:
    """How many ratings the member has in the server (0 for none)."""
    return (
        "coalesce((SELECT count FROM member_rating_counts "
        f"WHERE guild_id = {guild} AND user_id = {member}), 0)"
    )


def _profile_statement(
    directors: str, artists: str, guild: str = "$1", member: str = "$2", last: str = "$3"
) -> str:
    """The member's profile, with their `last` newest ratings and the favourites given."""
    mine = f"guild_id = {guild} AND user_id = {member}"
    return f"""
SELECT
    (SELECT ARRAY[{_HISTOGRAM}] FROM ratings WHERE {mine}),
    (SELECT (count, total) FROM guild_scores WHERE guild_id = {guild}),
    coalesce((SELECT hide_ratings FROM member_settings WHERE {mine}), false),
    {directors},
    {artists},
    (SELECT count(*) FROM takes WHERE {mine}),
    (SELECT ({qualified("t", TAKE)}, {_VIDEO}) FROM takes AS t
        JOIN videos AS v ON v.id = t.video_id WHERE t.guild_id = {guild} AND t.user_id = {member}
        ORDER BY t.agree_count DESC, t.updated_at DESC, t.id DESC LIMIT 1),
    ARRAY(SELECT (r.score, r.rated_at, {_VIDEO}) FROM (
            SELECT video_id, score, rated_at FROM ratings WHERE {mine}
            ORDER BY rated_at DESC, video_id DESC LIMIT {last}
        ) AS r JOIN videos AS v ON v.id = r.video_id ORDER BY r.rated_at DESC, r.video_id DESC)
"""


# Tallies exist for a member past the bound; one within it is counted from the ratings (the
# cost of that is bounded by it). CASE evaluates only the branch it takes.
_PROFILE = _profile_statement(
    f"CASE WHEN {_rated('$1', '$2')} > {TALLIED_PAST} THEN {_tallied('director', '$1', '$2')} "
    f"ELSE {_counted_directors('$1', '$2')} END",
    f"CASE WHEN {_rated('$1', '$2')} > {TALLIED_PAST} THEN {_tallied('artist', '$1', '$2')} "
    f"ELSE {_counted_artists('$1', '$2')} END",
)
# The profiles of the batch's members (server $1[i], member $2[i], newest $3[i]) with at
# most $6 ratings each, a row for each such member (its i), in one round trip: a profile is
# read only for a count that passes. Such a member's favourites are counted from their
# ratings (their count bounds the cost): the statement leaves the tallies out, and is
# quicker for PostgreSQL to plan, which it does on most runs.
_BATCH = ("m.guild_id", "m.user_id")
_PROFILES_OF_FEW = f"""
SELECT m.i, profile.*
FROM unnest($1::bigint[], $2::bigint[], $3::int[]) WITH ORDINALITY AS m (guild_id, user_id, last, i)
CROSS JOIN LATERAL (SELECT {_rated(*_BATCH)} AS rated) AS counted
CROSS JOIN LATERAL ({
    _profile_statement(_counted_directors(*_BATCH), _counted_artists(*_BATCH), *_BATCH, "m.last")
}) AS profile
WHERE counted.rated <= $6
"""

_SHARED = f"""
SELECT a.score, b.score, {_VIDEO} FROM ratings AS a
JOIN ratings AS b ON b.guild_id = a.guild_id AND b.user_id = $3 AND b.video_id = a.video_id
JOIN videos AS v ON v.id = a.video_id
WHERE a.guild_id = $1 AND a.user_id = $2 ORDER BY a.video_id
"""


def _starting(table: str, folded: str, name: str) -> str:
    """One source's names whose folded form is in [$1, $2), in order, at most $3."""
    return (
        f'(SELECT DISTINCT {folded} AS folded, {name} COLLATE "C" AS name FROM {table} '
        f"WHERE {folded} >= $1 AND {folded} < $2 ORDER BY folded, name LIMIT $3)"
    )


# Names starting with the text, then (while they leave room, and for text that folds to
# something) names with a later word starting with it: each part ordered by folded form
# and name, as SQLite's two passes.
_SEARCH = f"""
WITH starting AS (
    SELECT * FROM ({_starting("credits", "search_name", "name")} UNION
        {_starting("videos", "search_artist", "artist")}) AS s
    ORDER BY folded, name LIMIT $3
), later AS (
    SELECT * FROM (
        SELECT search_name AS folded, name COLLATE "C" AS name FROM credits
        WHERE $4::text IS NOT NULL AND (SELECT count(*) FROM starting) < $3
        AND search_name LIKE $4
        UNION
        SELECT search_artist, artist COLLATE "C" FROM videos
        WHERE $4::text IS NOT NULL AND (SELECT count(*) FROM starting) < $3
        AND search_artist LIKE $4
    ) AS w ORDER BY folded, name LIMIT $3
)
SELECT name FROM (SELECT 1 AS part, * FROM starting UNION ALL SELECT 2, * FROM later) AS found
ORDER BY part, folded, name
"""

# The name as sent, else the first (by name) whose folded form is the one sent ($2; NULL
# when it folds to nothing).
_RESOLVE = """
SELECT name FROM (
    SELECT name, 0 AS exact FROM credits WHERE name = $1
    UNION ALL SELECT artist, 0 FROM videos WHERE artist = $1
    UNION ALL SELECT name, 1 FROM credits WHERE search_name = $2
    UNION ALL SELECT artist, 1 FROM videos WHERE search_artist = $2
) AS found ORDER BY exact, name COLLATE "C" LIMIT 1
"""

# Every credit of the name, and each video of theirs as its artist (before the credits).
_PAGE = f"""
SELECT c.role, c.kind, {_VIDEO}, {qualified("s", SCORES)}
FROM (SELECT video_id, position, role, kind FROM credits WHERE name = $1
      UNION ALL SELECT id, -1, $2::text, 'video' FROM videos WHERE artist = $1) AS c
JOIN videos AS v ON v.id = c.video_id
LEFT JOIN video_scores AS s ON s.guild_id = $3 AND s.video_id = v.id
ORDER BY v.year IS NULL, v.year DESC, v.title COLLATE "C", v.id, c.position
"""

# Each ranked person's videos in server $1: (name, videos, count, total). Each director's
# ratings are tallied (director_scores, migration 0010); an artist's are counted from the
# server's rated videos, each of which names its artist.
_PEOPLE = {
    "directors": "SELECT name, videos, count, total FROM director_scores WHERE guild_id = $1",
    "artists": "SELECT v.artist AS name, count(*) AS videos, sum(s.count)::bigint AS count, "
    "sum(s.total)::bigint AS total FROM video_scores AS s JOIN videos AS v ON v.id = s.video_id "
    "WHERE s.guild_id = $1 AND s.count > 0 GROUP BY v.artist",
}


def _top(people: str) -> str:
    """The prior (the server's mean, as /top's for videos) and the ranked people: those
    with at least $4 ratings by Bayesian mean (weight $3), at most $5."""
    return f"""
WITH prior (m) AS (SELECT coalesce((SELECT total::float8 / count FROM guild_scores
    WHERE guild_id = $1 AND count > 0), $2::float8))
SELECT m, ARRAY(SELECT (name, videos, count, total, weighted) FROM (
    SELECT *, ($3::float8 * m + total) / ($3::float8 + count) AS weighted
    FROM ({people}) AS p WHERE count >= $4
) AS w ORDER BY weighted DESC, count DESC, name COLLATE "C" LIMIT $5) FROM prior
"""


_TOP = {role: _top(people) for role, people in _PEOPLE.items()}


def _video(row: Iterable[Any]) -> Video:
    return Video(*row)


async def _profile(conn: Queries, guild_id: int, user_id: int, last: int) -> MemberProfile:
    row = await conn.fetchrow(_PROFILE, guild_id, user_id, last, FAVOURITE_MIN_VIDEOS, FAVOURITES)
    assert row is not None
    return _read_profile(user_id, row)


def _read_profile(user_id: int, row: Any) -> MemberProfile:
    histogram, server, hides, directors, artists, takes, best, newest = row
    best = tuple(best) if best is not None else None
    return MemberProfile(
        user_id=user_id,
        hides_ratings=hides,
        histogram=tuple(histogram),
        server_mean=server[1] / server[0] if server and server[0] else None,
        favourite_directors=[PersonScore(*person) for person in directors],
        favourite_artists=[PersonScore(*person) for person in artists],
        take_count=takes,
        most_agreed=ProfileTake(Take(*best[:_TAKE_WIDTH]), _video(best[_TAKE_WIDTH:]))
        if best is not None
        else None,
        last_ratings=[RatedVideo(_video(r[2:]), r[0], r[1]) for r in map(tuple, newest)],
    )


ProfileKey = tuple[int, int, int]  # guild, member, how many last ratings


async def _profiles_of_few(conn: Queries, keys: list[ProfileKey]) -> list[MemberProfile | None]:
    """Each member's profile, or None for one past PROFILE_LOOKUP_MOST ratings."""
    guilds, members, lasts = zip(*keys, strict=True)
    rows = await conn.fetch(
        _PROFILES_OF_FEW,
        list(guilds),
        list(members),
        list(lasts),
        FAVOURITE_MIN_VIDEOS,
        FAVOURITES,
        PROFILE_LOOKUP_MOST,
    )
    found: list[MemberProfile | None] = [None] * len(keys)
    for row in rows:
        values = tuple(row)
        i = values[0] - 1  # WITH ORDINALITY counts from 1
        found[i] = _read_profile(keys[i][1], values[1:])
    return found


class PostgresProfileLookups:
    """Only a profile whose cost its rating count bounds. Profiles asked for at the same
    moment are read by one statement: one round trip and one pool connection, as the
    lookup session's /review pages are."""

    def __init__(self, conn: Queries) -> None:
        self.conn = conn
        self._profiles = Coalescer[ProfileKey, MemberProfile](self._few)

    async def _few(self, keys: list[ProfileKey]) -> list[MemberProfile | None]:
        return await _profiles_of_few(self.conn, keys)

    async def profile_of_few(
        self, guild_id: int, user_id: int, *, last: int = 5
    ) -> MemberProfile | None:
        # None: a member past PROFILE_LOOKUP_MOST ratings, whom a read session profiles.
        return await self._profiles.get_or_none((guild_id, user_id, last))


class PostgresProfileReads:
    def __init__(self, conn: Queries) -> None:
        self.conn = conn

    async def profile_of_few(
        self, guild_id: int, user_id: int, *, last: int = 5
    ) -> MemberProfile | None:
        [profile] = await _profiles_of_few(self.conn, [(guild_id, user_id, last)])
        return profile

    async def profile(self, guild_id: int, user_id: int, *, last: int = 5) -> MemberProfile:
        return await _profile(self.conn, guild_id, user_id, last)

    async def shared(self, guild_id: int, first: int, second: int) -> list[SharedRating]:
        rows = await self.conn.fetch(_SHARED, guild_id, first, second)
        return [SharedRating(_video(tuple(row)[2:]), row[0], row[1]) for row in rows]


class PostgresPeopleReads:
    def __init__(self, conn: Queries) -> None:
        self.conn = conn

    async def search(self, text: str, limit: int = 25) -> list[str]:
        query = fold(text)
        later = holding(f" {query}") if query else None
        rows = await self.conn.fetch(_SEARCH, query, query + _LAST, limit, later)
        # A name both starts with the text and has a later word starting with it.
        return list(dict.fromkeys(row[0] for row in rows))[:limit]

    async def resolve(self, value: str) -> str | None:
        name = await self.conn.fetchval(_RESOLVE, value, fold(value) or None)
        return str(name) if name is not None else None

    async def page(self, guild_id: int, name: str) -> PersonPage:
        rows = await self.conn.fetch(_PAGE, name, ARTIST_ROLE, guild_id)
        credits: dict[int, PersonCredit] = {}
        for row in rows:
            values = tuple(row)
            role = f"{values[0]} (song)" if values[1] == SONG_CREDIT else values[0]
            video = _video(values[2 : 2 + _VIDEO_WIDTH])
            if (found := credits.get(video.id)) is None:
                credits[video.id] = PersonCredit(
                    video, (role,), summary_from(values[2 + _VIDEO_WIDTH :])
                )
            elif role not in found.roles:
                credits[video.id] = PersonCredit(found.video, (*found.roles, role), found.score)
        return PersonPage(name=name, credits=list(credits.values()))

    async def top(self, guild_id: int, role: str, limit: int) -> PeopleTopList:
        statement = _TOP.get(role)
        if statement is None:
            raise ValueError(f"no ranking of {role!r}")
        row = await self.conn.fetchrow(
            statement, guild_id, NEUTRAL_MEAN, PRIOR_WEIGHT, MIN_RATINGS, limit
        )
        assert row is not None
        prior, ranked = row
        return PeopleTopList(
            role=role,
            entries=[
                RankedPerson(
                    name=name, videos=videos, count=count, mean=total / count, weighted=weighted
                )
                for name, videos, count, total, weighted in ranked
            ],
            prior_mean=prior,
            prior_weight=PRIOR_WEIGHT,
            min_ratings=MIN_RATINGS,
        )
