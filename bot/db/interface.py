"""What the bot asks of its database, whatever engine keeps it.

Cogs, the daily scheduler and the CLI use only these types; `bot/db/sqlite` implements them
(and a PostgreSQL backend implements them beside it). Nothing here names an engine, a
connection, a cursor or a row: queries take plain values and return the dataclasses of
`bot.db.models`.

A `Database` hands out three kinds of session, each with the queries its place allows:

    async with db.lookup() as s:       # answered at once, on the event loop
        page = await s.videos.page(guild_id, video_id, user_id)
    async with db.read() as s:         # any read; never blocks the event loop
        top = await s.ratings.top(guild_id, limit=10)
    async with db.transaction() as tx:  # one unit of work, committed whole or not at all
        await tx.quotes.add(...)

A lookup's cost is bounded by the size of its answer (an index lookup, a LIMIT), so it may
run on the event loop's own thread: `LookupSession` offers only such queries (a count is
one when it is kept as a number), and a query that scans (a typo search, a ranking, an
export, a page that steps over others) exists only on `ReadSession`. A write that names
something removed meanwhile raises NotFoundError (bot.db.failures.ReferenceGone); a
storage that cannot save raises CannotSaveError with the member's sentence.
Ratings, and takes (whose score is a rating), are written only through `Database.rate` and
`Database.save_take`, which batch concurrent writes into one commit and answer each caller
after it. Every moment is a whole number of Unix seconds (UTC).
"""

from __future__ import annotations

import random
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from bot.db.models import (
    Credit,
    DailyPost,
    DailySchedule,
    MemberProfile,
    PeopleTopList,
    PersonPage,
    PressReview,
    Quote,
    ScoreSummary,
    ShardSlice,
    SharedRating,
    Take,
    TakesPage,
    TopList,
    Video,
    VideoDraft,
    VideoPage,
    VideoSuggestion,
)

# Videos


class VideoLookups(Protocol):
    async def get(self, video_id: int) -> Video:
        """The video, or NotFoundError when it is not (or no longer) in the catalog."""
        ...

    async def get_by_slug(self, slug: str) -> Video | None: ...

    async def page(self, guild_id: int, video_id: int, user_id: int | None = None) -> VideoPage:
        """Everything /review shows about a video in a server (NotFoundError if gone)."""
        ...

    async def credits(self, video_id: int) -> list[Credit]: ...

    async def sources(self, video_id: int) -> list[str]:
        """Links to the published pages that back the video's facts, in order."""
        ...

    async def credits_and_sources(self, video_id: int) -> tuple[list[Credit], list[str]]: ...

    async def reviews(self, video_id: int) -> list[PressReview]: ...

    async def search_as_typed(self, text: str, limit: int = 25) -> list[Video]:
        """Autocomplete: titles starting with the text, then holding it, then holding all
        its words; at most `limit`."""
        ...

    async def resolve_exactly(self, value: str) -> Video | None:
        """The video a member meant when the value is a choice's id or a whole title (with
        or without its artist); None when only a search can tell. UserFacingError when the
        value is empty or names several videos."""
        ...

    async def same_title_and_artist(
        self, title: str, artist: str, *, other_than: int | None = None
    ) -> Video | None: ...


class VideoReads(VideoLookups, Protocol):
    async def count(self) -> int: ...

    async def with_url(self, url: str) -> Video | None:
        """The video whose link is this URL (as stored: canonical for videos added from a
        link), if any."""
        ...

    async def draft(self, draft_id: int) -> VideoDraft | None:
        """A video being added from a link, or None once it was saved or dropped."""
        ...

    async def all(self) -> list[Video]: ...

    async def links(self) -> dict[int, str]:
        """Each video's link, by video id, for the videos that have one."""
        ...

    async def thumbnails(self) -> dict[int, str]:
        """Each video's thumbnail link, by video id, for the videos that have one."""
        ...

    async def all_sources(self) -> dict[int, list[str]]:
        """Each video's sources in the catalog's order, by video id, for the videos that have
        any (what `sources` gives, for the whole catalog in one query)."""
        ...

    async def near_misses(self, text: str, limit: int = 25) -> list[Video]:
        """Videos whose titles are close to the text (typos), best first."""
        ...

    async def search(self, text: str, limit: int = 25) -> list[Video]:
        """`search_as_typed`, then near misses when that found nothing."""
        ...

    async def resolve_by_search(self, value: str) -> Video:
        """The video a partial or misspelt title means (NotFoundError with the closest
        titles, or UserFacingError when several match)."""
        ...

    async def resolve(self, value: str) -> Video:
        """`resolve_exactly`, then `resolve_by_search`."""
        ...


