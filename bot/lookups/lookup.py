"""Everything the outside services say about a video link, as one FoundFacts.

The host's oEmbed answer gives the title, channel and thumbnail; "Artist - Title" in that
title gives the artist; with both, Wikidata gives the rest. Nothing here raises for a
service's failure: what could not be found is left empty.
"""

from __future__ import annotations

from bot.links import VideoLink
from bot.lookups.client import LookupClient
from bot.lookups.facts import Fact, FoundFacts
from bot.lookups.oembed import DEFAULT_VIMEO_URL, DEFAULT_YOUTUBE_URL, fetch_oembed
from bot.lookups.titles import split_title
from bot.lookups.wikidata import DEFAULT_API_URL, find_facts
from bot.settings import Settings


class Lookups:
    """One per bot (it holds the shared LookupClient: cache, pace, skipped services)."""

    def __init__(
        self,
        client: LookupClient,
        *,
        youtube_oembed_url: str = DEFAULT_YOUTUBE_URL,
        vimeo_oembed_url: str = DEFAULT_VIMEO_URL,
        wikidata_api_url: str = DEFAULT_API_URL,
    ) -> None:
        self.client = client
        self.youtube_oembed_url = youtube_oembed_url
        self.vimeo_oembed_url = vimeo_oembed_url
        self.wikidata_api_url = wikidata_api_url

    @classmethod
    def from_settings(cls, settings: Settings) -> Lookups:
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
        info = await fetch_oembed(
            self.client, link, youtube_url=self.youtube_oembed_url, vimeo_url=self.vimeo_oembed_url
        )
        if info is None:
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
        if wikidata is None:
            return found
        published = wikidata.published
        return FoundFacts(
            title=found.title,
            artist=found.artist,
            channel=found.channel,
            thumbnail=found.thumbnail,
            published=published,
            year=Fact(int(published.value[:4]), published.source) if published else None,
            song_published=wikidata.song_published,
            directors=wikidata.directors,
            performers=wikidata.performers,
            album=wikidata.album,
            video_item=wikidata.video_item,
            song_item=wikidata.song_item,
        )
