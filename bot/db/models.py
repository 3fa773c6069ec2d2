"""Plain data objects returned by the repositories. No discord imports here."""

from __future__ import annotations

from dataclasses import dataclass, field

# The catalog's own quotes (shipped with the sample) belong to no server: guild 0.
CATALOG_GUILD = 0
# Autocomplete sends the chosen video as "id:<n>"; anything else is text typed by hand.
CHOICE_PREFIX = "id:"
# /top: a Bayesian mean pulls a video's mean toward the server's overall mean with the
# weight of PRIOR_WEIGHT ratings, so one 10/10 does not outrank fifty 9/10s.
PRIOR_WEIGHT = 5
MIN_RATINGS = 3
# Used as the prior before a server has any rating at all: the middle of the 1..10 scale.
NEUTRAL_MEAN = 5.5
# What a skipped day's row says: not who skipped it, which /privacy forget-me could not find
# in free text.
SKIPPED_DETAIL = "skipped with /daily skip"


@dataclass(frozen=True, slots=True)
class Video:
    id: int
    slug: str
    title: str
    artist: str
    album: str | None = None
    year: int | None = None
    url: str | None = None

    @property
    def label(self) -> str:
        """How a video is named in lists and autocomplete."""
        return f"{self.title} — {self.artist}"


# Whose credit a credit is: the video's (director, video producer, cast, cinematographer,
# editor…) or the song's that the video sets (its producers…).
VIDEO_CREDIT = "video"
SONG_CREDIT = "song"
CREDIT_KINDS = (VIDEO_CREDIT, SONG_CREDIT)


@dataclass(frozen=True, slots=True)
class Credit:
    role: str
    name: str
    kind: str = VIDEO_CREDIT


@dataclass(frozen=True, slots=True)
class PressReview:
    headline: str
    summary: str
    outlet: str | None = None
    author: str | None = None
    published_on: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    """A server's ratings of one video: how many, their sum and how many of each score."""

    count: int = 0
    total: int = 0
    histogram: tuple[int, ...] = field(default=(0,) * 10)

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


@dataclass(frozen=True, slots=True)
class RankedVideo:
    video: Video
    count: int
    mean: float
    weighted: float


@dataclass(frozen=True, slots=True)
class TopList:
    entries: list[RankedVideo]
    prior_mean: float
    prior_weight: int
    min_ratings: int


@dataclass(frozen=True, slots=True)
class Quote:
    id: int
    guild_id: int
    text: str
    created_at: int  # Unix seconds
    video_id: int | None = None
    video_title: str | None = None
    said_by: str | None = None
    source_url: str | None = None
    saved_by: int | None = None
    author_id: int | None = None
    is_sample: bool = False


@dataclass(frozen=True, slots=True)
class Take:
    id: int
    guild_id: int
    video_id: int
    user_id: int
    score: int
    text: str
    created_at: int  # Unix seconds
    updated_at: int
    agree_count: int


@dataclass(frozen=True, slots=True)
class VideoPage:
    """Everything /review shows about one video in one server."""

    video: Video
    credits: list[Credit]
    reviews: list[PressReview]
    score: ScoreSummary
    member_score: int | None = None
    take_count: int = 0
    top_take: Take | None = None
    # The picture the video's host shows for it (found when it was added from a link).
    thumbnail_url: str | None = None

    def credits_for(self, role: str) -> list[str]:
        """The names credited with a role of the video (not of the song)."""
        return [
            c.name
            for c in self.credits
            if c.kind == VIDEO_CREDIT and c.role.casefold() == role.casefold()
        ]


@dataclass(frozen=True, slots=True)
class VideoDraft:
    """A video an editor is adding from a link: its canonical URL and what the lookups found
    (JSON text, read and written by bot/video_drafts.py), kept until the form is saved."""

    id: int
    url: str
    facts: str
    created_at: int  # Unix seconds


# What became of a member's suggestion (bot.db's `video_suggestions.status`).
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


@dataclass(frozen=True, slots=True)
class VideoSuggestion:
    """A video link members suggested for the catalog, and what became of it. `video` is
    the video it was added as (None while it waits, when rejected, or once that video was
    removed); `notes` are what its suggesters wrote, in the order they suggested it."""

    id: int
    url: str
    status: str
    created_at: int  # Unix seconds
    suggesters: int
    notes: tuple[str, ...] = ()
    video: Video | None = None
    reason: str | None = None
    decided_at: int | None = None


@dataclass(frozen=True, slots=True)
class ShardSlice:
    """The shards one process runs. Discord delivers a server's events to shard
    `(guild_id >> 22) % count`; a process owns the servers of its shards (their daily
    posts too)."""

    ids: frozenset[int]
    count: int

    def owns(self, guild_id: int) -> bool:
        return (guild_id >> 22) % self.count in self.ids


