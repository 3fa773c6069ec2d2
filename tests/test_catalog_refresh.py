"""`python -m bot catalog refresh` as a person runs it: its own process, asking the loopback
services stand-in for thumbnails and source pages; interrupted by Ctrl-C and by a kill, then
run again, it goes on where it stopped."""

from __future__ import annotations

import asyncio
import contextlib
import io
import signal
import sys
from pathlib import Path
from typing import Any

from bot.catalog import import_catalog, parse_catalog
from bot.lookups import LookupClient, Lookups
from bot.refresh import (
    FAILURES_BEFORE_SKIP,
    UNANSWERED,
    NotChecked,
    ProgressBar,
    ProgressFile,
    SourceChecker,
    Summary,
    VideoDone,
    refresh_catalog,
    summary_lines,
)
from bot.standin import services
from bot.standin.services import Behaviour, ServicesStandIn
from tests.processes import bot_environment, ctrl_c_as_at_a_terminal, run_main
from tests.stores import Store, Stores

UNKNOWN = "https://www.youtube.com/watch?v=TkTwGone009"  # the host has no such video


def video(slug: str, url: str | None, sources: list[str]) -> dict[str, Any]:
    return {"slug": slug, "title": slug, "artist": "The Examples", "url": url, "sources": sources}


async def catalog_store(stores: Stores, lookup_services: ServicesStandIn) -> Store:
    page = lookup_services.page_url
    lookup_services.pages.update({"found": 200, "late": 200, "slow": 200, "get-only": 200})
    lookup_services.head_refused.add("get-only")
    data = {
        "format": "taketwo-catalog",
        "version": 2,
        "videos": [
            video("full", services.FULL.url, [page("found")]),
            video("vimeo", services.VIMEO_FULL.url, [page("gone"), page("found")]),
            video("nothing", services.NOTHING.url, [page("slow")]),
            video("unknown", UNKNOWN, [page("late"), page("get-only")]),
            # Neither a thumbnail to look for (another host) nor sources: not refreshed.
            video("elsewhere", "https://videos.example/42", []),
        ],
    }
    store = await stores.migrated()
    db = store.database()
    await db.open()
    try:
        async with db.transaction() as tx:
            await import_catalog(tx, parse_catalog(data))
    finally:
        await db.close()
    return store


def environment(store: Store, lookup_services: ServicesStandIn, **more: str) -> dict[str, str]:
    return {
        **store.environment(),
        "OEMBED_YOUTUBE_URL": lookup_services.youtube_url,
        "OEMBED_VIMEO_URL": lookup_services.vimeo_url,
        "WIKIDATA_API_URL": lookup_services.wikidata_url,
        "EXTERNAL_LOOKUPS": "true",
        # The sample's sources are real pages: nothing here may reach the internet.
        "LOAD_SAMPLE_CATALOG": "false",
        **more,
    }


