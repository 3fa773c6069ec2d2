"""Outbound HTTP for lookups, done as a good citizen of the services it asks.

Every request has a timeout and a User-Agent naming the bot and a contact (Wikimedia's
User-Agent policy asks bots for both: https://foundation.wikimedia.org/wiki/Policy:User-Agent_policy).
Answers are cached; each service gets at most one request per `min_interval` (MusicBrainz
documents one a second: https://musicbrainz.org/doc/MusicBrainz_API/Rate_Limiting; the
MediaWiki API etiquette asks for requests in series, at a modest rate:
https://www.mediawiki.org/wiki/API:Etiquette); a service that keeps failing, or answers 429,
is left alone for a while. An answer that says "no such public thing at this address" (a
404, or oEmbed's 401 for a private video) is about that one address: it is cached as missing
and never counts against the service. No failure leaves this module as an exception: the
caller gets a `Miss` saying whether the service said "nothing there" or did not answer, and
the log gets a line saying why.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any
from urllib.parse import urlencode

import aiohttp

log = logging.getLogger(__name__)

BOT_NAME = "TakeTwo"
BOT_VERSION = "0.1"
DEFAULT_TIMEOUT = 5.0
# Answers are kept up to this many bytes in all (as received; the parsed JSON takes a few
# times that), least recently used dropped first: a lookup answer is a few kilobytes.
DEFAULT_CACHE_BYTES = 8 << 20
# A lookup answer is a few kilobytes; anything far bigger is not the answer asked for.
MAX_BODY = 1 << 20
# What a cached "no such thing" counts for in the cache's bytes.
MISSING_ENTRY_BYTES = 64
# A Retry-After longer than this is read as this: a typo on their side should not turn the
# lookups off for a month.
MAX_RETRY_AFTER = 24 * 60 * 60
DAY = 24 * 60 * 60

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Miss(Enum):
    """Why `get_json` has no JSON object to give."""

    # The service answered: it has nothing public at this address.
    MISSING = "missing"
    # Nothing usable came back, or nothing was asked (lookups off, the service skipped, a
    # timeout, an error): asking again later may find something.
    UNANSWERED = "unanswered"


@dataclass(frozen=True, slots=True)
class Service:
    """How one outside service is treated: its name in logs, the least time between two
    requests to it, how long its answers are kept, and when it is skipped."""

    name: str
    min_interval: float
    cache_for: float = DAY
    # "No such thing" is kept for less time: a private video may be made public.
    cache_missing_for: float = 60 * 60
    failures_before_pause: int = 3
    pause_for: float = 5 * 60
    # Statuses that mean "nothing public at this address": about that one request, so they
    # are cached as missing and never count as the service failing.
    missing_statuses: frozenset[int] = frozenset({404, 410})
    # Whole plain-text bodies that say the same with status 200.
    missing_bodies: frozenset[str] = frozenset()


@dataclass(slots=True)
class _ServiceState:
    next_slot: float = 0.0
    failures: int = 0
    skip_until: float = 0.0


@dataclass(slots=True)
class _Cache:
    """Answers by request URL, least recently used dropped first once they hold more than
    `max_bytes` (each counted by the size of the body it came from)."""

    max_bytes: int
    entries: OrderedDict[str, tuple[float, Any, int]] = field(default_factory=OrderedDict)
    held: int = 0

    def get(self, key: str, now: float) -> tuple[bool, Any]:
        entry = self.entries.get(key)
        if entry is None:
            return False, None
        expires, value, _ = entry
        if expires <= now:
            self._drop(key)
            return False, None
        self.entries.move_to_end(key)
        return True, value

    def put(self, key: str, value: Any, expires: float, size: int) -> None:
        if key in self.entries:
            self._drop(key)
        self.entries[key] = (expires, value, size)
        self.held += size
        while self.held > self.max_bytes and self.entries:
            self._drop(next(iter(self.entries)))

    def _drop(self, key: str) -> None:
        self.held -= self.entries.pop(key)[2]


def user_agent(contact: str) -> str:
    """`TakeTwo/0.1 (Discord bot; contact: …) aiohttp/x`: the bot, who runs it, the library."""
    about = (
        f"Discord bot; contact: {contact}" if contact else "Discord bot for music-video catalogs"
    )
    return f"{BOT_NAME}/{BOT_VERSION} ({about}) aiohttp/{aiohttp.__version__}"


def retry_after(value: str | None, now_wall: float) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        moment = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, OverflowError):
        return None
    return min(max(moment - now_wall, 0.0), MAX_RETRY_AFTER)


class LookupClient:
    """One per bot: shares a connection pool, the cache and each service's pace and state.

    `enabled=False` (EXTERNAL_LOOKUPS=false) makes every lookup answer None without a request.
    `clock` and `sleep` default to the monotonic clock and asyncio.sleep; tests pass their own
    so that waits and expiries are checked without waiting.
    """

    def __init__(
        self,
        *,
        contact: str = "",
        enabled: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        wall_clock: Clock = time.time,
    ) -> None:
        self.enabled = enabled
        self.user_agent = user_agent(contact)
        self.timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._cache = _Cache(cache_bytes)
        self._states: dict[str, _ServiceState] = {}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> LookupClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def skip_left(self, service: Service) -> float:
        """Seconds until `service` is asked again; 0 when it is not being skipped."""
        state = self._states.get(service.name)
        return max(state.skip_until - self._clock(), 0.0) if state else 0.0

    async def wait_out_skip(self, service: Service) -> None:
        """Waits (through the injected sleep) until `service` is asked again."""
        left = self.skip_left(service)
        if left > 0:
            await self._sleep(left)

    def _state(self, service: Service) -> _ServiceState:
        return self._states.setdefault(service.name, _ServiceState())

    def _session_now(self) -> aiohttp.ClientSession:
        # Made on first use: a ClientSession belongs to the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"User-Agent": self.user_agent},
            )
        return self._session

    def _failed(self, service: Service, reason: str) -> None:
        state = self._state(service)
        state.failures += 1
        if state.failures >= service.failures_before_pause:
            state.skip_until = self._clock() + service.pause_for
            state.failures = 0
            log.warning(
                "%s: %s; %d failures in a row, so it is skipped for %d s",
                service.name,
                reason,
                service.failures_before_pause,
                service.pause_for,
            )
        else:
            log.warning("%s: %s; nothing found from it this time", service.name, reason)

    async def _take_slot(self, service: Service) -> bool:
        """Waits for this service's next free slot; False when that is further off than a
        request's timeout (the member would wait in vain)."""
        state = self._state(service)
        now = self._clock()
        slot = max(now, state.next_slot)
        if slot - now > self.timeout:
            log.warning("%s: too many lookups waiting; nothing asked this time", service.name)
            return False
        # Reserved before waiting, so concurrent lookups queue behind each other.
        state.next_slot = slot + service.min_interval
        if slot > now:
            await self._sleep(slot - now)
        return True

    def _missing(self, service: Service, address: str) -> Miss:
        self._cache.put(
            address, None, self._clock() + service.cache_missing_for, MISSING_ENTRY_BYTES
        )
        self._state(service).failures = 0
        return Miss.MISSING

    async def get_json(
        self, service: Service, url: str, params: Mapping[str, str]
    ) -> dict[str, Any] | Miss:
        """The JSON object `service` answers for GET url?params, or why there is none:
        MISSING when the service says it has nothing there, UNANSWERED otherwise (lookups
        off, the service skipped for now, a failure: logged)."""
        if not self.enabled:
            return Miss.UNANSWERED
        address = f"{url}?{urlencode(params)}" if params else url
        found, cached = self._cache.get(address, self._clock())
        if found:
            return dict(cached) if cached is not None else Miss.MISSING
        state = self._state(service)
        if state.skip_until > self._clock():
            log.info("%s: skipped until it recovers; nothing asked", service.name)
            return Miss.UNANSWERED
        if not await self._take_slot(service):
            return Miss.UNANSWERED
        try:
            async with self._session_now().get(url, params=params) as response:
                if response.status == 429:
                    wait = retry_after(response.headers.get("Retry-After"), self._wall_clock())
                    wait = service.pause_for if wait is None else wait
                    state.skip_until = self._clock() + wait
                    log.warning(
                        "%s: asked to slow down (429); skipped for %d s", service.name, wait
                    )
                    return Miss.UNANSWERED
                if response.status in service.missing_statuses:
                    return self._missing(service, address)
                if response.status != 200:
                    self._failed(service, f"answered HTTP {response.status}")
                    return Miss.UNANSWERED
                body = await response.content.read(MAX_BODY + 1)
        except TimeoutError:
            self._failed(service, f"no answer within {self.timeout:g} s")
            return Miss.UNANSWERED
        except aiohttp.ClientError as exc:
            self._failed(service, f"request failed ({type(exc).__name__}: {exc})")
            return Miss.UNANSWERED
        if len(body) > MAX_BODY:
            # About this one answer, not the service's health: it is not paused for it.
            log.warning("%s: answer larger than %d bytes; not read", service.name, MAX_BODY)
            return Miss.UNANSWERED
        if len(body) <= 64 and body.strip().decode("ascii", "replace") in service.missing_bodies:
            return self._missing(service, address)
        try:
            answer = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            self._failed(service, "answer is not JSON")
            return Miss.UNANSWERED
        if not isinstance(answer, dict):
            self._failed(service, "answer is not a JSON object")
            return Miss.UNANSWERED
        state.failures = 0
        self._cache.put(address, answer, self._clock() + service.cache_for, len(body))
        return dict(answer)
