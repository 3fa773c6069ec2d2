"""The `video` option: autocomplete from titles and artists, and the server-side check of
whatever the member sent (a picked choice or text typed by hand)."""

from __future__ import annotations

import re
import time
from collections import OrderedDict

import discord
from discord import app_commands

from bot.db.models import CHOICE_PREFIX, Video
from bot.db.text import CONTROL, SURROGATE
from bot.errors import NotFoundError
from bot.ui.context import client
from bot.ui.limits import CHOICE_NAME, CHOICES, clip


class RecentVideos:
    """Videos picked from autocomplete (or typed by hand) in the last minute.

    A picked choice arrives as "id:N", a typed one as text; keeping what each resolved to
    saves a lookup on every /review and /rate. Everything kept belongs to one version of
    the catalog (`Database.catalog_version`): when any process adds, edits or removes a
    video, the version moves and all of it is dropped, so an edit shows at once everywhere.
    """

    def __init__(self, size: int = 4096, seconds: float = 60.0) -> None:
        self.size, self.seconds = size, seconds
        self._items: OrderedDict[int, tuple[float, Video]] = OrderedDict()
        # Text typed by hand (as typed) -> the video it resolved to, for the same minute.
        self._typed: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._version: int | None = None

    def at_version(self, version: int) -> None:
        """Drop everything kept if the catalog changed since it was kept. Call with the
        version read before the lookups whose videos are then `put`."""
        if version != self._version:
            self._items.clear()
            self._typed.clear()
            self._version = version

    def get(self, video_id: int) -> Video | None:
        hit = self._items.get(video_id)
        if hit is None or hit[0] < time.monotonic():
            return None
        self._items.move_to_end(video_id)
        return hit[1]

    def get_typed(self, text: str) -> Video | None:
        hit = self._typed.get(text)
        if hit is None or hit[0] < time.monotonic():
            return None
        return self.get(hit[1])

    def put(self, video: Video, version: int, typed: str | None = None) -> None:
        """Keep a video read at `version` (nothing, if the catalog has moved on since)."""
        if version != self._version:
            return
        until = time.monotonic() + self.seconds
        self._items[video.id] = (until, video)
        self._items.move_to_end(video.id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        if typed is not None:
            self._typed[typed] = (until, video.id)
            self._typed.move_to_end(typed)
            while len(self._typed) > self.size:
                self._typed.popitem(last=False)


_CHOICE_VALUE = re.compile(r"^id:([0-9]{1,18})$")


class VideoTransformer(app_commands.Transformer):
    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def max_value(self) -> int:
        return 100  # the longest string Discord lets a member send here

    async def transform(self, interaction: discord.Interaction, value: str, /) -> Video:
        match = _CHOICE_VALUE.match(str(value).strip())
        bot = client(interaction)
        version = await bot.db.catalog_version()
        bot.recent_videos.at_version(version)
        if match:
            video_id = int(match.group(1))
            cached = bot.recent_videos.get(video_id)
            if cached is not None:
                return cached
            try:
                async with bot.db.lookup() as session:
                    video = await session.videos.get(video_id)
            except NotFoundError:
                video = None
            if video is not None:
                bot.recent_videos.put(video, version)
                return video
        typed = str(value)
        if (remembered := bot.recent_videos.get_typed(typed)) is not None:
            return remembered
        # A whole title typed by hand is an index lookup, answered on the loop's own
        # connection; only a partial or misspelt one needs the search, off the loop.
        async with bot.db.lookup() as session:
            found = await session.videos.resolve_exactly(typed)
        if found is None:
            async with bot.db.read() as session:
                found = await session.videos.resolve_by_search(typed)
        bot.recent_videos.put(found, version, typed=typed)
        return found

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction, value: str, /
    ) -> list[app_commands.Choice[str]]:
        # Autocomplete is not checked like a command's options: drop what cannot be searched.
        text = SURROGATE.sub("", CONTROL.sub("", str(value)))[:100]
        bot = client(interaction)
        version = await bot.db.catalog_version()
        bot.recent_videos.at_version(version)
        async with bot.db.lookup() as session:
            videos = await session.videos.search_as_typed(text, limit=CHOICES)
        if not videos:  # nothing as typed: look for near misses, off the event loop
            async with bot.db.read() as session:
                videos = await session.videos.near_misses(text, limit=CHOICES)
        for video in videos:
            bot.recent_videos.put(video, version)
        return [
            app_commands.Choice(name=clip(v.label, CHOICE_NAME), value=f"{CHOICE_PREFIX}{v.id}")
            for v in videos
        ]


VideoOption = app_commands.Transform[Video, VideoTransformer]
