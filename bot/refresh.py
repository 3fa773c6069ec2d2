"""`python -m bot catalog refresh`: fills the thumbnails videos are missing and checks that
their sources still answer.

For each video, in the order of their ids: a video whose link is a YouTube or Vimeo link and
that has no thumbnail gets the one the host's oEmbed answer names (through the bot's own
Lookups: cached, paced, a failing service skipped); then each of its sources is asked for
with a HEAD request (GET when the site refuses HEAD), redirects followed, and a source that
answers 404 or 410, another error, or nothing in time is reported. Nothing is deleted: a
link that fails today may be back tomorrow, so an editor decides.

Resumable: each video done is one line appended to a progress file (flushed before the next
video starts). Run again after an interruption, the command reads it, skips those videos and
reports what they found as well; the file is removed once every video is done, so the next
run checks everything again. A file and not a table: it is the state of one run on one
machine, not the catalog's, and the command stays the same on both engines without a
migration. A line cut short by a kill is ignored (that video is done again).

Good citizen: every request has a timeout and the bot's User-Agent, and each site (host) gets
at most one request per `pace` seconds. A site that answers 429 (or 503) with a Retry-After
is waited for, up to a minute, then asked again; one that asks for longer, or fails three
times in a row, is asked nothing more this run, and its remaining sources are listed as not
checked. When YouTube or Vimeo ask the lookups to wait, the run waits (saying so) up to a
minute and asks again; a video whose host did not answer is counted apart, never as "not
found", and is asked again by the next run (or by this one, resumed).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

import aiohttp

from bot.db import Database
from bot.db.models import Video
from bot.errors import UserFacingError
from bot.links import parse_video_link
from bot.lookups.client import Miss, retry_after
from bot.lookups.lookup import Lookups
from bot.lookups.oembed import fetch_oembed, service_of

# A source is a web page: slower than an API, so a little more time than a lookup gets.
SOURCE_TIMEOUT = 10.0
DEFAULT_PACE = 1.0
# The longest a run waits when a site (or YouTube or Vimeo) asks it to: past that, what is
# left of that site waits for the next run.
MAX_WAIT = 60.0
# A site failing this many times in a row (no answer, 5xx, 429) is asked nothing more.
FAILURES_BEFORE_SKIP = 3
# What a video's thumbnail lookup came to (None: not looked for).
FILLED, NOT_FOUND, UNANSWERED = "filled", "not found", "unanswered"
PROGRESS_FORMAT = "taketwo-refresh-progress"
BAR_WIDTH = 30

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class NotChecked:
    """A source left alone this run, and why."""

    reason: str


@dataclass(slots=True)
class _Site:
    next_slot: float = 0.0
    failures: int = 0
    # Why the site's remaining sources are not checked, once it is given up on this run.
    given_up: str | None = None


class SourceChecker:
    """Asks whether source links still answer, one request per site per `pace` seconds."""

    def __init__(
        self,
        *,
        user_agent: str,
        pace: float = DEFAULT_PACE,
        timeout: float = SOURCE_TIMEOUT,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        wall_clock: Clock = time.time,
    ) -> None:
        self.user_agent = user_agent
        self.pace = pace
        self.timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._sites: dict[str, _Site] = {}
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _wait_for_turn(self, site: _Site) -> None:
        now = self._clock()
        slot = max(now, site.next_slot)
        site.next_slot = slot + self.pace
        if slot > now:
            await self._sleep(slot - now)

    async def _status(self, site: _Site, method: str, url: str) -> tuple[int, float | None]:
        """The page's status, and the wait its Retry-After asks for (None: none given)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"User-Agent": self.user_agent},
            )
        await self._wait_for_turn(site)
        # The body is never read: the status says whether the page is there.
        async with self._session.request(method, url, allow_redirects=True) as response:
            wait = retry_after(response.headers.get("Retry-After"), self._wall_clock())
            return response.status, wait

    async def _page_status(self, site: _Site, url: str) -> tuple[int, float | None]:
        status, wait = await self._status(site, "HEAD", url)
        if status in (405, 501):  # this site does not answer HEAD: ask for the page
            status, wait = await self._status(site, "GET", url)
        return status, wait

    def _failed(self, site: _Site, host: str) -> None:
        site.failures += 1
        if site.failures >= FAILURES_BEFORE_SKIP:
            site.given_up = f"not checked: {host} failed {FAILURES_BEFORE_SKIP} times in a row"

    async def check(self, url: str) -> str | NotChecked | None:
        """None when the page answers; what went wrong, in a few words; or NotChecked when
        its site is left alone for the rest of this run."""
        host = urlsplit(url).hostname or ""
        site = self._sites.setdefault(host, _Site())
        if site.given_up is not None:
            return NotChecked(site.given_up)
        try:
            status, wait = await self._page_status(site, url)
            if status in (429, 503) and wait is not None:
                if wait > MAX_WAIT:
                    site.given_up = f"not checked: {host} asked to wait {wait:.0f} s"
                    return NotChecked(site.given_up)
                # Asked to slow down: the next request to this site waits as long as asked.
                site.next_slot = max(site.next_slot, self._clock() + wait)
                status, wait = await self._page_status(site, url)
        except TimeoutError:
            self._failed(site, host)
            return f"no answer within {self.timeout:g} s"
        except aiohttp.ClientError as exc:
            self._failed(site, host)
            return f"could not be reached ({type(exc).__name__})"
        if status >= 500 or status == 429:
            self._failed(site, host)
        else:
            site.failures = 0
        if status in (404, 410):
            return f"answered HTTP {status}: the page is gone"
        if status >= 400:
            return f"answered HTTP {status}"
        return None


