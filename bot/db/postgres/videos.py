"""Queries on the shared catalog: videos, their credits and press reviews, and video search.

Search runs on the folded columns (bot/db/text.py): a title prefix is one range of the
search_title index (byte order, COLLATE "C"); "holds this text" and "holds every word" are
LIKE patterns answered by the pg_trgm GIN index. Search as typed is one statement that
gives SQLite's answer, order included. Near misses (typos) are the videos nearest by
trigram word distance, read in order from the GiST index, which serves nothing else. Which
candidate a member meant is decided in bot/db/matching.py, as for every engine.
"""

from __future__ import annotations

import functools
import itertools

from bot.db.matching import (
    SearchesByTyping,
    chosen_id,
    closest,
    exact_pick,
    gone,
    trigrams,
)
from bot.db.models import Credit, PressReview, Video, VideoDraft, VideoPage
from bot.db.postgres import pages
from bot.db.postgres.connections import Executes, Queries
from bot.db.postgres.locks import Kind, Locks
from bot.db.postgres.quotes import PostgresQuoteWrites
from bot.db.postgres.rows import CREDIT, REVIEW, VIDEO
from bot.db.text import fold
from bot.errors import UserFacingError

# The typo-tolerant pass ranks this many trigram neighbours by similarity.
NEAR_MISS_CANDIDATES = 40
# Videos holding every long word of a query are read up to this many, then ranked.
ALL_WORDS_CANDIDATES = 100
# What the search's parts carry of each video: enough to rank it without reading it again.
_KEYS = "id, search_title, search_text"
# Where a search's part may find many videos, it first walks this many (twice as many for
# the every-word candidates) before it asks the trigram index: see `_first_by_id`.
WALK = 1000
# The highest code point: every string starting with a prefix sorts below prefix + this.
_LAST = "\U0010ffff"
_CREDITS_AND_SOURCES = f"""
SELECT ARRAY(SELECT ({CREDIT}) FROM credits WHERE video_id = $1 ORDER BY position),
       ARRAY(SELECT url FROM video_sources WHERE video_id = $1 ORDER BY position)
"""


