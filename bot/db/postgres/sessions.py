"""The sessions of the PostgreSQL backend: which queries each kind offers.

Each query family comes in tiers (`...Lookups` ⊂ `...Reads` ⊂ `...Writes`), and a session
holds only the tier its place allows, as in the SQLite backend: the lookup session has no
query that scans, a read session cannot write. Lookups and reads run on the pool (each
statement borrows a connection while it runs); a write session runs on its transaction's
connection, and the families whose writes depend on what they read first take the lock of
what they decide on (bot/db/postgres/locks.py).
"""

from __future__ import annotations

from bot.db.coalesce import Coalescer
from bot.db.matching import gone
from bot.db.models import Video, VideoPage
from bot.db.postgres import pages
from bot.db.postgres.connections import Executes, LockedFirst, Queries
from bot.db.postgres.daily import PostgresDailyReads, PostgresDailyWrites
from bot.db.postgres.exports import PostgresExportReads
from bot.db.postgres.locks import Locks
from bot.db.postgres.members import PostgresMemberLookups, PostgresMemberWrites
from bot.db.postgres.people import (
    PostgresPeopleReads,
    PostgresProfileLookups,
    PostgresProfileReads,
)
from bot.db.postgres.quotes import PostgresQuoteLookups, PostgresQuoteReads, PostgresQuoteWrites
from bot.db.postgres.ratings import PostgresRatingLookups, PostgresRatingReads
from bot.db.postgres.setup import PostgresSetupReads, PostgresSetupWrites
from bot.db.postgres.suggestions import PostgresSuggestionReads, PostgresSuggestionWrites
from bot.db.postgres.takes import PostgresTakeLookups, PostgresTakeReads, PostgresTakeWrites
from bot.db.postgres.videos import (
    PostgresVideoLookups,
    PostgresVideoReads,
    PostgresVideoWrites,
)

PageKey = tuple[int, int, int | None]  # guild, video, member
# Lookups asked for at the same moment are answered by one statement of at most this many.
COALESCE_BATCH = 200


class CoalescedVideoLookups(PostgresVideoLookups):
    """The lookup session's videos: a video or a /review page asked for while others are
    waiting joins their statement (200 /review pages under load cost one round trip and
    one pool connection, not 200)."""

    def __init__(self, conn: Queries) -> None:
        super().__init__(conn)
        self._videos = Coalescer[int, Video](self.many, gone, COALESCE_BATCH)
        self._pages = Coalescer[PageKey, VideoPage](self._pages_of, gone, COALESCE_BATCH)

    async def _pages_of(self, keys: list[PageKey]) -> list[VideoPage | None]:
        return await pages.video_pages(self.conn, keys)

    async def get(self, video_id: int) -> Video:
        return await self._videos.get(video_id)

    async def page(self, guild_id: int, video_id: int, user_id: int | None = None) -> VideoPage:
        return await self._pages.get((guild_id, video_id, user_id))


class PostgresLookupSession:
    def __init__(self, conn: Queries) -> None:
        self.videos = CoalescedVideoLookups(conn)
        self.ratings = PostgresRatingLookups(conn)
        self.takes = PostgresTakeLookups(conn)
        self.quotes = PostgresQuoteLookups(conn)
        self.members = PostgresMemberLookups(conn)
        self.profiles = PostgresProfileLookups(conn)


class PostgresReadSession:
    def __init__(self, conn: Queries) -> None:
        self.videos = PostgresVideoReads(conn)
        self.ratings = PostgresRatingReads(conn)
        self.takes = PostgresTakeReads(conn)
        self.quotes = PostgresQuoteReads(conn)
        self.suggestions = PostgresSuggestionReads(conn)
        self.members = PostgresMemberLookups(conn)
        self.profiles = PostgresProfileReads(conn)
        self.people = PostgresPeopleReads(conn)
        self.daily = PostgresDailyReads(conn)
        self.exports = PostgresExportReads(conn)
        self.setup = PostgresSetupReads(conn)


class PostgresWriteSession:
    def __init__(self, conn: Executes) -> None:
        self.conn = conn  # for the group commit's batch statements
        locks = Locks(conn)
        self.quotes = PostgresQuoteWrites(conn, locks)
        self.videos = PostgresVideoWrites(LockedFirst(conn, locks.catalog), locks, self.quotes)
        self.ratings = PostgresRatingReads(conn)
        self.takes = PostgresTakeWrites(conn)
        self.suggestions = PostgresSuggestionWrites(conn)
        self.members = PostgresMemberWrites(conn, locks, self.quotes)
        self.profiles = PostgresProfileReads(conn)
        self.people = PostgresPeopleReads(conn)
        self.daily = PostgresDailyWrites(conn, locks)
        self.exports = PostgresExportReads(conn)
        self.setup = PostgresSetupWrites(LockedFirst(conn, locks.setup))
