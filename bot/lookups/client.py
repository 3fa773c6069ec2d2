"""Outbound HTTP for lookups, done as a good citizen of the services it asks.

Every request has a timeout and a User-Agent naming the bot and a contact (Wikimedia's
User-Agent policy asks bots for both: https://foundation.wikimedia.org/wiki/Policy:User-Agent_policy).
Answers are cached; each service gets at most one request per `min_interval` (MusicBrainz
documents one a second: https://musicbrainz.org/doc/MusicBrainz_API/Rate_Limiting; the
MediaWiki API etiquette asks for requests in series, at a modest rate:
https://www.mediawiki.org/wiki/API:Etiquette); a service that keeps failing, or answers 429,
is left alone for a while. No failure leaves this module as an exception: the caller gets
None ("nothing from this service") and the log gets a line saying why.
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
from typing import Any
from urllib.parse import urlencode

import aiohttp

log = logging.getLogger(__name__)

BOT_NAME = "TakeTwo"
BOT_VERSION = "0.1"
DEFAULT_TIMEOUT = 5.0
DEFAULT_CACHE_SIZE = 1024
# A lookup answer is a few kilobytes; anything far bigger is not the answer asked for.
MAX_BODY = 1 << 20
# A Retry-After longer than this is read as this: a typo on their side should not turn the
# lookups off for a month.
MAX_RETRY_AFTER = 24 * 60 * 60
DAY = 24 * 60 * 60

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Service:
    """How one outside service is treated: its name in logs, the least time between two
    requests to it, how long its answers are kept, and when it is skipped."""

    name: str
    min_interval: float
    cache_for: float = DAY
    # "No such thing" (404) is kept for less time: a private video may be made public.
    cache_missing_for: float = 60 * 60
    failures_before_pause: int = 3
    pause_for: float = 5 * 60


@dataclass(slots=True)
class _ServiceState:
    next_slot: float = 0.0
    failures: int = 0
    skip_until: float = 0.0


@dataclass(slots=True)
class _Cache:
    """Answers by request URL, least recently used dropped first once `size` is reached."""

    size: int
    entries: OrderedDict[str, tuple[float, Any]] = field(default_factory=OrderedDict)

    def get(self, key: str, now: float) -> tuple[bool, Any]:
        entry = self.entries.get(key)
        if entry is None:
            return False, None
        expires, value = entry
        if expires <= now:
            del self.entries[key]
            return False, None
        self.entries.move_to_end(key)
        return True, value

    def put(self, key: str, value: Any, expires: float) -> None:
        self.entries[key] = (expires, value)
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)


def user_agent(contact: str) -> str:
    """`TakeTwo/0.1 (Discord bot; contact: …) aiohttp/x`: the bot, who runs it, the library."""
    about = (
        f"Discord bot; contact: {contact}" if contact else "Discord bot for music-video catalogs"
    )
    return f"{BOT_NAME}/{BOT_VERSION} ({about}) aiohttp/{aiohttp.__version__}"


def _retry_after(value: str | None, now_wall: float) -> float | None:
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
        cache_size: int = DEFAULT_CACHE_SIZE,
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
        self._cache = _Cache(cache_size)
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

    def skipped_until(self, service: Service) -> float:
        """When `service` is asked again (clock time); 0 when it is not being skipped."""
        state = self._states.get(service.name)
        return state.skip_until if state and state.skip_until > self._clock() else 0.0

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

    async def get_json(
        self, service: Service, url: str, params: Mapping[str, str]
    ) -> dict[str, Any] | None:
        """The JSON object `service` answers for GET url?params, or None: lookups off, the
        service skipped for now, nothing there (404), or a failure (logged)."""
        if not self.enabled:
            return None
        address = f"{url}?{urlencode(params)}" if params else url
        found, cached = self._cache.get(address, self._clock())
        if found:
            return dict(cached) if cached is not None else None
        state = self._state(service)
        if state.skip_until > self._clock():
            log.info("%s: skipped until it recovers; nothing asked", service.name)
            return None
        if not await self._take_slot(service):
            return None
        try:
            async with self._session_now().get(url, params=params) as response:
                if response.status == 429:
                    wait = _retry_after(response.headers.get("Retry-After"), self._wall_clock())
                    wait = service.pause_for if wait is None else wait
                    state.skip_until = self._clock() + wait
                    log.warning(
                        "%s: asked to slow down (429); skipped for %d s", service.name, wait
                    )
                    return None
                if response.status in (404, 410):
                    self._cache.put(address, None, self._clock() + service.cache_missing_for)
                    state.failures = 0
                    return None
                if response.status != 200:
                    self._failed(service, f"answered HTTP {response.status}")
                    return None
                body = await response.content.read(MAX_BODY + 1)
        except TimeoutError:
            self._failed(service, f"no answer within {self.timeout:g} s")
            return None
        except aiohttp.ClientError as exc:
            self._failed(service, f"request failed ({type(exc).__name__}: {exc})")
            return None
        if len(body) > MAX_BODY:
            self._failed(service, f"answer larger than {MAX_BODY} bytes")
            return None
        try:
            answer = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            self._failed(service, "answer is not JSON")
            return None
        if not isinstance(answer, dict):
            self._failed(service, "answer is not a JSON object")
            return None
        state.failures = 0
        self._cache.put(address, answer, self._clock() + service.cache_for)
        return dict(answer)
