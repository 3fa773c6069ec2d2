"""Members' profiles (/profile, /taste) and credited people (/person, /top by:).

Each query reads one member's ratings or one server's rated videos, so they are offered on
read sessions only (off the event loop)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.db.models import (
    DIRECTOR_ROLE,
    FAVOURITE_MIN_VIDEOS,
    MIN_RATINGS,
    NEUTRAL_MEAN,
    PRIOR_WEIGHT,
    SONG_CREDIT,
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
from bot.db.sqlite.connections import Fetches
from bot.db.sqlite.rows import VIDEO_FIELDS, Named, read_into
from bot.db.text import fold

# The videos table's columns under their own names, for statements that join it.
_VIDEO = ", ".join(f"v.{name} AS {name}" for name in VIDEO_FIELDS)
_HISTOGRAM = ", ".join(f"s.s{k} AS s{k}" for k in range(1, 11))
# The highest code point: a prefix's range ends just before text that sorts after it.
_LAST = "\U0010ffff"
# How many favourite directors and artists /profile lists.
FAVOURITES = 3
# Names credited as a video's director (any case); what the video's artist is called.
_DIRECTORS = f"c.kind = 'video' AND lower(c.role) = '{DIRECTOR_ROLE}'"
ARTIST_ROLE = "Artist"


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


class SQLiteProfileReads:
    def __init__(self, conn: Fetches) -> None:
        self._conn = conn

    async def profile(self, guild_id: int, user_id: int, *, last: int = 5) -> MemberProfile:
        member = (guild_id, user_id)
        counts = {
            row["score"]: row["n"]
            for row in await self._conn.fetchall(
                "SELECT score, count(*) AS n FROM ratings WHERE guild_id = ? AND user_id = ? "
                "GROUP BY score",
                member,
            )
        }
        server = await self._conn.fetchall(
            "SELECT count, total FROM guild_scores WHERE guild_id = ?", (guild_id,)
        )
        settings = await self._conn.fetchall(
            "SELECT hide_ratings FROM member_settings WHERE guild_id = ? AND user_id = ?", member
        )
        # A person credited twice on one video (two director credits) counts that video once.
        directors = await self._favourites(
            "SELECT DISTINCT r.video_id, c.name AS name, r.score FROM ratings AS r "
            "JOIN credits AS c ON c.video_id = r.video_id "
            f"WHERE r.guild_id = ? AND r.user_id = ? AND {_DIRECTORS}",
            member,
        )
        artists = await self._favourites(
            "SELECT r.video_id, v.artist AS name, r.score FROM ratings AS r "
            "JOIN videos AS v ON v.id = r.video_id WHERE r.guild_id = ? AND r.user_id = ?",
            member,
        )
        [takes] = await self._conn.fetchall(
            "SELECT count(*) AS n FROM takes WHERE guild_id = ? AND user_id = ?", member
        )
        best = await self._conn.fetchall(
            f"SELECT t.*, {_VIDEO} FROM takes AS t JOIN videos AS v ON v.id = t.video_id "
            "WHERE t.guild_id = ? AND t.user_id = ? "
            "ORDER BY t.agree_count DESC, t.updated_at DESC, t.id DESC LIMIT 1",
            member,
        )
        newest = await self._conn.fetchall(
            f"SELECT r.score, r.rated_at, {_VIDEO} FROM ratings AS r "
            "JOIN videos AS v ON v.id = r.video_id WHERE r.guild_id = ? AND r.user_id = ? "
            "ORDER BY r.rated_at DESC, r.video_id DESC LIMIT ?",
            (*member, last),
        )
        return MemberProfile(
            user_id=user_id,
            hides_ratings=bool(settings and settings[0]["hide_ratings"]),
            histogram=tuple(counts.get(score, 0) for score in range(1, 11)),
            server_mean=server[0]["total"] / server[0]["count"]
            if server and server[0]["count"]
            else None,
            favourite_directors=directors,
            favourite_artists=artists,
            take_count=takes["n"],
            most_agreed=ProfileTake(_take(best[0], user_id), _video(best[0])) if best else None,
            last_ratings=[RatedVideo(_video(r), r["score"], r["rated_at"]) for r in newest],
        )

    async def _favourites(self, rated: str, params: tuple[int, int]) -> list[PersonScore]:
        """The people of `rated` (a statement of video_id, name, score) with at least
        FAVOURITE_MIN_VIDEOS videos, best mean first."""
        rows = await self._conn.fetchall(
            f"SELECT name, count(*) AS videos, avg(score) AS mean FROM ({rated}) "
            "GROUP BY name HAVING count(*) >= ? ORDER BY mean DESC, videos DESC, name LIMIT ?",
            (*params, FAVOURITE_MIN_VIDEOS, FAVOURITES),
        )
        return [PersonScore(row["name"], row["videos"], row["mean"]) for row in rows]

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


def _take(row: Named, user_id: int) -> Take:
    return Take(
        id=row["id"],
        guild_id=row["guild_id"],
        video_id=row["video_id"],
        user_id=user_id,
        score=row["score"],
        text=row["text"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        agree_count=row["agree_count"],
    )


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
            credited = (
                "SELECT DISTINCT s.video_id, c.name AS name, s.count, s.total "
                "FROM video_scores AS s JOIN credits AS c ON c.video_id = s.video_id "
                f"WHERE s.guild_id = :guild AND s.count > 0 AND {_DIRECTORS}"
            )
        elif role == "artists":
            credited = (
                "SELECT s.video_id, v.artist AS name, s.count, s.total "
                "FROM video_scores AS s JOIN videos AS v ON v.id = s.video_id "
                "WHERE s.guild_id = :guild AND s.count > 0"
            )
        else:
            raise ValueError(f"no ranking of {role!r}")
        rows = await self._conn.fetchall(
            # The prior is the server's mean, as /top's for videos.
            "WITH prior (m) AS (SELECT coalesce((SELECT CAST(total AS REAL) / count "
            "FROM guild_scores WHERE guild_id = :guild AND count > 0), :neutral)), "
            f"people AS (SELECT name, count(*) AS videos, sum(count) AS count, "
            f"sum(total) AS total FROM ({credited}) GROUP BY name HAVING sum(count) >= :least) "
            "SELECT name, videos, count, total, prior.m AS prior, "
            "(:weight * prior.m + total) / (:weight + count) AS weighted FROM people, prior "
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
