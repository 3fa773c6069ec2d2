"""The database layer. All SQL lives here; nothing here imports discord."""

from bot.db.database import Database, Session

__all__ = ["Database", "Session"]
