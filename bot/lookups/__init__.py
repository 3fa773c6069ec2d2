"""Facts about a video from public services (oEmbed, Wikidata), asked politely. No discord
import here: cogs call `Lookups.facts_for` after deferring the interaction."""

from bot.lookups.client import LookupClient, Miss, Service
from bot.lookups.facts import Fact, FoundFacts
from bot.lookups.lookup import Lookups
from bot.lookups.oembed import OEmbedInfo, fetch_oembed
from bot.lookups.titles import SplitTitle, split_title
from bot.lookups.wikidata import WikidataFacts, find_facts

__all__ = [
    "Fact",
    "FoundFacts",
    "LookupClient",
    "Lookups",
    "Miss",
    "OEmbedInfo",
    "Service",
    "SplitTitle",
    "WikidataFacts",
    "fetch_oembed",
    "find_facts",
    "split_title",
]