class VideoWrites(VideoReads, Protocol):
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
        """Add the video, or update the one with this slug; returns its id."""
        ...

    async def slug_for(self, artist: str, title: str) -> str:
        """A new, unused slug made from the artist and title."""
        ...

    async def set_thumbnail(self, video_id: int, thumbnail_url: str | None) -> None: ...

    async def replace_credits(self, video_id: int, credits: list[Credit]) -> None: ...

    async def fold_names(self) -> int:
        """Fold the credits' names and videos' artists saved before search kept them folded
        (by a version before /person); returns how many."""
        ...

    async def replace_sources(self, video_id: int, sources: list[str]) -> None: ...

    async def replace_reviews(self, video_id: int, reviews: list[PressReview]) -> None: ...

    async def add_review(self, video_id: int, review: PressReview) -> None: ...

    async def remove_everywhere(self, video_id: int) -> dict[str, int]:
        """Remove the video and everything every server said about it; returns how many
        of each kind went."""
        ...

    async def save_draft(self, *, url: str, facts: str, now: int, keep_for: int) -> int:
        """Keep a video being added from a link; returns its id. Drafts older than
        `keep_for` seconds are dropped on the way (a saved one is kept until then, so that
        its button can say the video was added)."""
        ...


# Ratings (written only through Database.rate and Database.save_take)


class RatingLookups(Protocol):
    async def summary(self, guild_id: int, video_id: int) -> ScoreSummary: ...

    async def member_score(self, guild_id: int, video_id: int, user_id: int) -> int | None: ...

    async def server_mean(self, guild_id: int) -> float | None: ...


class RatingReads(RatingLookups, Protocol):
    async def top(self, guild_id: int, limit: int) -> TopList:
        """The server's best-rated videos by Bayesian mean (see TopList)."""
        ...


# Takes


class TakeLookups(Protocol):
    async def get(self, take_id: int) -> Take | None: ...

    async def in_guild(self, guild_id: int, take_id: int) -> Take:
        """The take if it belongs to this server, else NotFoundError."""
        ...

    async def of_member(self, guild_id: int, video_id: int, user_id: int) -> Take | None: ...

    async def count(self, guild_id: int, video_id: int) -> int: ...


class TakeReads(TakeLookups, Protocol):
    async def page(
        self, guild_id: int, video_id: int, *, sort: str, page: int, page_size: int
    ) -> TakesPage:
        """One page of a video's takes, sorted "newest" or "highest"; a page number past
        the end gives the last page."""
        ...


class TakeWrites(TakeReads, Protocol):
    async def agree(self, take: Take, user_id: int) -> bool:
        """Mark a take "agree" once per member; False if they already had."""
        ...

    async def remove(self, take_id: int) -> None: ...


# Quotes


class QuoteLookups(Protocol):
    async def get(self, quote_id: int) -> Quote | None: ...

    async def in_guild(self, guild_id: int, quote_id: int) -> Quote:
        """A quote this server can see (its own or the catalog's), else NotFoundError."""
        ...

    async def of_message(self, guild_id: int, author_id: int, source_url: str) -> Quote | None:
        """The quote already saved from this message, if any."""
        ...

    async def random(
        self, guild_id: int, video_id: int | None = None, rng: random.Random | None = None
    ) -> Quote | None:
        """A uniformly random quote of the server (of one video, if given); the catalog's
        when the server has none."""
        ...

    async def count(self, guild_id: int, video_id: int | None = None) -> int: ...


class QuoteReads(QuoteLookups, Protocol):
    async def catalog_quotes(self, video_id: int) -> list[Quote]: ...


