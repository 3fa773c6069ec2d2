"""Everything the outside services say about a video link, as one FoundFacts.

The host's oEmbed answer gives the title, channel and thumbnail; "Artist - Title" in that
title gives the artist; with both, Wikidata gives the rest. Nothing here raises for a
service's failure: what could not be found is left empty, and a service that did not answer
is named in `FoundFacts.unanswered` (so "nothing found" is not said when nothing was asked).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.links import VideoLink
from bot.lookups.client import LookupClient, Miss
from bot.lookups.facts import Fact, FoundFacts
from bot.lookups.oembed import fetch_oembed
from bot.lookups.titles import split_title
from bot.lookups.wikidata import find_facts
from bot.settings import (
    DEFAULT_OEMBED_VIMEO_URL,
    DEFAULT_OEMBED_YOUTUBE_URL,
    DEFAULT_WIKIDATA_API_URL,
    Settings,
)

log = logging.getLogger(__name__)

HOST_NAMES = {"youtube": "YouTube", "vimeo": "Vimeo"}
WIKIDATA_NAME = "Wikidata"


class Lookups:
    """One per bot process (it holds the shared LookupClient: cache, pace, skipped services)."""

    def __init__(
        self,
        client: LookupClient,
        *,
        youtube_oembed_url: str = DEFAULT_OEMBED_YOUTUBE_URL,
        vimeo_oembed_url: str = DEFAULT_OEMBED_VIMEO_URL,
        wikidata_api_url: str = DEFAULT_WIKIDATA_API_URL,
    ) -> None:
        self.client = client
        self.youtube_oembed_url = youtube_oembed_url
        self.vimeo_oembed_url = vimeo_oembed_url
        self.wikidata_api_url = wikidata_api_url

    @classmethod
    def from_settings(cls, settings: Settings) -> Lookups:
        if settings.external_lookups and not settings.lookup_contact:
            # Wikimedia's User-Agent policy asks for a way to reach the operator, and may
            # block requests without one.
            log.warning(
                "Lookups are on but LOOKUP_CONTACT is empty: set it to an email address or a "
                "web page about this bot, which Wikidata asks to find in every request."
            )
        client = LookupClient(contact=settings.lookup_contact, enabled=settings.external_lookups)
        return cls(
            client,
            youtube_oembed_url=settings.oembed_youtube_url,
            vimeo_oembed_url=settings.oembed_vimeo_url,
            wikidata_api_url=settings.wikidata_api_url,
        )

    async def close(self) -> None:
        await self.client.close()

    async def facts_for(self, link: VideoLink) -> FoundFacts:
        """What the services state about the video; empty FoundFacts when lookups are off or
        nothing answered. Takes a few requests: defer the interaction first."""
        if not self.client.enabled:
            return FoundFacts()
        info = await fetch_oembed(
            self.client, link, youtube_url=self.youtube_oembed_url, vimeo_url=self.vimeo_oembed_url
        )
        if info is Miss.UNANSWERED:
            return FoundFacts(unanswered=(HOST_NAMES[link.host],))
        if isinstance(info, Miss):
            return FoundFacts()
        # The host's own page states its title, channel and thumbnail.
        page = link.url
        split = split_title(info.title) if info.title else None
        found = FoundFacts(
            title=Fact(split.title, page) if split else None,
            artist=Fact(split.artist, page) if split and split.artist else None,
            channel=Fact(info.author_name, page) if info.author_name else None,
            thumbnail=Fact(info.thumbnail_url, page) if info.thumbnail_url else None,
        )
        if split is None or split.artist is None:
            return found
        wikidata = await find_facts(
            self.client, split.title, split.artist, api_url=self.wikidata_api_url
        )
        if wikidata is Miss.UNANSWERED:
            return replace(found, unanswered=(WIKIDATA_NAME,))
        if isinstance(wikidata, Miss):
            return found
        published = wikidata.published
        return replace(
            found,
            published=published,
            year=Fact(int(published.value[:4]), published.source) if published else None,
            song_published=wikidata.song_published,
            directors=wikidata.directors,
            performers=wikidata.performers,
            album=wikidata.album,
            video_item=wikidata.video_item,
            song_item=wikidata.song_item,
            ambiguous=wikidata.ambiguous,
        )
