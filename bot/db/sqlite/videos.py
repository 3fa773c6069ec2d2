"""Queries on the shared catalog: videos, their credits and press reviews, and video search."""

from __future__ import annotations

import json
from collections.abc import Iterable

from bot.db.matching import (
    SearchesByTyping,
    chosen_id,
    closest,
    exact_pick,
    gone,
    holds_every_word,
    rank_by_title_words,
    trigrams,
)
from bot.db.models import Credit, PressReview, Video, VideoDraft, VideoPage
from bot.db.sqlite import pages
from bot.db.sqlite.connections import Executes, Fetches
from bot.db.sqlite.quotes import SQLiteQuoteWrites
from bot.db.sqlite.rows import (
    VIDEO_FIELDS,
    as_json_array_of,
    json_models,
    read_into,
)
from bot.db.text import fold
from bot.errors import UserFacingError

_VIDEO_COLUMNS = ", ".join(VIDEO_FIELDS)
# The typo-tolerant pass ranks this many trigram candidates by similarity.
NEAR_MISS_CANDIDATES = 40
# Videos holding every long word of a query are read up to this many, then ranked.
ALL_WORDS_CANDIDATES = 100
_CREDITS_AND_SOURCES = """
SELECT
    (SELECT json_group_array(json_object('role', role, 'name', name, 'kind', kind)) FROM
        (SELECT role, name, kind FROM credits WHERE video_id = :video ORDER BY position))
        AS credits,
    (SELECT json_group_array(url) FROM
        (SELECT url FROM video_sources WHERE video_id = :video ORDER BY position)) AS sources
"""


def _every_word_match(words: list[str]) -> str:
    """A full-text query for the videos holding every word. A word of three letters or
    more is a trigram phrase of its own; a shorter one has no trigram, so it is sought
    together with a neighbour as typed ("we go" in "the examples we go"): the index then
    does all the narrowing, and many videos holding only the long words cannot crowd out
    the one holding them all."""
    terms = []
    for i, word in enumerate(words):
        if len(word) >= 3:
            terms.append(f'"{word}"')
        else:
            pairs = [f'"{words[j]} {words[j + 1]}"' for j in (i - 1, i) if 0 <= j < len(words) - 1]
            terms.append("(" + " OR ".join(pairs) + ")")
    return " AND ".join(terms)


def _trigram_query(folded: str) -> str:
    return " OR ".join(f'"{gram}"' for gram in trigrams(folded))


