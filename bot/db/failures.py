"""What a refused write means for the member, and one log line per kind of failure.

A full disk or a lock held by an import beside the bot fails every write until it clears:
logging each failure whole would write thousands of tracebacks a minute, so each kind is
logged once, then at most once a minute with a count of the ones in between.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable

from bot.errors import CannotSaveError

log = logging.getLogger("taketwo.db")

LOG_EVERY = 60.0

_BUSY = "TakeTwo is busy saving other changes. Nothing was saved; please try again in a moment."
_FULL = (
    "TakeTwo can't save right now: the disk it saves to is full. Nothing was saved; "
    "please try again later."
)
_BROKEN = (
    "TakeTwo can't save right now because of a problem with its storage. Nothing was saved; "
    "please try again later."
)
_SENTENCES = {
    "SQLITE_BUSY": _BUSY,
    "SQLITE_LOCKED": _BUSY,
    "SQLITE_FULL": _FULL,
}
# Failures of the storage itself, not of one statement's data.
_BROKEN_PREFIXES = ("SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_CORRUPT")
_BROKEN_NAMES = {"SQLITE_NOTADB", "SQLITE_PERM", "SQLITE_NOMEM", "SQLITE_PROTOCOL"}


def is_storage_failure(error: BaseException) -> bool:
    """True when the error is about the database as a whole, so retrying the same write on
    its own, row by row, cannot help."""
    name = getattr(error, "sqlite_errorname", None) or ""
    return name in _SENTENCES or name in _BROKEN_NAMES or name.startswith(_BROKEN_PREFIXES)


class FailureLog:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._last: dict[str, tuple[float, int]] = {}  # kind -> (logged at, suppressed since)

    def record(self, kind: str, detail: str) -> None:
        now = self.clock()
        last = self._last.get(kind)
        if last is not None and now - last[0] < LOG_EVERY:
            self._last[kind] = (last[0], last[1] + 1)
            return
        more = f" ({last[1]} more like it since the last line)" if last and last[1] else ""
        log.error("write refused by the database: %s: %s%s", kind, detail, more)
        self._last[kind] = (now, 0)


def cannot_save(error: sqlite3.Error, failures: FailureLog) -> CannotSaveError:
    """The member's sentence for a storage failure, logged once per kind a minute."""
    kind = getattr(error, "sqlite_errorname", None) or type(error).__name__
    failures.record(kind, str(error))
    return CannotSaveError(_SENTENCES.get(kind, _BROKEN))


class DatabaseUnusable(Exception):
    """The database file cannot be used at all (damaged, not a database, not writable).
    Its message is the one line an operator needs: which file, what is wrong, what to do."""


class DatabaseBusy(DatabaseUnusable):
    """Another program held the database's lock for longer than the busy timeout: unusable
    now, but worth trying again later."""


_DAMAGED = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
_UNWRITABLE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_IOERR")


def damaged(path: object, detail: str) -> DatabaseUnusable:
    return DatabaseUnusable(
        f"the database file {path} is damaged ({detail}). Stop TakeTwo, move the file "
        "aside and restore your latest backup to that path (see README, Backups)."
    )


def unusable(path: object, error: BaseException) -> DatabaseUnusable | None:
    """The operator's line for an error met while opening the database, if it means the file
    itself cannot be used; None for any other error."""
    cause: BaseException | None = error
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        name = getattr(cause, "sqlite_errorname", None) or ""
        if name.startswith(_DAMAGED):
            return damaged(path, str(cause))
        if name in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            return DatabaseBusy(
                f"the database file {path} stayed locked by another program ({cause}): try "
                "again when it has finished (a long catalog import, a backup tool)."
            )
        if name.startswith(_UNWRITABLE):
            return DatabaseUnusable(
                f"the database file {path} cannot be written ({cause}). Give the user that runs "
                "TakeTwo write access to the file and its folder, or set DATABASE_PATH elsewhere."
            )
        cause = cause.__cause__ or cause.__context__
    return None
