"""What a refused write means for the member, and one log line per kind of failure.

A full disk or a lock held by an import beside the bot fails every write until it clears:
logging each failure whole would write thousands of tracebacks a minute, so each kind is
logged once, then at most once a minute with a count of the ones in between. Which engine
error is which kind is the backend's to say (bot/db/sqlite/failures.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.errors import NotFoundError, UserFacingError

log = logging.getLogger("taketwo.db")

LOG_EVERY = 60.0

BUSY_SENTENCE = (
    "TakeTwo is busy saving other changes. Nothing was saved; please try again in a moment."
)
FULL_SENTENCE = (
    "TakeTwo can't save right now: the disk it saves to is full. Nothing was saved; "
    "please try again later."
)
BROKEN_SENTENCE = (
    "TakeTwo can't save right now because of a problem with its storage. Nothing was saved; "
    "please try again later."
)
# A read that failed, on any command: whatever else the command would have done did not happen.
CANNOT_READ_SENTENCE = (
    "TakeTwo can't reach its storage right now, so nothing was looked up or saved. "
    "Please try again in a moment."
)


class FailureLog:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        # (what, kind) -> (logged at, suppressed since)
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def record(self, kind: str, detail: str, *, what: str = "write refused") -> None:
        """Log one failure of `kind` (`what` failed: a write by default), unless one of that
        kind was logged in the last minute."""
        now = self.clock()
        last = self._last.get((what, kind))
        if last is not None and now - last[0] < LOG_EVERY:
            self._last[(what, kind)] = (last[0], last[1] + 1)
            return
        more = f" ({last[1]} more like it since the last line)" if last and last[1] else ""
        log.error("%s by the database: %s: %s%s", what, kind, detail, more)
        self._last[(what, kind)] = (now, 0)


class DatabaseUnusable(Exception):
    """The database cannot be used at all (damaged, not a database, not writable). Its
    message is the one line an operator needs: which database, what is wrong, what to do."""


class DatabaseBusy(DatabaseUnusable):
    """Another program held the database's lock for longer than the busy timeout: unusable
    now, but worth trying again later."""


class CannotReadError(UserFacingError):
    """The storage could not answer a read (a database server gone away, or without a
    connection to spare): nothing the member did, and trying again soon may help."""

    def __init__(self, message: str = CANNOT_READ_SENTENCE) -> None:
        super().__init__(message)


class ReferenceGone(NotFoundError):
    """A write named something removed meanwhile (a video, a take): nothing was saved."""

    def __init__(self, message: str = "That video is no longer in the catalog.") -> None:
        super().__init__(message)


class MigrationError(Exception):
    """A migration failed or was refused; the database is at the version before it."""


def damaged(path: object, detail: str) -> DatabaseUnusable:
    return DatabaseUnusable(
        f"the database file {path} is damaged ({detail}). Stop TakeTwo, move the file "
        "aside and restore your latest backup to that path (see README, Backups)."
    )