class SQLiteVideoLookups:
    """Bounded by the size of their answer: safe on the event loop's connection."""

    def __init__(self, conn: Fetches) -> None:
        self._conn = conn

    async def _fetch(self, sql: str, params: Iterable[object]) -> list[Video]:
        return [read_into(Video, row) for row in await self._conn.fetchall(sql, tuple(params))]

    async def _find(self, video_id: int) -> Video | None:
        found = await self._fetch(f"SELECT {_VIDEO_COLUMNS} FROM videos WHERE id = ?", (video_id,))
        return found[0] if found else None

    async def get(self, video_id: int) -> Video:
        video = await self._find(video_id)
        if video is None:
            raise gone()
        return video

    async def many(self, ids: list[int]) -> list[Video | None]:
        """Videos by id, in the order asked, None for an id that is not in the catalog."""
        videos = await json_models(
            self._conn,
            Video,
            as_json_array_of(
                Video,
                f"SELECT {_VIDEO_COLUMNS} FROM videos WHERE id IN (SELECT value FROM json_each(?))",
            ),
            (json.dumps(ids),),
        )
        found = {video.id: video for video in videos}
        return [found.get(i) for i in ids]

    async def get_by_slug(self, slug: str) -> Video | None:
        found = await self._fetch(f"SELECT {_VIDEO_COLUMNS} FROM videos WHERE slug = ?", (slug,))
        return found[0] if found else None

    async def page(self, guild_id: int, video_id: int, user_id: int | None = None) -> VideoPage:
        [found] = await pages.video_pages(self._conn, [(guild_id, video_id, user_id)])
        if found is None:
            raise gone()
        return found

    async def credits(self, video_id: int) -> list[Credit]:
        rows = await self._conn.fetchall(
            "SELECT role, name, kind FROM credits WHERE video_id = ? ORDER BY position",
            (video_id,),
        )
        return [read_into(Credit, row) for row in rows]

    async def sources(self, video_id: int) -> list[str]:
        """Links to the published pages that back the video's facts, in the catalog's order."""
        rows = await self._conn.fetchall(
            "SELECT url FROM video_sources WHERE video_id = ? ORDER BY position", (video_id,)
        )
        return [row["url"] for row in rows]

    async def credits_and_sources(self, video_id: int) -> tuple[list[Credit], list[str]]:
        """What /credits shows, read in one statement (one round trip, one snapshot)."""
        [row] = await self._conn.fetchall(_CREDITS_AND_SOURCES, {"video": video_id})
        credits = [read_into(Credit, c) for c in json.loads(row["credits"])]
        return credits, json.loads(row["sources"])

    async def reviews(self, video_id: int) -> list[PressReview]:
        rows = await self._conn.fetchall(
            "SELECT headline, summary, outlet, author, published_on, url FROM press_reviews "
            "WHERE video_id = ? ORDER BY position",
            (video_id,),
        )
        return [read_into(PressReview, row) for row in rows]

    async def search_as_typed(self, text: str, limit: int = 25) -> list[Video]:
        """Title prefix first, then substring, in one statement (a range scan of the
        search_title index and a trigram index lookup); then, if that leaves room, the
        videos holding every word typed, in any order."""
        query = fold(text)
        if not query:
            return await self._fetch(
                f"SELECT {_VIDEO_COLUMNS} FROM videos ORDER BY search_title LIMIT ?", (limit,)
            )
        prefix = (
            f"SELECT * FROM (SELECT {_VIDEO_COLUMNS} FROM videos WHERE search_title >= :q "
            "AND search_title < :end ORDER BY search_title LIMIT :limit)"
        )
        substring = (
            f"SELECT * FROM (SELECT {_VIDEO_COLUMNS} FROM videos WHERE id IN "
            "(SELECT rowid FROM video_search WHERE video_search MATCH :phrase LIMIT :limit) "
            "ORDER BY search_title)"
        )
        params: dict[str, object] = {
            "q": query,
            "end": query + "\U0010ffff",
            "limit": limit,
            "phrase": f'"{query}"',
        }
        sql = prefix if len(query) < 3 else f"{prefix} UNION ALL {substring}"
        found: dict[int, Video] = {}
        for video in await json_models(self._conn, Video, as_json_array_of(Video, sql), params):
            found.setdefault(video.id, video)
        words = query.split()
        long_words = [w for w in words if len(w) >= 3]
        if len(found) < limit and len(words) > 1 and long_words:
            # Artist and title words in any order ("kendrick lamar we cry"): the videos that
            # hold every word come next. The trigram index finds them, at most
            # ALL_WORDS_CANDIDATES per statement, so a lookup's cost stays bounded however
            # many videos share a common word: first with each short word beside a
            # neighbour as typed (see `_every_word_match`), then, if that leaves room and
            # some words are short, by the long words alone.
            queries = [_every_word_match(words)]
            if len(long_words) < len(words):
                queries.append(" AND ".join(f'"{w}"' for w in long_words))
            every_word: dict[int, Video] = {}
            for match in queries:
                if len(found) + len(every_word) >= limit:
                    break
                for video in await self._fetch(
                    f"SELECT {_VIDEO_COLUMNS} FROM videos WHERE id IN "
                    "(SELECT rowid FROM video_search WHERE video_search MATCH ? LIMIT ?)",
                    (match, ALL_WORDS_CANDIDATES),
                ):
                    if video.id not in found and holds_every_word(words, video):
                        every_word.setdefault(video.id, video)
            for video in sorted(every_word.values(), key=lambda v: rank_by_title_words(words, v)):
                found.setdefault(video.id, video)
        return list(found.values())[:limit]

    async def resolve_exactly(self, value: str) -> Video | None:
        """The video a member meant when the value is a choice's id or a whole title (with or
        without its artist): a few index lookups. None when only a search can tell."""
        if (video_id := chosen_id(value)) is not None:
            video = await self._find(video_id)
            if video is not None:
                return video
        query = fold(value)
        if not query:
            raise UserFacingError("Type a video title, or pick one from the list.")
        exact = await self._fetch(
            f"SELECT {_VIDEO_COLUMNS} FROM videos WHERE search_title = ? OR search_text = ? "
            "ORDER BY id LIMIT 10",
            (query, query),
        )
        return exact_pick(value, exact)

    async def same_title_and_artist(
        self, title: str, artist: str, *, other_than: int | None = None
    ) -> Video | None:
        """A video already called this, by this artist (compared as search folds them)."""
        found = await self._fetch(
            f"SELECT {_VIDEO_COLUMNS} FROM videos WHERE search_title = ? AND search_text = ? "
            "AND id IS NOT ? LIMIT 1",
            (fold(title), fold(f"{title} {artist}"), other_than),
        )
        return found[0] if found else None