async def start_refresh(
    tmp_path: Path, store: Store, lookup_services: ServicesStandIn
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "catalog",
        "refresh",
        "--pace",
        "0",
        preexec_fn=ctrl_c_as_at_a_terminal,
        cwd=tmp_path,
        env=bot_environment(**environment(store, lookup_services)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stopped_at(
    process: asyncio.subprocess.Process, lookup_services: ServicesStandIn, page: str, signum: int
) -> tuple[int, str]:
    """Waits until the refresh asks for the held `page`, then sends `signum`."""
    while not any(s.path == f"/pages/{page}" for s in lookup_services.asked("pages")):
        if process.returncode is not None:
            break
        await asyncio.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):  # it ended already: the status says why
        process.send_signal(signum)
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, err.decode()


def asked_since(lookup_services: ServicesStandIn, start: int) -> list[tuple[str, str, str]]:
    return [
        (s.service, s.method, s.path if s.service == "pages" else s.query["url"])
        for s in lookup_services.requests[start:]
    ]


def progress_files(folder: Path) -> list[Path]:
    return [*folder.glob("*.refresh"), *folder.glob("taketwo-refresh.progress")]


async def thumbnails(store: Store) -> dict[str, str]:
    db = store.database()
    await db.open()
    try:
        async with db.read() as session:
            found = await session.videos.thumbnails()
            return {v.slug: found[v.id] for v in await session.videos.all() if v.id in found}
    finally:
        await db.close()


async def test_refresh_interrupted_twice_goes_on_where_it_stopped(
    tmp_path: Path, stores: Stores, lookup_services: ServicesStandIn
) -> None:
    store = await catalog_store(stores, lookup_services)
    lookup_services.held.add("slow")
    first = await start_refresh(tmp_path, store, lookup_services)
    status, err = await stopped_at(first, lookup_services, "slow", signal.SIGINT)
    assert status == 3
    assert err.splitlines()[-1] == (
        "taketwo: refresh was interrupted after 2 of 4 videos; what was done is kept: run it "
        "again to go on from there."
    )
    assert await thumbnails(store) == {
        "full": services.thumbnail_of(services.FULL),
        "vimeo": services.thumbnail_of(services.VIMEO_FULL),
    }

    # Killed (SIGTERM) this time, further on.
    lookup_services.held = {"late"}
    before = len(lookup_services.requests)
    second = await start_refresh(tmp_path, store, lookup_services)
    status, err = await stopped_at(second, lookup_services, "late", signal.SIGTERM)
    assert status == 3
    assert "interrupted after 3 of 4 videos" in err
    assert asked_since(lookup_services, before) == [
        ("pages", "HEAD", "/pages/slow"),
        ("youtube", "GET", services.NOTHING.url),
        ("pages", "HEAD", "/pages/late"),
    ]

    lookup_services.held = set()
    before = len(lookup_services.requests)
    third = await start_refresh(tmp_path, store, lookup_services)
    out, errors = await asyncio.wait_for(third.communicate(), 60)
    assert third.returncode == 0, errors.decode()
    # Only the last video, whose work the kill cut short, is done again.
    assert asked_since(lookup_services, before) == [
        ("pages", "HEAD", "/pages/late"),
        ("pages", "HEAD", "/pages/get-only"),
        ("pages", "GET", "/pages/get-only"),
        ("youtube", "GET", UNKNOWN),
    ]
    gone = lookup_services.page_url("gone")
    assert out.decode().splitlines() == [
        "Filling missing thumbnails from YouTube and Vimeo, and checking that each video's "
        "sources still answer (at most one request every 0 s per site). Nothing is deleted; "
        "sources that do not answer are listed at the end.",
        f"Refreshed 4 videos in {store.name} (3 of them by the interrupted run before).",
        "Thumbnails: 3 filled, 1 not found at the video's host.",
        "Sources: 6 checked, 1 not answering.",
        "Nothing was deleted. Open each link below, and fix or remove it with /video edit if "
        "it is gone for good:",
        f"  vimeo: {gone} answered HTTP 404: the page is gone",
    ]
    assert await thumbnails(store) == {
        "full": services.thumbnail_of(services.FULL),
        "vimeo": services.thumbnail_of(services.VIMEO_FULL),
        "nothing": services.thumbnail_of(services.NOTHING),
    }
    assert all(s.user_agent.startswith("TakeTwo/") for s in lookup_services.requests)
    # Done: the progress is gone, so the next run checks every source again.
    assert progress_files(tmp_path) == []
    db = store.database()
    await db.open()
    try:
        async with db.read() as session:
            assert sum(map(len, (await session.videos.all_sources()).values())) == 6
    finally:
        await db.close()


async def test_refresh_with_lookups_off_asks_nothing_and_says_so(
    tmp_path: Path, stores: Stores, lookup_services: ServicesStandIn
) -> None:
    store = await catalog_store(stores, lookup_services)
    result = run_main(
        tmp_path,
        "catalog",
        "refresh",
        **environment(store, lookup_services, EXTERNAL_LOOKUPS="false"),
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "taketwo: EXTERNAL_LOOKUPS is false, so refresh may ask no outside service and did "
        "nothing: set EXTERNAL_LOOKUPS=true to fill thumbnails and check sources."
    ]
    assert lookup_services.requests == []
    assert await thumbnails(store) == {}


async def video_ids(store: Store) -> dict[str, int]:
    db = store.database()
    await db.open()
    try:
        async with db.read() as session:
            return {v.slug: v.id for v in await session.videos.all()}
    finally:
        await db.close()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_redraws_one_line_on_a_terminal_and_writes_lines_elsewhere() -> None:
    terminal = Terminal()
    bar = ProgressBar(terminal, 4)
    for done in range(5):
        bar.show(done)
    frames = terminal.getvalue().split("\r")[1:]
    assert frames[0] == "[------------------------------] 0/4 videos"
    assert frames[2] == "[###############---------------] 2/4 videos"
    assert frames[-1] == "[##############################] 4/4 videos\n"
    log = io.StringIO()
    bar = ProgressBar(log, 400)
    for done in range(401):
        bar.show(done)
    lines = log.getvalue().splitlines()
    assert len(lines) == 101  # one a percent, not one a video
    assert lines[1] == "refresh: 4/400 videos (1%)"
    assert lines[-1] == "refresh: 400/400 videos (100%)"


class FakeClock:
    """Monotonic time that moves only when slept through: waits are checked, not waited."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def refreshed_in_process(
    store: Store, lookup_services: ServicesStandIn, progress: Path, clock: FakeClock
) -> tuple[Summary, str]:
    """One run of refresh_catalog in this process (its lookups and checker on `clock`): what
    it did, and what it said on stderr besides the bar."""
    db = store.database()
    await db.open()
    client = LookupClient(clock=clock, sleep=clock.sleep, wall_clock=clock)
    lookups = Lookups(
        client,
        youtube_oembed_url=lookup_services.youtube_url,
        vimeo_oembed_url=lookup_services.vimeo_url,
        wikidata_api_url=lookup_services.wikidata_url,
    )
    checker = SourceChecker(user_agent="TakeTwo/test", pace=0, clock=clock, sleep=clock.sleep)
    said = io.StringIO()
    summary = Summary()
    try:
        await refresh_catalog(
            db, lookups, checker, ProgressFile(progress, store.name), said, summary
        )
    finally:
        await checker.close()
        await lookups.close()
        await db.close()
    return summary, said.getvalue()


async def test_refresh_waits_when_youtube_asks_it_to_and_fills_every_thumbnail(
    tmp_path: Path, stores: Stores, lookup_services: ServicesStandIn
) -> None:
    store = await catalog_store(stores, lookup_services)
    # YouTube's first answer: "too many requests, come back in a second".
    lookup_services.behaviour["youtube"] = Behaviour(status=429, retry_after="1", only_next=1)
    clock = FakeClock()
    summary, said = await refreshed_in_process(store, lookup_services, tmp_path / "progress", clock)
    assert "taketwo: oEmbed (YouTube) asked to wait 1 s; waiting" in said.splitlines()
    assert clock.slept[0] == 1.0  # then only YouTube's own pace between requests
    assert summary_lines(summary, store.name)[1] == (
        "Thumbnails: 3 filled, 1 not found at the video's host."
    )
    assert await thumbnails(store) == {
        "full": services.thumbnail_of(services.FULL),
        "vimeo": services.thumbnail_of(services.VIMEO_FULL),
        "nothing": services.thumbnail_of(services.NOTHING),
    }
    # The video asked during the wait was asked again: YouTube got one request more.
    assert [s.query["url"] for s in lookup_services.asked("youtube")] == [
        services.FULL.url,
        services.FULL.url,
        services.NOTHING.url,
        UNKNOWN,
    ]


async def test_videos_whose_host_did_not_answer_are_not_called_not_found_and_are_asked_again(
    tmp_path: Path, stores: Stores, lookup_services: ServicesStandIn
) -> None:
    store = await catalog_store(stores, lookup_services)
    lookup_services.behaviour["youtube"].status = 503
    progress = tmp_path / "progress"
    summary, _ = await refreshed_in_process(store, lookup_services, progress, FakeClock())
    assert summary_lines(summary, store.name)[1] == (
        "Thumbnails: 1 filled, 0 not found at the video's host, 3 not asked because the host "
        "did not answer (the next run asks again)."
    )
    assert await thumbnails(store) == {"vimeo": services.thumbnail_of(services.VIMEO_FULL)}

    # A run cut short after a video whose host did not answer: resumed, it asks again.
    ids = await video_ids(store)
    cut_short = ProgressFile(progress, store.name)
    cut_short.open(resume=False)
    cut_short.record(VideoDone(ids["full"], UNANSWERED, 1))
    cut_short.record(VideoDone(ids["vimeo"], "filled", 2))
    cut_short.close(finished=False)
    lookup_services.behaviour["youtube"].status = None
    before = len(lookup_services.requests)
    summary, _ = await refreshed_in_process(store, lookup_services, progress, FakeClock())
    assert summary.resumed == 1  # the Vimeo video; the YouTube one is done again
    assert ("youtube", "GET", services.FULL.url) in asked_since(lookup_services, before)
    assert summary_lines(summary, store.name)[1] == (
        "Thumbnails: 3 filled, 1 not found at the video's host."
    )
    assert set(await thumbnails(store)) == {"full", "vimeo", "nothing"}


async def test_a_site_that_keeps_failing_is_left_alone_and_its_sources_listed(
    tmp_path: Path, stores: Stores, lookup_services: ServicesStandIn
) -> None:
    store = await catalog_store(stores, lookup_services)
    lookup_services.behaviour["pages"].status = 503
    summary, _ = await refreshed_in_process(
        store, lookup_services, tmp_path / "progress", FakeClock()
    )
    # Six sources, all on one site: three failures in a row, then nothing more is asked.
    assert len(lookup_services.asked("pages")) == FAILURES_BEFORE_SKIP
    page = lookup_services.page_url
    lines = summary_lines(summary, store.name)
    assert lines[2] == "Sources: 3 checked, 3 not answering, 3 not checked."
    why = "not checked: 127.0.0.1 failed 3 times in a row"
    assert lines[-4:] == [
        "Not checked this run (their sites asked for a pause or kept failing):",
        f"  nothing: {page('slow')} {why}",
        f"  unknown: {page('late')} {why}",
        f"  unknown: {page('get-only')} {why}",
    ]


async def test_a_site_asking_to_slow_down_is_waited_for_within_a_minute(
    lookup_services: ServicesStandIn,
) -> None:
    lookup_services.pages.update({"a": 200, "b": 200})
    clock = FakeClock()
    checker = SourceChecker(user_agent="TakeTwo/test", pace=0, clock=clock, sleep=clock.sleep)
    try:
        lookup_services.behaviour["pages"] = Behaviour(status=429, retry_after="1", only_next=1)
        assert await checker.check(lookup_services.page_url("a")) is None
        assert clock.slept == [1.0]
        assert [s.path for s in lookup_services.asked("pages")] == ["/pages/a", "/pages/a"]
        # Asked for more than a minute: that site waits for the next run.
        lookup_services.behaviour["pages"] = Behaviour(status=429, retry_after="3600")
        waits = await checker.check(lookup_services.page_url("b"))
        assert waits == NotChecked("not checked: 127.0.0.1 asked to wait 3600 s")
        assert await checker.check(lookup_services.page_url("a")) == waits
        assert len(lookup_services.asked("pages")) == 3
        assert clock.slept == [1.0]
    finally:
        await checker.close()