@dataclass(frozen=True, slots=True)
class SourceProblem:
    slug: str
    url: str
    problem: str


@dataclass(slots=True)
class VideoDone:
    """What refreshing one video did; one line of the progress file."""

    video_id: int
    # FILLED, NOT_FOUND (the host said it has none), UNANSWERED (the host did not answer:
    # asked again by a resumed or later run), or None (not looked for).
    thumbnail: str | None = None
    sources_checked: int = 0
    problems: list[SourceProblem] = field(default_factory=list)
    # Sources left alone because their site was given up on this run.
    unchecked: list[SourceProblem] = field(default_factory=list)

    def line(self) -> str:
        return json.dumps(
            {
                "video": self.video_id,
                "thumbnail": self.thumbnail,
                "sources_checked": self.sources_checked,
                "problems": [[p.slug, p.url, p.problem] for p in self.problems],
                "unchecked": [[p.slug, p.url, p.problem] for p in self.unchecked],
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_line(cls, line: str) -> VideoDone | None:
        try:
            data = json.loads(line)
            return cls(
                int(data["video"]),
                data["thumbnail"],
                int(data["sources_checked"]),
                [SourceProblem(*map(str, p)) for p in data["problems"]],
                [SourceProblem(*map(str, p)) for p in data.get("unchecked", [])],
            )
        except (ValueError, KeyError, TypeError):
            return None

    @property
    def finished(self) -> bool:
        """Whether a resumed run leaves this video alone (it asks an unanswered host again)."""
        return self.thumbnail != UNANSWERED


@dataclass(slots=True)
class Summary:
    total: int = 0
    done: list[VideoDone] = field(default_factory=list)
    resumed: int = 0  # videos done by an earlier, interrupted run
    # Why a progress file found was not used, if it was not.
    note: str | None = None

    def count(self, thumbnail: str) -> int:
        return sum(1 for d in self.done if d.thumbnail == thumbnail)

    @property
    def sources_checked(self) -> int:
        return sum(d.sources_checked for d in self.done)

    @property
    def problems(self) -> list[SourceProblem]:
        return [p for d in self.done for p in d.problems]

    @property
    def unchecked(self) -> list[SourceProblem]:
        return [p for d in self.done for p in d.unchecked]


class ProgressFile:
    """The videos an unfinished run has done, one JSON line each after a header line naming
    the database (a file left by a run on another database is not resumed)."""

    def __init__(self, path: Path, database: str) -> None:
        self.path = path
        self.database = database
        self._file: TextIO | None = None

    def earlier(self) -> tuple[list[VideoDone], str | None]:
        """What an interrupted run did, and a note when a file was found but not used."""
        try:
            lines = self.path.read_text("utf-8").splitlines()
        except FileNotFoundError:
            return [], None
        except (OSError, UnicodeDecodeError) as exc:
            return [], f"{self.path} could not be read ({exc}); starting from the first video"
        try:
            header = json.loads(lines[0]) if lines else None
        except ValueError:
            header = None
        if header != {"format": PROGRESS_FORMAT, "database": self.database}:
            return [], f"{self.path} is not this database's progress; starting from the first video"
        # A video done again (its host did not answer before) has a later line: it wins.
        done = {d.video_id: d for d in map(VideoDone.from_line, lines[1:]) if d is not None}
        return list(done.values()), None

    def open(self, resume: bool) -> None:
        if resume:
            self._file = self.path.open("a", encoding="utf-8")
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w", encoding="utf-8")
        self._write(json.dumps({"format": PROGRESS_FORMAT, "database": self.database}))

    def _write(self, line: str) -> None:
        assert self._file is not None
        self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def record(self, done: VideoDone) -> None:
        self._write(done.line())

    def close(self, *, finished: bool) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if finished:
            self.path.unlink(missing_ok=True)


class ProgressBar:
    """One line redrawn with `\\r` on a terminal; plain lines (each whole percent) otherwise."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = total
        self.terminal = stream.isatty()
        self._shown = -1

    def show(self, done: int) -> None:
        if self.total == 0:
            return
        percent = done * 100 // self.total
        if self.terminal:
            filled = done * BAR_WIDTH // self.total
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            end = "\n" if done == self.total else ""
            self.stream.write(f"\r[{bar}] {done}/{self.total} videos{end}")
        elif percent != self._shown or done == self.total:
            self.stream.write(f"refresh: {done}/{self.total} videos ({percent}%)\n")
        self._shown = percent
        self.stream.flush()

    def stop(self) -> None:
        """An interrupted bar ends its line, so the next message starts on its own."""
        if self.terminal and 0 <= self._shown < 100:
            self.stream.write("\n")
            self.stream.flush()


def _wants_thumbnail(video: Video, thumbnails: dict[int, str]) -> bool:
    if video.id in thumbnails or not video.url:
        return False
    try:
        parse_video_link(video.url)
    except UserFacingError:  # another host: no oEmbed endpoint to ask
        return False
    return True


async def _thumbnail(db: Database, lookups: Lookups, video: Video, say: TextIO) -> str:
    assert video.url is not None
    link = parse_video_link(video.url)
    service = service_of(link)
    for attempt in range(2):
        info = await fetch_oembed(
            lookups.client,
            link,
            youtube_url=lookups.youtube_oembed_url,
            vimeo_url=lookups.vimeo_oembed_url,
        )
        wait = lookups.client.skip_left(service)
        if info is not Miss.UNANSWERED or attempt or not 0 < wait <= MAX_WAIT:
            break
        # Asked to slow down (or failing for a moment): wait as asked, then ask once more.
        print(f"taketwo: {service.name} asked to wait {wait:.0f} s; waiting", file=say, flush=True)
        await lookups.client.wait_out_skip(service)
    if info is Miss.UNANSWERED:
        return UNANSWERED
    if isinstance(info, Miss) or info.thumbnail_url is None:
        return NOT_FOUND
    async with db.transaction() as tx:
        await tx.videos.set_thumbnail(video.id, info.thumbnail_url)
    return FILLED


async def refresh_catalog(
    db: Database,
    lookups: Lookups,
    checker: SourceChecker,
    progress: ProgressFile,
    bar_stream: TextIO,
    summary: Summary,
) -> None:
    """Refreshes every video not done yet, filling `summary` as it goes (so that an
    interruption still leaves what was done in it)."""
    async with db.read() as session:
        videos = await session.videos.all()
        thumbnails = await session.videos.thumbnails()
        sources = await session.videos.all_sources()
    todo = [v for v in videos if _wants_thumbnail(v, thumbnails) or v.id in sources]
    earlier, summary.note = progress.earlier()
    if summary.note:
        print(f"taketwo: {summary.note}", file=bar_stream)
    wanted = {v.id for v in todo}
    summary.done = [d for d in earlier if d.video_id in wanted and d.finished]
    summary.resumed = len(summary.done)
    summary.total = len(todo)
    finished = {d.video_id for d in summary.done}
    progress.open(resume=bool(earlier))
    bar = ProgressBar(bar_stream, summary.total)
    bar.show(len(summary.done))
    try:
        for video in todo:
            if video.id in finished:
                continue
            done = VideoDone(video.id)
            for url in sources.get(video.id, []):
                result = await checker.check(url)
                if isinstance(result, NotChecked):
                    done.unchecked.append(SourceProblem(video.slug, url, result.reason))
                    continue
                done.sources_checked += 1
                if result is not None:
                    done.problems.append(SourceProblem(video.slug, url, result))
            # Last: the thumbnail's write and this video's progress line follow each other.
            if _wants_thumbnail(video, thumbnails):
                done.thumbnail = await _thumbnail(db, lookups, video, bar_stream)
            progress.record(done)
            summary.done.append(done)
            bar.show(len(summary.done))
    finally:
        bar.stop()
        progress.close(finished=len(summary.done) == summary.total)


def summary_lines(summary: Summary, database: str) -> list[str]:
    """What a finished run tells its user on stdout."""
    unanswered = summary.count(UNANSWERED)
    lines = [
        f"Refreshed {summary.total} videos in {database}"
        + (f" ({summary.resumed} of them by the interrupted run before)" if summary.resumed else "")
        + ".",
        f"Thumbnails: {summary.count(FILLED)} filled, {summary.count(NOT_FOUND)} not found "
        "at the video's host"
        + (
            f", {unanswered} not asked because the host did not answer (the next run asks again)"
            if unanswered
            else ""
        )
        + ".",
        f"Sources: {summary.sources_checked} checked, {len(summary.problems)} not answering"
        + (f", {len(summary.unchecked)} not checked" if summary.unchecked else "")
        + ".",
    ]
    if summary.problems:
        lines.append(
            "Nothing was deleted. Open each link below, and fix or remove it with "
            "/video edit if it is gone for good:"
        )
        lines += [f"  {p.slug}: {p.url} {p.problem}" for p in summary.problems]
    if summary.unchecked:
        lines.append("Not checked this run (their sites asked for a pause or kept failing):")
        lines += [f"  {p.slug}: {p.url} {p.problem}" for p in summary.unchecked]
    return lines


def describe(pace: float) -> str:
    """The line a run starts with: what it will do, and what it will not."""
    return (
        "Filling missing thumbnails from YouTube and Vimeo, and checking that each video's "
        f"sources still answer (at most one request every {pace:g} s per site). Nothing is "
        "deleted; sources that do not answer are listed at the end."
    )