class SQLiteVideoReads(SQLiteVideoLookups, SearchesByTyping):
    """Reads that scan or rank: off the event loop."""

    async def with_url(self, url: str) -> Video | None:
        found = await self._fetch(
            f"SELECT {_VIDEO_COLUMNS} FROM videos WHERE url = ? ORDER BY id LIMIT 1", (url,)
        )
        return found[0] if found else None

    async def draft(self, draft_id: int) -> VideoDraft | None:
        rows = await self._conn.fetchall(
            "SELECT id, url, facts, created_at FROM video_drafts WHERE id = ?", (draft_id,)
        )
        return read_into(VideoDraft, rows[0]) if rows else None

    async def count(self) -> int:
        [row] = await self._conn.fetchall("SELECT count(*) AS n FROM videos")
        return int(row["n"])

    async def all(self) -> list[Video]:
        return await self._fetch(f"SELECT {_VIDEO_COLUMNS} FROM videos ORDER BY id", ())

    async def links(self) -> dict[int, str]:
        rows = await self._conn.fetchall("SELECT id, url FROM videos WHERE url IS NOT NULL", ())
        return {row["id"]: row["url"] for row in rows}

    async def thumbnails(self) -> dict[int, str]:
        rows = await self._conn.fetchall(
            "SELECT id, thumbnail_url FROM videos WHERE thumbnail_url IS NOT NULL", ()
        )
        return {row["id"]: row["thumbnail_url"] for row in rows}

    async def all_sources(self) -> dict[int, list[str]]:
        rows = await self._conn.fetchall(
            "SELECT video_id, url FROM video_sources ORDER BY video_id, position", ()
        )
        found: dict[int, list[str]] = {}
        for row in rows:
            found.setdefault(row["video_id"], []).append(row["url"])
        return found

    async def near_misses(self, text: str, limit: int = 25) -> list[Video]:
        """Videos sharing the most trigrams with the text, best first: tolerates typos.
        Ranking runs over the trigram index and takes milliseconds, not microseconds."""
        folded = fold(text)
        if len(folded) < 3:
            return []
        candidates = await self._fetch(
            f"SELECT {_VIDEO_COLUMNS} FROM videos WHERE id IN "
            "(SELECT rowid FROM video_search WHERE video_search MATCH ? ORDER BY rank LIMIT ?)",
            (_trigram_query(folded), NEAR_MISS_CANDIDATES),
        )
        return closest(folded, candidates, limit)


