"""The database layer. All SQL lives here; nothing here imports discord."""

from bot.db.sqlite.database import Database, Session
from bot.db.failures import DatabaseUnusable

__all__ = ["Database", "DatabaseUnusable", "Session"]