@dataclass(frozen=True, slots=True)
class DailySchedule:
    guild_id: int
    channel_id: int
    post_time: str  # local HH:MM
    timezone: str  # IANA name
    next_local_date: str  # YYYY-MM-DD, the local day of the pending post
    due_at: int  # unix seconds
    next_quote_id: int | None
    paused_reason: str | None
    last_error: str | None
    last_error_at: int | None


@dataclass(frozen=True, slots=True)
class DailyPost:
    guild_id: int
    local_date: str
    status: str  # claimed, sent, skipped, missed, failed
    quote_id: int | None
    channel_id: int | None
    nonce: str
    claimed_by: str | None
    lease_until: int | None
    message_id: int | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class TakesPage:
    takes: list[Take]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


# Members and people (/profile, /taste, /person, /top by:).

# A favourite director or artist needs at least this many of their videos rated by the
# member: one 10/10 is a lucky video, not a favourite person.
FAVOURITE_MIN_VIDEOS = 2
# A profile is a lookup when the member has at most this many ratings in the server (its cost
# is bounded by them: lookups asked for at once are read together, see bot/db/*/people.py);
# a member with more is read on a reader.
PROFILE_LOOKUP_MOST = 200
# A member with more ratings than this in a server has their favourite people tallied as
# their ratings change (SQLite migration 0016, PostgreSQL 0008, which write it as a number:
# a change is a migration); /profile reads those tallies instead of every rating.
TALLIED_PAST = 200
# /taste compares two members over at least this many videos both rated.
TASTE_MIN_SHARED = 5
# Who /top by: and /profile rank: a credit whose role reads "director" (any case), and the
# video's performer (its artist).
DIRECTOR_ROLE = "director"
# How /person names the role of a video's artist; how many favourites /profile lists.
ARTIST_ROLE = "Artist"
FAVOURITES = 3
PERSON_ROLES = ("directors", "artists")


@dataclass(frozen=True, slots=True)
class PersonScore:
    """A person as one member rated their videos: how many, and the mean score."""

    name: str
    videos: int
    mean: float


@dataclass(frozen=True, slots=True)
class RatedVideo:
    """One member's rating of one video."""

    video: Video
    score: int
    rated_at: int  # Unix seconds


@dataclass(frozen=True, slots=True)
class ProfileTake:
    """A member's take as /profile names it: on which video, its score and its agrees."""

    take: Take
    video: Video


@dataclass(frozen=True, slots=True)
class MemberProfile:
    """What /profile shows about a member in one server."""

    user_id: int
    hides_ratings: bool
    histogram: tuple[int, ...]  # how many of their ratings gave 1..10
    server_mean: float | None  # every rating in the server, for the comparison
    favourite_directors: list[PersonScore]
    favourite_artists: list[PersonScore]
    take_count: int
    most_agreed: ProfileTake | None
    last_ratings: list[RatedVideo]

    @property
    def count(self) -> int:
        return sum(self.histogram)

    @property
    def mean(self) -> float | None:
        total = sum(score * n for score, n in enumerate(self.histogram, start=1))
        return total / self.count if self.count else None


@dataclass(frozen=True, slots=True)
class SharedRating:
    """A video two members both rated, with each one's score."""

    video: Video
    first: int
    second: int


@dataclass(frozen=True, slots=True)
class PersonCredit:
    """One video a person is credited on, and how the server rated it."""

    video: Video
    roles: tuple[str, ...]  # as credited ("Director", "Artist"…), in the credits' order
    score: ScoreSummary


@dataclass(frozen=True, slots=True)
class PersonPage:
    """Everything /person shows: a name as credited and their videos in this server."""

    name: str
    credits: list[PersonCredit]

    @property
    def score(self) -> ScoreSummary:
        """The server's ratings of all their videos together."""
        histogram = tuple(sum(c.score.histogram[k] for c in self.credits) for k in range(10))
        return ScoreSummary(
            count=sum(c.score.count for c in self.credits),
            total=sum(c.score.total for c in self.credits),
            histogram=histogram,
        )


@dataclass(frozen=True, slots=True)
class RankedPerson:
    name: str
    videos: int  # of theirs the server rated
    count: int  # ratings of those videos
    mean: float
    weighted: float


@dataclass(frozen=True, slots=True)
class PeopleTopList:
    """/top by: directors or artists, ranked by the Bayesian mean of their videos' ratings
    with the same prior and minimum as videos."""

    role: str  # one of PERSON_ROLES
    entries: list[RankedPerson]
    prior_mean: float
    prior_weight: int
    min_ratings: int