class SQLiteVideoWrites(SQLiteVideoReads):
    """The catalog's writes, inside the writer's transaction."""

    def __init__(self, conn: Executes) -> None:
        super().__init__(conn)
        self._writer = conn

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
        [row] = await self._writer.fetchall(
            "INSERT INTO videos (slug, title, artist, album, year, url, search_title, search_text, "
            "search_artist) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (slug) DO UPDATE SET title = excluded.title, artist = excluded.artist, "
            "album = excluded.album, year = excluded.year, url = excluded.url, "
            "search_title = excluded.search_title, search_text = excluded.search_text, "
            "search_artist = excluded.search_artist "
            "RETURNING id",
            (
                slug,
                title,
                artist,
                album,
                year,
                url,
                fold(title),
                fold(f"{title} {artist}"),
                fold(artist),
            ),
        )
        return int(row["id"])

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
        await self._writer.execute(
            "UPDATE videos SET thumbnail_url = ? WHERE id = ?", (thumbnail_url, video_id)
        )

    async def replace_credits(self, video_id: int, credits: list[Credit]) -> None:
        await self._writer.execute("DELETE FROM credits WHERE video_id = ?", (video_id,))
        await self._writer.executemany(
            "INSERT INTO credits (video_id, position, role, name, kind, search_name) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(video_id, i, c.role, c.name, c.kind, fold(c.name)) for i, c in enumerate(credits)],
        )

    async def fold_names(self) -> int:
        credits = await self._writer.fetchall(
            "SELECT video_id, position, name FROM credits WHERE search_name IS NULL"
        )
        await self._writer.executemany(
            "UPDATE credits SET search_name = ? WHERE video_id = ? AND position = ?",
            [(fold(c["name"]), c["video_id"], c["position"]) for c in credits],
        )
        videos = await self._writer.fetchall(
            "SELECT id, artist FROM videos WHERE search_artist IS NULL"
        )
        await self._writer.executemany(
            "UPDATE videos SET search_artist = ? WHERE id = ?",
            [(fold(v["artist"]), v["id"]) for v in videos],
        )
        return len(credits) + len(videos)

    async def replace_sources(self, video_id: int, sources: list[str]) -> None:
        await self._writer.execute("DELETE FROM video_sources WHERE video_id = ?", (video_id,))
        await self._writer.executemany(
            "INSERT INTO video_sources (video_id, position, url) VALUES (?, ?, ?)",
            [(video_id, i, url) for i, url in enumerate(sources)],
        )

    async def replace_reviews(self, video_id: int, reviews: list[PressReview]) -> None:
        await self._writer.execute("DELETE FROM press_reviews WHERE video_id = ?", (video_id,))
        await self._writer.executemany(
            "INSERT INTO press_reviews (video_id, position, outlet, headline, author, "
            "published_on, url, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (video_id, i, r.outlet, r.headline, r.author, r.published_on, r.url, r.summary)
                for i, r in enumerate(reviews)
            ],
        )

    async def add_review(self, video_id: int, review: PressReview) -> None:
        reviews = await self.reviews(video_id)
        await self.replace_reviews(video_id, [*reviews, review])

    async def remove_everywhere(self, video_id: int) -> dict[str, int]:
        """Remove a video with everything every server said about it. Aggregates follow."""
        counts: dict[str, int] = {}
        for table in ("ratings", "takes"):
            deleted = await self._writer.fetchall(
                f"DELETE FROM {table} WHERE video_id = ? RETURNING 1", (video_id,)
            )
            counts[table] = len(deleted)
        rows = await self._writer.fetchall("SELECT id FROM quotes WHERE video_id = ?", (video_id,))
        quotes = SQLiteQuoteWrites(self._writer)
        for row in rows:
            await quotes.remove(int(row["id"]))
        counts["quotes"] = len(rows)
        # Its credits, press reviews and sources go with it (ON DELETE CASCADE).
        await self._writer.execute("DELETE FROM videos WHERE id = ?", (video_id,))
        return counts

    async def save_draft(self, *, url: str, facts: str, now: int, keep_for: int) -> int:
        await self._writer.execute(
            "DELETE FROM video_drafts WHERE created_at < ?", (now - keep_for,)
        )
        [row] = await self._writer.fetchall(
            "INSERT INTO video_drafts (url, facts, created_at) VALUES (?, ?, ?) RETURNING id",
            (url, facts, now),
        )
        return int(row["id"])
