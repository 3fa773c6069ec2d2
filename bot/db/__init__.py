"""The database layer. All SQL lives here; nothing here imports discord."""

from bot.db.failures import DatabaseUnusable
from bot.db.sqlite.database import Database, Session

__all__ = ["Database", "DatabaseUnusable", "Session"]