class QuoteWrites(QuoteReads, Protocol):
    async def add(
        self,
        *,
        guild_id: int,
        text: str,
        created_at: int,
        video_id: int | None = None,
        said_by: str | None = None,
        source_url: str | None = None,
        saved_by: int | None = None,
        author_id: int | None = None,
        is_sample: bool = False,
    ) -> Quote: ...

    async def remove(self, quote_id: int) -> Quote:
        """Delete a quote (NotFoundError if there is none); returns what was removed."""
        ...


# Daily quote posts


class DailyReads(Protocol):
    async def schedule(self, guild_id: int) -> DailySchedule | None: ...

    async def due(
        self, now: int, limit: int, shards: ShardSlice | None = None
    ) -> list[DailySchedule]:
        """Active schedules whose time has come, oldest first; only the servers of these
        shards, when given."""
        ...

    async def next_due_at(self, shards: ShardSlice | None = None) -> int | None: ...

    async def post(self, guild_id: int, local_date: str) -> DailyPost | None: ...

    async def last_sent(self, guild_id: int) -> DailyPost | None: ...

    async def unposted_count(self, guild_id: int) -> int:
        """Quotes not yet posted in the server's current cycle."""
        ...


class DailyWrites(DailyReads, Protocol):
    async def save_schedule(
        self,
        *,
        guild_id: int,
        channel_id: int,
        post_time: str,
        timezone: str,
        next_local_date: str,
        due_at: int,
        updated_by: int,
        now: int,
    ) -> None:
        """Create or replace a server's schedule; this also un-pauses it."""
        ...

    async def delete_schedule(self, guild_id: int) -> bool: ...

    async def delete_schedules_in_channel(self, channel_id: int) -> int: ...

    async def move_to(self, guild_id: int, next_local_date: str, due_at: int) -> None: ...

    async def retry_at(self, guild_id: int, due_at: int) -> None: ...

    async def pause(self, guild_id: int, reason: str, now: int) -> None: ...

    async def note_error(self, guild_id: int, error: str | None, now: int) -> None: ...

    async def set_next_quote(self, guild_id: int, quote_id: int | None) -> None: ...

    async def record_post(
        self,
        *,
        guild_id: int,
        local_date: str,
        status: str,
        nonce: str,
        now: int,
        quote_id: int | None = None,
        channel_id: int | None = None,
        claimed_by: str | None = None,
        lease_until: int | None = None,
        message_id: int | None = None,
        detail: str | None = None,
    ) -> None: ...

    async def take_over_claim(
        self, guild_id: int, local_date: str, owner: str, lease_until: int
    ) -> int | None:
        """Hold an earlier attempt's claim under a new lease; returns when that attempt
        claimed the day, or None when the day is no longer claimed."""
        ...

    async def choose_quote(self, guild_id: int, rng: random.Random | None = None) -> int | None:
        """A random quote not yet posted in this cycle; starts a new cycle when none is left."""
        ...

    async def mark_posted(self, guild_id: int, quote_id: int) -> None: ...


# Video suggestions: members suggest a link, catalog editors approve or reject it


class SuggestionReads(Protocol):
    async def get(self, suggestion_id: int) -> VideoSuggestion | None: ...

    async def waiting(
        self, *, after: int = 0, before: int | None = None, limit: int
    ) -> list[VideoSuggestion]:
        """Suggestions waiting for an editor, oldest first, with every suggester's note:
        the first `limit` after the id `after`, or the last `limit` before the id `before`."""
        ...

    async def waiting_count(self) -> int: ...

    async def of_member(self, guild_id: int, user_id: int, limit: int) -> list[VideoSuggestion]:
        """The member's suggestions in one server, newest first, with their own note only."""
        ...

    async def waiting_of_member(self, guild_id: int, user_id: int) -> int: ...


class SuggestionWrites(SuggestionReads, Protocol):
    async def suggest(
        self, *, url: str, guild_id: int, user_id: int, note: str | None, now: int
    ) -> tuple[VideoSuggestion, bool]:
        """Suggest a link: the waiting suggestion of that link (made now if there was none)
        and whether the member was added to its suggesters (False: they already were)."""
        ...

    async def approve(
        self, url: str, video_id: int, now: int, *, rejected_since: int | None = None
    ) -> int:
        """The video with this link is in the catalog: every suggestion of the link still
        waiting is approved as that video, and so is one rejected at `rejected_since` or
        later (an editor's form, opened before that rejection, added the video). Returns
        how many were."""
        ...

    async def reject(self, suggestion_id: int, reason: str, now: int) -> bool:
        """Reject a waiting suggestion; False when it was no longer waiting."""
        ...