def holding(text: str) -> str:
    """A LIKE pattern for text anywhere in a value."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _pairs_at(i: int, count: int) -> list[int]:
    """Where the pairs of neighbouring words holding word i start, among `count` words."""
    return [j for j in (i - 1, i) if 0 <= j < count - 1]


def _first_by_id(name: str, condition: str, count: str, gate: str, walk: int = 0) -> str:
    """Common table expressions naming `name` the first `count` videos, by id, that meet
    `condition`, read only when `gate` holds. The trigram index finds every video that
    meets it, and the first are kept: quick where they are few. Where they may be many (a
    single word), a walk of the primary key first tries the first `walk` videos, stopping
    at the last one it needs; the index is read only when that falls short. So neither
    reads the whole table, whatever plan the server keeps for the statement."""
    walked = ""
    if walk:
        found = f"(SELECT count(*) FROM {name}_early)"
        walked = (
            f"{name}_early AS (SELECT {_KEYS} FROM (SELECT {_KEYS} FROM videos ORDER BY id "
            f"LIMIT {walk}) AS v WHERE {gate} AND {condition} LIMIT {count}), "
        )
        gate = f"{gate} AND {found} < {count}"
    return (
        f"{walked}{name}_all AS MATERIALIZED (SELECT {_KEYS} FROM videos WHERE {gate} "
        f"AND {condition}), {name} AS ("
        + (f"SELECT * FROM {name}_early WHERE {found} >= {count} UNION ALL " if walk else "")
        + f"(SELECT * FROM {name}_all ORDER BY id LIMIT {count}))"
    )


@functools.cache
def _as_typed_statement(substring: bool, one_word: bool, long_word_at: tuple[bool, ...]) -> str:
    """The whole as-typed search in one statement (one round trip): for text of three
    letters or more when `substring`, of one word when `one_word`; for several words, each
    long or short as `long_word_at` says, when that is not empty.

    $1 is the folded text, $2 the end of its prefix range, $3 the limit; then the text's
    LIKE pattern; then the words, each long word's pattern, and each short word's patterns
    with a neighbour. The answer is the one SQLite's passes give (bot/db/sqlite/videos.py):
    titles starting with the text, in title order; then the first $3 videos (by id)
    holding the text, in title order; then, while there is room, the videos holding every
    word: those among the first 100 (by id) holding each long word and each short word
    beside a neighbour; then, if that leaves room, those among the first 100 holding the
    long words. They are ranked by how many of the words their title holds, then by title.
    A part is read only when the parts before it leave room."""
    limit, every_limit = "$3", str(ALL_WORDS_CANDIDATES)
    parts = [
        "starting AS (SELECT id, row_number() OVER (ORDER BY search_title, id) AS place "
        "FROM (SELECT id, search_title FROM videos WHERE search_title >= $1 "
        f"AND search_title < $2 ORDER BY search_title, id LIMIT {limit}) AS s)"
    ]
    holding = ""
    if substring:
        parts.append(
            _first_by_id("holding", "search_text LIKE $4", limit, "true", WALK if one_word else 0)
        )
        holding = (
            f" UNION ALL SELECT id, {limit} + row_number() OVER (ORDER BY search_title, id) "
            "FROM holding"
        )
    parts.append(
        "found AS (SELECT id, min(place) AS place FROM "
        f"(SELECT * FROM starting{holding}) AS f GROUP BY id)"
    )
    if not long_word_at:
        return (
            f"WITH {', '.join(parts)} SELECT {VIDEO} FROM (SELECT * FROM found ORDER BY place "
            f"LIMIT {limit}) AS chosen JOIN videos USING (id) ORDER BY place"
        )
    first = 5 if substring else 4
    words = f"${first}::text[]"
    numbers = itertools.count(first + 1)
    longs = [f"search_text LIKE ${next(numbers)}" for is_long in long_word_at if is_long]
    short = [i for i, is_long in enumerate(long_word_at) if not is_long]
    beside = [
        " OR ".join(f"search_text LIKE ${next(numbers)}" for _ in _pairs_at(i, len(long_word_at)))
        for i in short
    ]
    room = "(SELECT count(*) FROM found)"
    parts += [
        _first_by_id(
            "first_pass",
            " AND ".join(longs + [f"({either})" for either in beside]),
            every_limit,
            f"{room} < {limit}",
        ),
        "first_new AS (SELECT *, 1 AS pass FROM first_pass WHERE id NOT IN (SELECT id FROM found))",
    ]
    every = "SELECT * FROM first_new"
    if short:
        parts += [
            _first_by_id(
                "second_pass",
                " AND ".join(longs),
                every_limit,
                f"{room} + (SELECT count(*) FROM first_new) < {limit}",
                2 * WALK if len(longs) == 1 else 0,
            ),
            f"second_new AS (SELECT *, 2 AS pass FROM second_pass WHERE NOT EXISTS "
            f"(SELECT FROM unnest({words}) AS w WHERE strpos(search_text, w) = 0) "
            "AND id NOT IN (SELECT id FROM found) AND id NOT IN (SELECT id FROM first_pass))",
        ]
        every += " UNION ALL SELECT * FROM second_new"
    parts.append(
        f"ranked AS (SELECT id, place FROM found UNION ALL SELECT id, 2 * {limit} + "
        f"row_number() OVER (ORDER BY (SELECT count(*) FROM unnest({words}) AS w "
        f"WHERE strpos(search_title, w) > 0) DESC, search_title, pass, id) FROM ({every}) AS e)"
    )
    return (
        f"WITH {', '.join(parts)} SELECT {VIDEO} FROM (SELECT * FROM ranked ORDER BY place "
        f"LIMIT {limit}) AS chosen JOIN videos USING (id) ORDER BY place"
    )


class PostgresVideoLookups:
    """Bounded by the size of their answer."""

    def __init__(self, conn: Queries) -> None:
        self.conn = conn

    async def _fetch(self, sql: str, *args: object) -> list[Video]:
        return [Video(*row) for row in await self.conn.fetch(sql, *args)]

    async def _find(self, video_id: int) -> Video | None:
        row = await self.conn.fetchrow(f"SELECT {VIDEO} FROM videos WHERE id = $1", video_id)
        return Video(*row) if row is not None else None

    async def get(self, video_id: int) -> Video:
        video = await self._find(video_id)
        if video is None:
            raise gone()
        return video

    async def many(self, ids: list[int]) -> list[Video | None]:
        """Videos by id, in the order asked, None for an id that is not in the catalog."""
        videos = await self._fetch(f"SELECT {VIDEO} FROM videos WHERE id = ANY($1::bigint[])", ids)
        found = {video.id: video for video in videos}
        return [found.get(i) for i in ids]

    async def get_by_slug(self, slug: str) -> Video | None:
        row = await self.conn.fetchrow(f"SELECT {VIDEO} FROM videos WHERE slug = $1", slug)
        return Video(*row) if row is not None else None

    async def page(self, guild_id: int, video_id: int, user_id: int | None = None) -> VideoPage:
        [found] = await pages.video_pages(self.conn, [(guild_id, video_id, user_id)])
        if found is None:
            raise gone()
        return found

    async def credits(self, video_id: int) -> list[Credit]:
        rows = await self.conn.fetch(
            f"SELECT {CREDIT} FROM credits WHERE video_id = $1 ORDER BY position", video_id
        )
        return [Credit(*row) for row in rows]

    async def sources(self, video_id: int) -> list[str]:
        rows = await self.conn.fetch(
            "SELECT url FROM video_sources WHERE video_id = $1 ORDER BY position", video_id
        )
        return [row[0] for row in rows]

    async def credits_and_sources(self, video_id: int) -> tuple[list[Credit], list[str]]:
        """What /credits shows, read in one statement (one round trip, one snapshot)."""
        row = await self.conn.fetchrow(_CREDITS_AND_SOURCES, video_id)
        assert row is not None
        return [Credit(*c) for c in row[0]], list(row[1])

    async def reviews(self, video_id: int) -> list[PressReview]:
        rows = await self.conn.fetch(
            f"SELECT {REVIEW} FROM press_reviews WHERE video_id = $1 ORDER BY position", video_id
        )
        return [PressReview(*row) for row in rows]

    async def search_as_typed(self, text: str, limit: int = 25) -> list[Video]:
        """Title prefix first, then substring, then the videos holding every word typed, in
        any order: one statement, so one round trip (see `_as_typed_statement`)."""
        query = fold(text)
        if not query:
            return await self._fetch(
                f"SELECT {VIDEO} FROM videos ORDER BY search_title, id LIMIT $1", limit
            )
        words = query.split()
        long_words = [w for w in words if len(w) >= 3]
        args: list[object] = [query, query + _LAST, limit]
        if len(query) >= 3:
            args.append(holding(query))
        long_word_at: tuple[bool, ...] = ()
        if len(words) > 1 and long_words:
            long_word_at = tuple(len(w) >= 3 for w in words)
            args += [words, *(holding(w) for w in long_words)]
            args += [
                holding(f"{words[j]} {words[j + 1]}")
                for i, is_long in enumerate(long_word_at)
                if not is_long
                for j in _pairs_at(i, len(words))
            ]
        statement = _as_typed_statement(len(query) >= 3, len(words) == 1, long_word_at)
        return await self._fetch(statement, *args)

    async def resolve_exactly(self, value: str) -> Video | None:
        """The video a member meant when the value is a choice's id or a whole title (with or
        without its artist): a few index lookups. None when only a search can tell."""
        choice = chosen_id(value)
        if choice is not None:
            video = await self._find(choice)
            if video is not None:
                return video
        query = fold(value.strip())
        if not query:
            raise UserFacingError("Type a video title, or pick one from the list.")
        exact = await self._fetch(
            f"SELECT {VIDEO} FROM videos WHERE search_title = $1 OR search_text = $1 "
            "ORDER BY id LIMIT 10",
            query,
        )
        return exact_pick(value, exact)

    async def same_title_and_artist(
        self, title: str, artist: str, *, other_than: int | None = None
    ) -> Video | None:
        """A video already called this, by this artist (compared as search folds them)."""
        row = await self.conn.fetchrow(
            f"SELECT {VIDEO} FROM videos WHERE search_title = $1 AND search_text = $2 "
            "AND id IS DISTINCT FROM $3::bigint LIMIT 1",
            fold(title),
            fold(f"{title} {artist}"),
            other_than,
        )
        return Video(*row) if row is not None else None


class PostgresVideoReads(PostgresVideoLookups, SearchesByTyping):
    """Reads that scan or rank."""

    async def with_url(self, url: str) -> Video | None:
        row = await self.conn.fetchrow(
            f"SELECT {VIDEO} FROM videos WHERE url = $1 ORDER BY id LIMIT 1", url
        )
        return Video(*row) if row is not None else None

    async def draft(self, draft_id: int) -> VideoDraft | None:
        row = await self.conn.fetchrow(
            "SELECT id, url, facts, created_at FROM video_drafts WHERE id = $1", draft_id
        )
        return VideoDraft(*row) if row is not None else None

    async def count(self) -> int:
        return int(await self.conn.fetchval("SELECT count(*) FROM videos"))

    async def all(self) -> list[Video]:
        return await self._fetch(f"SELECT {VIDEO} FROM videos ORDER BY id")

    async def links(self) -> dict[int, str]:
        rows = await self.conn.fetch("SELECT id, url FROM videos WHERE url IS NOT NULL")
        return {row[0]: row[1] for row in rows}

    async def thumbnails(self) -> dict[int, str]:
        rows = await self.conn.fetch(
            "SELECT id, thumbnail_url FROM videos WHERE thumbnail_url IS NOT NULL"
        )
        return {row[0]: row[1] for row in rows}

    async def all_sources(self) -> dict[int, list[str]]:
        rows = await self.conn.fetch(
            "SELECT video_id, url FROM video_sources ORDER BY video_id, position"
        )
        found: dict[int, list[str]] = {}
        for video_id, url in rows:
            found.setdefault(video_id, []).append(url)
        return found

    async def near_misses(self, text: str, limit: int = 25) -> list[Video]:
        """Among the videos sharing three characters in a row with the text, those nearest
        it by trigram word distance (the GiST index reads them in that order), ranked again
        by similarity: tolerates typos. `search_text <> ''` is the GiST index's own
        condition (migration 0003), which lets this query, and no other, use it."""
        folded = fold(text)
        if len(folded) < 3:
            return []
        candidates = await self._fetch(
            f"SELECT {VIDEO} FROM videos WHERE search_text <> '' "
            "AND search_text LIKE ANY($2::text[]) ORDER BY search_text <->> $1 LIMIT $3",
            folded,
            [holding(gram) for gram in trigrams(folded)],
            NEAR_MISS_CANDIDATES,
        )
        return closest(folded, candidates, limit)


class PostgresVideoWrites(PostgresVideoReads):
    """The catalog's writes. The connection it is given takes the catalog lock before its
    first statement, so catalog edits take turns: a free slug, or "no video has this title
    yet", stays true until the edit that read it commits."""

    def __init__(self, conn: Executes, locks: Locks, quotes: PostgresQuoteWrites) -> None:
        super().__init__(conn)
        self.writer = conn
        self.locks = locks
        self.quotes = quotes

    async def upsert(
        self,
        *,
        slug: str,
        title: str,
        artist: str,
        album: str | None,
        year: int | None,
        url: str | None,
    ) -> int:
        return int(
            await self.writer.fetchval(
                "INSERT INTO videos (slug, title, artist, album, year, url, search_title, "
                "search_text, search_artist) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                "ON CONFLICT (slug) DO UPDATE SET title = excluded.title, "
                "artist = excluded.artist, album = excluded.album, year = excluded.year, "
                "url = excluded.url, search_title = excluded.search_title, "
                "search_text = excluded.search_text, search_artist = excluded.search_artist "
                "RETURNING id",
                slug,
                title,
                artist,
                album,
                year,
                url,
                fold(title),
                fold(f"{title} {artist}"),
                fold(artist),
            )
        )

    async def slug_for(self, artist: str, title: str) -> str:
        """A new, unused slug made from the artist and title."""
        # Folded words keep the letters of every script; a title of emoji alone has none.
        base = "-".join(fold(f"{artist} {title}").split())[:80].strip("-")
        slug, n = base or "video", 1
        while await self.get_by_slug(slug) is not None:
            n += 1
            slug = f"{base or 'video'}-{n}"
        return slug

    async def set_thumbnail(self, video_id: int, thumbnail_url: str | None) -> None:
        await self.writer.execute(
            "UPDATE videos SET thumbnail_url = $2 WHERE id = $1", video_id, thumbnail_url
        )

    async def replace_credits(self, video_id: int, credits: list[Credit]) -> None:
        await self.writer.execute("DELETE FROM credits WHERE video_id = $1", video_id)
        await self.writer.execute(
            "INSERT INTO credits (video_id, position, role, name, kind, search_name) "
            "SELECT $1, position - 1, role, name, kind, search_name "
            "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY "
            "AS c (role, name, kind, search_name, position)",
            video_id,
            [c.role for c in credits],
            [c.name for c in credits],
            [c.kind for c in credits],
            [fold(c.name) for c in credits],
        )

    async def fold_names(self) -> int:
        credits = await self.writer.fetch(
            "SELECT video_id, position, name FROM credits WHERE search_name IS NULL"
        )
        if credits:
            await self.writer.execute(
                "UPDATE credits AS c SET search_name = f.search_name "
                "FROM unnest($1::bigint[], $2::integer[], $3::text[]) "
                "AS f (video_id, position, search_name) "
                "WHERE c.video_id = f.video_id AND c.position = f.position",
                [c["video_id"] for c in credits],
                [c["position"] for c in credits],
                [fold(c["name"]) for c in credits],
            )
        videos = await self.writer.fetch(
            "SELECT id, artist FROM videos WHERE search_artist IS NULL"
        )
        # Only when there are some: the statement alone moves the catalog's version, which
        # has every process drop the videos it keeps.
        if videos:
            await self.writer.execute(
                "UPDATE videos AS v SET search_artist = f.search_artist "
                "FROM unnest($1::bigint[], $2::text[]) AS f (id, search_artist) WHERE v.id = f.id",
                [v["id"] for v in videos],
                [fold(v["artist"]) for v in videos],
            )
        return len(credits) + len(videos)

    async def replace_sources(self, video_id: int, sources: list[str]) -> None:
        await self.writer.execute("DELETE FROM video_sources WHERE video_id = $1", video_id)
        await self.writer.execute(
            "INSERT INTO video_sources (video_id, position, url) SELECT $1, position - 1, url "
            "FROM unnest($2::text[]) WITH ORDINALITY AS s (url, position)",
            video_id,
            sources,
        )

    async def replace_reviews(self, video_id: int, reviews: list[PressReview]) -> None:
        await self.writer.execute("DELETE FROM press_reviews WHERE video_id = $1", video_id)
        await self.writer.execute(
            f"INSERT INTO press_reviews (video_id, position, {REVIEW}) "
            f"SELECT $1, position - 1, {REVIEW} FROM unnest($2::text[], $3::text[], "
            "$4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY "
            f"AS r ({REVIEW}, position)",
            video_id,
            [r.headline for r in reviews],
            [r.summary for r in reviews],
            [r.outlet for r in reviews],
            [r.author for r in reviews],
            [r.published_on for r in reviews],
            [r.url for r in reviews],
        )

    async def add_review(self, video_id: int, review: PressReview) -> None:
        reviews = await self.reviews(video_id)
        await self.replace_reviews(video_id, [*reviews, review])

    async def remove_everywhere(self, video_id: int) -> dict[str, int]:
        """Remove a video with everything every server said about it. Aggregates follow."""
        # The video's row first: a rating, take or quote that another process writes now
        # checks its key against this row, so it waits, then finds the video gone. Without
        # the lock one could commit between the deletes below and the video's, and the
        # last delete would fail on its key.
        await self.writer.execute("SELECT 1 FROM videos WHERE id = $1 FOR UPDATE", video_id)
        counts: dict[str, int] = {}
        for table in ("ratings", "takes"):
            counts[table] = int(
                await self.writer.fetchval(
                    f"WITH gone AS (DELETE FROM {table} WHERE video_id = $1 RETURNING 1) "
                    "SELECT count(*) FROM gone",
                    video_id,
                )
            )
        rows = await self.writer.fetch(
            "SELECT id, guild_id FROM quotes WHERE video_id = $1", video_id
        )
        # Every server's quote slots (and daily cycle) this touches, locked in one order.
        guilds = [row[1] for row in rows]
        await self.locks.hold_all(Kind.QUOTES, guilds)
        await self.locks.hold_all(Kind.DAILY, guilds)
        for row in rows:
            await self.quotes.remove(row[0])
        counts["quotes"] = len(rows)
        # Its credits, press reviews and sources go with it (ON DELETE CASCADE).
        await self.writer.execute("DELETE FROM videos WHERE id = $1", video_id)
        return counts

    async def save_draft(self, *, url: str, facts: str, now: int, keep_for: int) -> int:
        await self.writer.execute("DELETE FROM video_drafts WHERE created_at < $1", now - keep_for)
        return int(
            await self.writer.fetchval(
                "INSERT INTO video_drafts (url, facts, created_at) VALUES ($1, $2, $3) "
                "RETURNING id",
                url,
                facts,
                now,
            )
        )
