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
from bot.refresh import ProgressBar
from bot.standin import services
from bot.standin.services import ServicesStandIn
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