# Members, exports and one-time setup


class MemberLookups(Protocol):
    async def no_quotes(self, guild_id: int, user_id: int) -> bool: ...

    async def hides_ratings(self, guild_id: int, user_id: int) -> bool:
        """Whether the member keeps their ratings out of other members' /profile, /taste
        and every list of who rated what."""
        ...


class MemberWrites(MemberLookups, Protocol):
    async def set_no_quotes(self, guild_id: int, user_id: int, value: bool) -> None: ...

    async def set_hide_ratings(self, guild_id: int, user_id: int, value: bool) -> None: ...

    async def log_removal(
        self,
        *,
        guild_id: int,
        kind: str,
        item_id: int,
        author_id: int | None,
        removed_by: int,
        reason: str | None,
        now: int,
    ) -> None: ...

    async def forget(self, guild_id: int, user_id: int) -> dict[str, int]:
        """Delete everything stored about a member in one server; returns how many of each
        kind went."""
        ...


# Members' profiles and credited people. Each reads every rating of a member, or every
# rated video of a server: read sessions only.


class ProfileLookups(Protocol):
    async def profile_of_few(
        self, guild_id: int, user_id: int, *, last: int = 5
    ) -> MemberProfile | None:
        """`profile`, for a member with at most PROFILE_LOOKUP_MOST ratings in the server
        (so its cost is bounded: fit for the event loop); None for one with more, whose
        profile a read session gives."""
        ...


class ProfileReads(ProfileLookups, Protocol):
    async def profile(self, guild_id: int, user_id: int, *, last: int = 5) -> MemberProfile:
        """The member's ratings in the server: their score histogram beside the server's,
        favourite directors and artists (at least FAVOURITE_MIN_VIDEOS of their videos
        rated, best mean first, at most 3 each), their takes and most agreed one, and their
        `last` newest ratings."""
        ...

    async def shared(self, guild_id: int, first: int, second: int) -> list[SharedRating]:
        """Every video both members rated in the server, with each one's score, by id."""
        ...


class PeopleReads(Protocol):
    async def search(self, text: str, limit: int = 25) -> list[str]:
        """Names credited in the catalog (credits and artists) for autocomplete: names
        starting with the text, then names with a word starting with it; compared as
        search folds them (case and accents aside)."""
        ...

    async def resolve(self, value: str) -> str | None:
        """The name as credited for what a member sent: the name itself, or the one name
        it equals once folded; None when no one is credited so."""
        ...

    async def page(self, guild_id: int, name: str) -> PersonPage:
        """Every video the name is credited on (any role, or as the artist), with the
        server's ratings of each, newest year first."""
        ...

    async def top(self, guild_id: int, role: str, limit: int) -> PeopleTopList:
        """The server's best directors or artists (role: one of PERSON_ROLES) by the
        Bayesian mean of all their videos' ratings, at least MIN_RATINGS ratings."""
        ...


class ExportReads(Protocol):
    async def server(self, guild_id: int) -> dict[str, Any]:
        """Everything members wrote in one server, JSON-ready (see bot/db/exports.py)."""
        ...

    async def member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        """What TakeTwo keeps about one member in one server, JSON-ready."""
        ...


class SetupReads(Protocol):
    async def catalog_decided(self) -> bool: ...

    async def upkeep_version(self) -> int:
        """How far start-up has brought the catalog up to date (bot/startup.py), 0 before
        the catalog decision."""
        ...


class SetupWrites(SetupReads, Protocol):
    async def record_catalog_decision(self, *, sample_loaded: bool) -> None: ...

    async def record_upkeep(self, version: int) -> None:
        """Record the start-up upkeep done (after the catalog decision)."""
        ...


# Sessions. Read-only properties, so that a WriteSession serves wherever a ReadSession does.


