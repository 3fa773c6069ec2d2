"""The sessions of the SQLite backend: which queries each kind of connection offers.

Each query family comes in tiers (`...Lookups` ⊂ `...Reads` ⊂ `...Writes`), and a session
holds only the tier its connection allows: the lookup session, used on the event loop's
own thread (and, for profiles, a thread of their own that the loop only waits on), has no
query that scans; a read session cannot write. Asking a lookup session
for a scan is an AttributeError at run time and a type error before that.
"""

from __future__ import annotations

from bot.db.coalesce import Coalescer
from bot.db.matching import gone
from bot.db.models import Video, VideoPage
from bot.db.sqlite import pages
from bot.db.sqlite.connections import Executes, Fetches, RunsInOneTrip
from bot.db.sqlite.daily import SQLiteDailyReads, SQLiteDailyWrites
from bot.db.sqlite.exports import SQLiteExportReads
from bot.db.sqlite.members import SQLiteMemberLookups, SQLiteMemberWrites
from bot.db.sqlite.people import SQLitePeopleReads, SQLiteProfileLookups, SQLiteProfileReads
from bot.db.sqlite.quotes import SQLiteQuoteLookups, SQLiteQuoteReads, SQLiteQuoteWrites
from bot.db.sqlite.ratings import SQLiteRatingLookups, SQLiteRatingReads
from bot.db.sqlite.setup import SQLiteSetupReads, SQLiteSetupWrites
from bot.db.sqlite.suggestions import SQLiteSuggestionReads, SQLiteSuggestionWrites
from bot.db.sqlite.takes import SQLiteTakeLookups, SQLiteTakeReads, SQLiteTakeWrites
from bot.db.sqlite.videos import SQLiteVideoLookups, SQLiteVideoReads, SQLiteVideoWrites

PageKey = tuple[int, int, int | None]  # guild, video, member
# Lookups asked for at the same moment are answered by one statement of at most this many.
COALESCE_BATCH = 200


class CoalescedVideoLookups(SQLiteVideoLookups):
    """The lookup session's videos: a video or a /review page asked for while others are
    waiting joins their statement (200 /review pages under load cost one statement, not
    200; each has a fixed cost in Python's sqlite3)."""

    def __init__(self, conn: Fetches) -> None:
        super().__init__(conn)
        self._videos = Coalescer[int, Video](self.many, gone, COALESCE_BATCH)
        self._pages = Coalescer[PageKey, VideoPage](self._pages_of, gone, COALESCE_BATCH)

    async def _pages_of(self, keys: list[PageKey]) -> list[VideoPage | None]:
        return await pages.video_pages(self._conn, keys)

    async def get(self, video_id: int) -> Video:
        return await self._videos.get(video_id)

    async def page(self, guild_id: int, video_id: int, user_id: int | None = None) -> VideoPage:
        return await self._pages.get((guild_id, video_id, user_id))


class SQLiteLookupSession:
    """`conn` is the event loop's own connection; `profiles_conn` the thread connection
    that batches of profile lookups go to."""

    def __init__(self, conn: Fetches, profiles_conn: RunsInOneTrip) -> None:
        self.videos = CoalescedVideoLookups(conn)
        self.ratings = SQLiteRatingLookups(conn)
        self.takes = SQLiteTakeLookups(conn)
        self.quotes = SQLiteQuoteLookups(conn)
        self.members = SQLiteMemberLookups(conn)
        self.profiles = SQLiteProfileLookups(profiles_conn)


class SQLiteReadSession:
    def __init__(self, conn: Fetches) -> None:
        self.conn = conn
        self.videos = SQLiteVideoReads(conn)
        self.ratings = SQLiteRatingReads(conn)
        self.takes = SQLiteTakeReads(conn)
        self.quotes = SQLiteQuoteReads(conn)
        self.suggestions = SQLiteSuggestionReads(conn)
        self.members = SQLiteMemberLookups(conn)
        self.profiles = SQLiteProfileReads(conn)
        self.people = SQLitePeopleReads(conn)
        self.daily = SQLiteDailyReads(conn)
        self.exports = SQLiteExportReads(conn)
        self.setup = SQLiteSetupReads(conn)


class SQLiteWriteSession:
    def __init__(self, conn: Executes) -> None:
        self.videos = SQLiteVideoWrites(conn)
        self.ratings = SQLiteRatingReads(conn)
        self.takes = SQLiteTakeWrites(conn)
        self.quotes = SQLiteQuoteWrites(conn)
        self.suggestions = SQLiteSuggestionWrites(conn)
        self.members = SQLiteMemberWrites(conn)
        self.profiles = SQLiteProfileReads(conn)
        self.people = SQLitePeopleReads(conn)
        self.daily = SQLiteDailyWrites(conn)
        self.exports = SQLiteExportReads(conn)
        self.setup = SQLiteSetupWrites(conn)
