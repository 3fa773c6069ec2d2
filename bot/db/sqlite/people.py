"""Members' profiles (/profile, /taste) and credited people (/person, /top by:).

Each query reads one member's ratings or one server's rated videos, so they are offered on
read sessions only (off the event loop), but for the profile of a member with few ratings,
which the lookup session offers: batched onto a thread of its own."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import fields

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
    ScoreSummary,
    SharedRating,
    Take,
    Video,
)
from bot.db.sqlite.connections import Fetches, RunsInOneTrip, Statement
from bot.db.sqlite.rows import VIDEO_FIELDS, Named, read_into
from bot.db.text import fold

# The videos table's columns under their own names, for statements that join it.
_VIDEO = ", ".join(f"v.{name} AS {name}" for name in VIDEO_FIELDS)
_HISTOGRAM = ", ".join(f"s.s{k} AS s{k}" for k in range(1, 11))
# The highest code point: a prefix's range ends just before text that sorts after it.
_LAST = "\U0010ffff"
# Names credited as a video's director (any case): the WHERE of the index credits_of_directors
# (migration 0015), word for word, so that the index may serve it.
_DIRECTORS = f"c.kind = 'video' AND lower(c.role) = '{DIRECTOR_ROLE}'"
# A video and a take as JSON arrays of their dataclasses' fields, in order.
_VIDEO_ROW = ", ".join(f"v.{name}" for name in VIDEO_FIELDS)
_TAKE_ROW = ", ".join(f"t.{f.name}" for f in fields(Take))


def _person(name: str, videos: int, total: int) -> PersonScore:
    return PersonScore(name, videos, total / videos)


def _favourites(rated: str) -> str:
    """The people of `rated` (a statement of video_id, name, score) with at least
    FAVOURITE_MIN_VIDEOS videos, best mean first, as a JSON array of [name, videos, total]."""
    return (
        # The sum, not the mean: JSON keeps 15 digits of a real, the division is Python's.
        "SELECT json_group_array(json_array(name, videos, total)) FROM ("
        f"SELECT name, count(*) AS videos, sum(score) AS total, avg(score) AS mean "
        f"FROM ({rated}) GROUP BY name "
        f"HAVING count(*) >= {FAVOURITE_MIN_VIDEOS} ORDER BY mean DESC, videos DESC, name "
        f"LIMIT {FAVOURITES})"
    )


_MEMBER = "r.guild_id = :g AND r.user_id = :u"
# The member's favourite directors counted from their ratings, through the index of director
# credits (migration 0015), named so that the plan does not depend on whether the database
# was analysed. A person credited twice on one video (two director credits) counts it once.
_COUNTED_DIRECTORS = _favourites(
    "SELECT DISTINCT r.video_id, c.name AS name, r.score FROM ratings AS r "
    "JOIN credits AS c INDEXED BY credits_of_directors ON c.video_id = r.video_id "
    f"WHERE {_MEMBER} AND {_DIRECTORS}"
)
_COUNTED_ARTISTS = _favourites(
    "SELECT r.video_id, v.artist AS name, r.score FROM ratings AS r "
    f"JOIN videos AS v ON v.id = r.video_id WHERE {_MEMBER}"
)


def _tallied(role: str) -> str:
    """A tallied member's favourites of one role (member_people, migration 0016), in the
    order and shape `_favourites` gives: a read of their tallies, not of their ratings."""
    return (
        "SELECT json_group_array(json_array(name, videos, total)) FROM ("
        "SELECT name, videos, total FROM member_people "
        f"WHERE guild_id = :g AND user_id = :u AND role = '{role}' "
        f"AND videos >= {FAVOURITE_MIN_VIDEOS} "
        f"ORDER BY CAST(total AS REAL) / videos DESC, videos DESC, name LIMIT {FAVOURITES})"
    )


# How many ratings the member has in the server (0 for none).
_RATED = (
    "coalesce((SELECT count FROM member_rating_counts WHERE guild_id = :g AND user_id = :u), 0)"
)
# Tallies exist for a member past the bound; one within it is counted from the ratings (the
# cost of that is bounded by it). CASE evaluates only the branch it takes.
_FAVOURITES = (
    f"'directors', json(CASE WHEN {_RATED} > {TALLIED_PAST} THEN ({_tallied('director')}) "
    f"ELSE ({_COUNTED_DIRECTORS}) END), "
    f"'artists', json(CASE WHEN {_RATED} > {TALLIED_PAST} THEN ({_tallied('artist')}) "
    f"ELSE ({_COUNTED_ARTISTS}) END), "
)


def _profile_object(favourites: str) -> str:
    """The profile as one JSON object, with the favourites given: one statement, one trip to
    a reader's thread. Subqueries lose the JSON type of what they return: json() gives it
    back, so that json_object nests them instead of quoting them as text."""
    return (
        "json_object("
        "'scores', json((SELECT json_group_array(json_array(score, n)) FROM (SELECT score, "
        "count(*) AS n FROM ratings WHERE guild_id = :g AND user_id = :u GROUP BY score))), "
        "'server', json((SELECT json_array(count, total) FROM guild_scores "
        "WHERE guild_id = :g)), "
        "'hidden', (SELECT hide_ratings FROM member_settings "
        "WHERE guild_id = :g AND user_id = :u), "
        f"{favourites}"
        "'takes', (SELECT count(*) FROM takes WHERE guild_id = :g AND user_id = :u), "
        f"'best', json((SELECT json_array({_TAKE_ROW}, {_VIDEO_ROW}) FROM takes AS t "
        "JOIN videos AS v ON v.id = t.video_id WHERE t.guild_id = :g AND t.user_id = :u "
        "ORDER BY t.agree_count DESC, t.updated_at DESC, t.id DESC LIMIT 1)), "
        # The newest ratings are chosen from the ratings alone; only they are joined to
        # their videos (a video row per rating before the sort cost more than the rest).
        "'last', json((SELECT json_group_array(json(item)) FROM ("
        f"SELECT json_array(r.score, r.rated_at, {_VIDEO_ROW}) AS item FROM ("
        "SELECT video_id, score, rated_at FROM ratings WHERE guild_id = :g AND user_id = :u "
        "ORDER BY rated_at DESC, video_id DESC LIMIT :last) AS r "
        "JOIN videos AS v ON v.id = r.video_id ORDER BY r.rated_at DESC, r.video_id DESC))))"
    )


_PROFILE = f"SELECT {_profile_object(_FAVOURITES)}"
# The profile of a member with at most :most ratings, else NULL without reading it. Such a
# member's favourites are counted from their ratings (their count bounds the cost).
_COUNTED = f"'directors', json(({_COUNTED_DIRECTORS})), 'artists', json(({_COUNTED_ARTISTS})), "
_PROFILE_OF_FEW = (
    f"SELECT CASE WHEN {_RATED} > :most THEN NULL ELSE {_profile_object(_COUNTED)} END"
)


def _video(row: Named) -> Video:
    return read_into(Video, row)


def _summary(row: Named) -> ScoreSummary:
    if row["count"] is None:  # the server never rated it
        return ScoreSummary()
    return ScoreSummary(
        count=row["count"],
        total=row["total"],
        histogram=tuple(row[f"s{k}"] for k in range(1, 11)),
    )


def _profile_params(guild_id: int, user_id: int, last: int) -> dict[str, int]:
    return {"g": guild_id, "u": user_id, "last": last, "most": PROFILE_LOOKUP_MOST}


def _profile_from(rows: list[sqlite3.Row], user_id: int) -> MemberProfile | None:
    """The profile from its statement's one row; None when the statement gave none (too
    many ratings for a lookup)."""
    [row] = rows
    if row[0] is None:
        return None
    found = json.loads(row[0])
    counts = dict(found["scores"])
    server, best = found["server"], found["best"]
    return MemberProfile(
        user_id=user_id,
        hides_ratings=bool(found["hidden"]),
        histogram=tuple(counts.get(score, 0) for score in range(1, 11)),
        server_mean=server[1] / server[0] if server and server[0] else None,
        favourite_directors=[_person(*person) for person in found["directors"]],
        favourite_artists=[_person(*person) for person in found["artists"]],
        take_count=found["takes"],
        most_agreed=ProfileTake(Take(*best[:9]), Video(*best[9:])) if best else None,
        last_ratings=[RatedVideo(Video(*r[2:]), r[0], r[1]) for r in found["last"]],
    )


ProfileKey = tuple[int, int, int]  # guild, member, how many last ratings


class SQLiteProfileLookups:
    """Only a profile whose cost its rating count bounds, so that a batch is never held up
    by one large profile. Profiles asked for at the same moment are read in one round trip
    to the thread connection given (its own, see connections.py): at 200 interactions in
    flight the event loop no longer runs their statements."""

    def __init__(self, conn: RunsInOneTrip) -> None:
        self._conn = conn
        self._profiles = Coalescer[ProfileKey, MemberProfile](self._few)

    async def _few(self, keys: list[ProfileKey]) -> list[MemberProfile | None]:
        found = await self._conn.run_in_one_trip(
            [Statement(_PROFILE_OF_FEW, _profile_params(*key)) for key in keys]
        )
        return [
            _profile_from(rows, user_id) for (_, user_id, _), rows in zip(keys, found, strict=True)
        ]

    async def profile_of_few(
        self, guild_id: int, user_id: int, *, last: int = 5
    ) -> MemberProfile | None:
        # None: a member past PROFILE_LOOKUP_MOST ratings, whom a read session profiles.
        return await self._profiles.get_or_none((guild_id, user_id, last))


class SQLiteProfileReads:
    def __init__(self, conn: Fetches) -> None:
        self._conn = conn

    async def profile_of_few(
        self, guild_id: int, user_id: int, *, last: int = 5
    ) -> MemberProfile | None:
        rows = await self._conn.fetchall(_PROFILE_OF_FEW, _profile_params(guild_id, user_id, last))
        return _profile_from(rows, user_id)

    async def profile(self, guild_id: int, user_id: int, *, last: int = 5) -> MemberProfile:
        rows = await self._conn.fetchall(_PROFILE, {"g": guild_id, "u": user_id, "last": last})
        profile = _profile_from(rows, user_id)
        assert profile is not None  # the statement always gives one
        return profile

    async def shared(self, guild_id: int, first: int, second: int) -> list[SharedRating]:
        rows = await self._conn.fetchall(
            f"SELECT a.score AS first, b.score AS second, {_VIDEO} FROM ratings AS a "
            "JOIN ratings AS b ON b.guild_id = a.guild_id AND b.user_id = ? "
            "AND b.video_id = a.video_id "
            "JOIN videos AS v ON v.id = a.video_id "
            "WHERE a.guild_id = ? AND a.user_id = ? ORDER BY a.video_id",
            (second, guild_id, first),
        )
        return [SharedRating(_video(row), row["first"], row["second"]) for row in rows]


class SQLitePeopleReads:
    def __init__(self, conn: Fetches) -> None:
        self._conn = conn

    async def search(self, text: str, limit: int = 25) -> list[str]:
        query = fold(text)
        # Names starting with the text, in folded order: each source's range of its
        # (folded, name) index, stopping at `limit` names.
        rows = await self._conn.fetchall(
            "SELECT name FROM ("
            "SELECT * FROM (SELECT DISTINCT search_name AS folded, name FROM credits "
            "WHERE search_name >= :q AND search_name < :end ORDER BY folded, name LIMIT :n) "
            "UNION "
            "SELECT * FROM (SELECT DISTINCT search_artist AS folded, artist AS name FROM videos "
            "WHERE search_artist >= :q AND search_artist < :end ORDER BY folded, name LIMIT :n)"
            ") ORDER BY folded, name LIMIT :n",
            {"q": query, "end": query + _LAST, "n": limit},
        )
        names = _unique(row["name"] for row in rows)
        if len(names) < limit and query:
            # Then a later word starting with it ("lamar" finds Kendrick Lamar): a scan of
            # the names, which is why people are searched off the event loop.
            rows = await self._conn.fetchall(
                "SELECT name FROM ("
                "SELECT search_name AS folded, name FROM credits WHERE search_name LIKE :word "
                "UNION "
                "SELECT search_artist, artist FROM videos WHERE search_artist LIKE :word"
                ") ORDER BY folded, name LIMIT :n",
                {"word": f"% {query}%", "n": limit},
            )
            names = _unique([*names, *(row["name"] for row in rows)])
        return names[:limit]

    async def resolve(self, value: str) -> str | None:
        exact = await self._conn.fetchall(
            "SELECT name FROM credits WHERE name = :v UNION SELECT artist FROM videos "
            "WHERE artist = :v",
            {"v": value},
        )
        if exact:
            return str(exact[0]["name"])
        folded = fold(value)
        if not folded:
            return None
        rows = await self._conn.fetchall(
            "SELECT name FROM credits WHERE search_name = :f UNION "
            "SELECT artist FROM videos WHERE search_artist = :f ORDER BY name LIMIT 1",
            {"f": folded},
        )
        return str(rows[0]["name"]) if rows else None

    async def page(self, guild_id: int, name: str) -> PersonPage:
        rows = await self._conn.fetchall(
            f"SELECT c.role, c.kind, {_VIDEO}, s.count AS count, s.total AS total, {_HISTOGRAM} "
            "FROM (SELECT video_id, position, role, kind FROM credits WHERE name = :name "
            "UNION ALL SELECT id, -1, :artist, 'video' FROM videos WHERE artist = :name) AS c "
            "JOIN videos AS v ON v.id = c.video_id "
            "LEFT JOIN video_scores AS s ON s.guild_id = :guild AND s.video_id = v.id "
            "ORDER BY v.year IS NULL, v.year DESC, v.title, v.id, c.position",
            {"name": name, "artist": ARTIST_ROLE, "guild": guild_id},
        )
        credits: dict[int, PersonCredit] = {}
        for row in rows:
            role = f"{row['role']} (song)" if row["kind"] == SONG_CREDIT else row["role"]
            if (found := credits.get(row["id"])) is None:
                credits[row["id"]] = PersonCredit(_video(row), (role,), _summary(row))
            elif role not in found.roles:
                credits[row["id"]] = PersonCredit(found.video, (*found.roles, role), found.score)
        return PersonPage(name=name, credits=list(credits.values()))

    async def top(self, guild_id: int, role: str, limit: int) -> PeopleTopList:
        if role == "directors":
            # Each director's ratings are tallied (director_scores, migration 0017).
            people = (
                "SELECT name, videos, count, total FROM director_scores WHERE guild_id = :guild"
            )
        elif role == "artists":
            people = (
                "SELECT name, count(*) AS videos, sum(count) AS count, sum(total) AS total "
                "FROM (SELECT v.artist AS name, s.count, s.total "
                "FROM video_scores AS s JOIN videos AS v ON v.id = s.video_id "
                "WHERE s.guild_id = :guild AND s.count > 0) GROUP BY name"
            )
        else:
            raise ValueError(f"no ranking of {role!r}")
        rows = await self._conn.fetchall(
            # The prior is the server's mean, as /top's for videos.
            "WITH prior (m) AS (SELECT coalesce((SELECT CAST(total AS REAL) / count "
            "FROM guild_scores WHERE guild_id = :guild AND count > 0), :neutral)) "
            "SELECT name, videos, count, total, prior.m AS prior, "
            "(:weight * prior.m + total) / (:weight + count) AS weighted "
            f"FROM ({people}), prior WHERE count >= :least "
            "ORDER BY weighted DESC, count DESC, name LIMIT :limit",
            {
                "guild": guild_id,
                "neutral": NEUTRAL_MEAN,
                "weight": float(PRIOR_WEIGHT),
                "least": MIN_RATINGS,
                "limit": limit,
            },
        )
        if rows:
            prior = rows[0]["prior"]
        else:
            [row] = await self._conn.fetchall(
                "SELECT coalesce((SELECT CAST(total AS REAL) / count FROM guild_scores "
                "WHERE guild_id = ? AND count > 0), ?) AS m",
                (guild_id, NEUTRAL_MEAN),
            )
            prior = row["m"]
        return PeopleTopList(
            role=role,
            entries=[
                RankedPerson(
                    name=row["name"],
                    videos=row["videos"],
                    count=row["count"],
                    mean=row["total"] / row["count"],
                    weighted=row["weighted"],
                )
                for row in rows
            ],
            prior_mean=prior,
            prior_weight=PRIOR_WEIGHT,
            min_ratings=MIN_RATINGS,
        )


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
