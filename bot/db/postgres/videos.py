"""Queries on the shared catalog: videos, their credits and press reviews, and video search.

Search runs on the folded columns (bot/db/text.py): a title prefix is one range of the
search_title index (byte order, COLLATE "C"); "holds this text" and "holds every word" are
LIKE patterns answered by the pg_trgm GIN index; near misses (typos) are the videos
nearest by trigram word distance, read in order from the GiST index. Which candidate a
member meant is decided in bot/db/matching.py, as for every engine.
"""

from __future__ import annotations

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
# The highest code point: every string starting with a prefix sorts below prefix + this.
_LAST = "\U0010ffff"
# Title prefix first, then (for three letters or more) titles holding the text: `part`
# keeps the two lists in that order, each sorted by title.
_AS_TYPED = f"""
SELECT {VIDEO} FROM (
    (SELECT 0 AS part, {VIDEO}, search_title FROM videos
     WHERE search_title >= $1 AND search_title < $2 ORDER BY search_title LIMIT $3)
    UNION ALL
    (SELECT 1, {VIDEO}, search_title FROM videos WHERE id IN
        (SELECT id FROM videos WHERE $4::text IS NOT NULL AND search_text LIKE $4 LIMIT $3))
) AS found ORDER BY part, search_title
"""
_CREDITS_AND_SOURCES = f"""
SELECT ARRAY(SELECT ({CREDIT}) FROM credits WHERE video_id = $1 ORDER BY position),
       ARRAY(SELECT url FROM video_sources WHERE video_id = $1 ORDER BY position)
"""


def _holding(text: str) -> str:
    """A LIKE pattern for text anywhere in a value."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


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
        """Title prefix first, then substring, in one statement; then, if that leaves room,
        the videos holding every word typed, in any order."""
        query = fold(text)
        if not query:
            return await self._fetch(
                f"SELECT {VIDEO} FROM videos ORDER BY search_title LIMIT $1", limit
            )
        substring = _holding(query) if len(query) >= 3 else None
        found: dict[int, Video] = {}
        for video in await self._fetch(_AS_TYPED, query, query + _LAST, limit, substring):
            found.setdefault(video.id, video)
        words = query.split()
        long_words = [w for w in words if len(w) >= 3]
        if len(found) < limit and len(words) > 1 and long_words:
            # Artist and title words in any order ("kendrick lamar we cry"). The trigram
            # index finds the videos holding every word of three letters or more; shorter
            # ones have no trigram to look up, so they are checked on those rows, in the
            # same statement, before its LIMIT.
            short_words = [w for w in words if len(w) < 3]
            conditions = [f"search_text LIKE ${n}" for n in range(1, len(long_words) + 1)]
            conditions += [
                f"strpos(search_text, ${n}) > 0" for n in range(len(long_words) + 1, len(words) + 1)
            ]
            every_word = [
                video
                for video in await self._fetch(
                    f"SELECT {VIDEO} FROM videos WHERE {' AND '.join(conditions)} "
                    f"LIMIT {ALL_WORDS_CANDIDATES}",
                    *[_holding(w) for w in long_words],
                    *short_words,
                )
                if video.id not in found and holds_every_word(words, video)
            ]
            every_word.sort(key=lambda v: rank_by_title_words(words, v))
            for video in every_word:
                found.setdefault(video.id, video)
        return list(found.values())[:limit]

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

    async def near_misses(self, text: str, limit: int = 25) -> list[Video]:
        """Among the videos sharing three characters in a row with the text, those nearest
        it by trigram word distance (the GiST index reads them in that order), ranked again
        by similarity: tolerates typos."""
        folded = fold(text)
        if len(folded) < 3:
            return []
        candidates = await self._fetch(
            f"SELECT {VIDEO} FROM videos WHERE search_text LIKE ANY($2::text[]) "
            "ORDER BY search_text <->> $1 LIMIT $3",
            folded,
            [_holding(gram) for gram in trigrams(folded)],
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
                "search_text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                "ON CONFLICT (slug) DO UPDATE SET title = excluded.title, "
                "artist = excluded.artist, album = excluded.album, year = excluded.year, "
                "url = excluded.url, search_title = excluded.search_title, "
                "search_text = excluded.search_text RETURNING id",
                slug,
                title,
                artist,
                album,
                year,
                url,
                fold(title),
                fold(f"{title} {artist}"),
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
            "INSERT INTO credits (video_id, position, role, name, kind) "
            "SELECT $1, position - 1, role, name, kind "
            "FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY "
            "AS c (role, name, kind, position)",
            video_id,
            [c.role for c in credits],
            [c.name for c in credits],
            [c.kind for c in credits],
        )

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