class LookupSession(Protocol):
    @property
    def videos(self) -> VideoLookups: ...
    @property
    def ratings(self) -> RatingLookups: ...
    @property
    def takes(self) -> TakeLookups: ...
    @property
    def quotes(self) -> QuoteLookups: ...
    @property
    def members(self) -> MemberLookups: ...
    @property
    def profiles(self) -> ProfileLookups: ...


class ReadSession(Protocol):
    @property
    def videos(self) -> VideoReads: ...
    @property
    def ratings(self) -> RatingReads: ...
    @property
    def takes(self) -> TakeReads: ...
    @property
    def quotes(self) -> QuoteReads: ...
    @property
    def suggestions(self) -> SuggestionReads: ...
    @property
    def members(self) -> MemberLookups: ...
    @property
    def profiles(self) -> ProfileReads: ...
    @property
    def people(self) -> PeopleReads: ...
    @property
    def daily(self) -> DailyReads: ...
    @property
    def exports(self) -> ExportReads: ...
    @property
    def setup(self) -> SetupReads: ...


class WriteSession(Protocol):
    @property
    def videos(self) -> VideoWrites: ...
    @property
    def ratings(self) -> RatingReads: ...
    @property
    def takes(self) -> TakeWrites: ...
    @property
    def quotes(self) -> QuoteWrites: ...
    @property
    def suggestions(self) -> SuggestionWrites: ...
    @property
    def members(self) -> MemberWrites: ...
    @property
    def profiles(self) -> ProfileReads: ...
    @property
    def people(self) -> PeopleReads: ...
    @property
    def daily(self) -> DailyWrites: ...
    @property
    def exports(self) -> ExportReads: ...
    @property
    def setup(self) -> SetupWrites: ...


class Database(Protocol):
    @property
    def is_open(self) -> bool: ...

    @property
    def is_new(self) -> bool:
        """The database was created by this process's open (no schema before it)."""
        ...

    @property
    def predates_catalog_decisions(self) -> bool:
        """The database was created before it recorded whether it got the sample catalog:
        it decided then, so it is not offered the sample now."""
        ...

    async def open(self) -> None:
        """Connect and migrate. DatabaseUnusable (or DatabaseBusy) when it cannot be used."""
        ...

    async def close(self) -> None: ...

    def lookup(self) -> AbstractAsyncContextManager[LookupSession]: ...

    def read(self) -> AbstractAsyncContextManager[ReadSession]: ...

    def transaction(self) -> AbstractAsyncContextManager[WriteSession]:
        """One unit of work: committed when the block ends, rolled back on any error. A
        storage failure becomes CannotSaveError with the member's sentence."""
        ...

    async def rate(
        self, *, guild_id: int, video_id: int, user_id: int, score: int, rated_at: int
    ) -> ScoreSummary:
        """Set a member's score for a video (1..10); returns the video's server aggregate,
        after the write is committed."""
        ...

    async def save_take(
        self, *, guild_id: int, video_id: int, user_id: int, score: int, text: str, now: int
    ) -> Take:
        """Create or edit a member's take; its score is their rating, written with it.
        Returns the take after the write is committed."""
        ...

    def identify_turn(self, bucket: int) -> AbstractAsyncContextManager[None]:
        """The turn of one of Discord's max_concurrency buckets (bot/sharding.py), for every
        bot process that shares this database: entered once no other process holds it,
        held while the shard identifies. SQLite serves one process, whose own turns are all
        there are: entered at once."""
        ...

    def refuse_writes(self, reason: str) -> None:
        """From now on nothing commits: each write is rolled back and its caller hears
        CannotSaveError (for shutdown, so nothing commits that no member hears about)."""
        ...

    async def catalog_version(self) -> int:
        """A number that changes whenever any process adds, edits or removes a catalog
        video: what keeps videos in memory drops them when it moves. Cheap enough to ask
        on every interaction."""
        ...

    async def erase_deleted_text(self) -> None:
        """Make deleted text (after /privacy forget-me) as unrecoverable as the engine
        allows: SQLite overwrites it in its file and empties its write-ahead log;
        PostgreSQL vacuums it out of every row and index (the freed bytes stay on its disk
        until reused, as in the server's own write-ahead log)."""
        ...
