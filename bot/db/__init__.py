"""The data layer. All SQL lives here; nothing here imports discord.

The rest of the bot uses the types of `bot.db.interface` (re-exported here) and the
dataclasses of `bot.db.models`; `bot/db/sqlite` is the implementation.
"""

from bot.db.failures import DatabaseBusy, DatabaseUnusable
from bot.db.interface import Database, LookupSession, ReadSession, WriteSession

__all__ = [
    "Database",
    "DatabaseBusy",
    "DatabaseUnusable",
    "LookupSession",
    "ReadSession",
    "WriteSession",
]
