"""Which SQLite errors are failures of the storage itself, and what each means: for the
member whose write was refused, and for the operator when the file cannot be opened."""

from __future__ import annotations

import sqlite3
from enum import Enum

from bot.db.failures import (
    BROKEN_SENTENCE,
    BUSY_SENTENCE,
    FULL_SENTENCE,
    DatabaseBusy,
    DatabaseUnusable,
    FailureLog,
    damaged,
)
from bot.errors import CannotSaveError


class Storage(Enum):
    BUSY = "busy"  # a lock held longer than the busy timeout
    FULL = "full"  # the disk
    DAMAGED = "damaged"  # not a database, or corrupt
    UNWRITABLE = "unwritable"  # permissions, a read-only file, an I/O error
    BROKEN = "broken"  # out of memory, a locking protocol failure


def storage_failure(error: BaseException) -> Storage | None:
    """What is wrong with the storage as a whole, or None for an error of one statement
    (a constraint, a bug), which retrying the same write on its own may help."""
    name = getattr(error, "sqlite_errorname", None) or ""
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED"):
        return Storage.BUSY
    if name == "SQLITE_FULL":
        return Storage.FULL
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return Storage.DAMAGED
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_IOERR")):
        return Storage.UNWRITABLE
    if name in ("SQLITE_NOMEM", "SQLITE_PROTOCOL"):
        return Storage.BROKEN
    return None


def is_storage_failure(error: BaseException) -> bool:
    return storage_failure(error) is not None


_SENTENCES = {Storage.BUSY: BUSY_SENTENCE, Storage.FULL: FULL_SENTENCE}


def cannot_save(error: sqlite3.Error, failures: FailureLog) -> CannotSaveError:
    """The member's sentence for a storage failure, logged once per kind a minute."""
    kind = getattr(error, "sqlite_errorname", None) or type(error).__name__
    failures.record(kind, str(error))
    return CannotSaveError(
        _SENTENCES.get(storage_failure(error) or Storage.BROKEN, BROKEN_SENTENCE)
    )


def unusable(path: object, error: BaseException) -> DatabaseUnusable | None:
    """The operator's line for an error met while opening the database, if it means the file
    itself cannot be used; None for any other error."""
    cause: BaseException | None = error
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        found = storage_failure(cause)
        if found is Storage.DAMAGED:
            return damaged(path, str(cause))
        if found is Storage.BUSY:
            return DatabaseBusy(
                f"the database file {path} stayed locked by another program ({cause}): try "
                "again when it has finished (a long catalog import, a backup tool)."
            )
        if found is Storage.UNWRITABLE:
            return DatabaseUnusable(
                f"the database file {path} cannot be written ({cause}). Give the user that runs "
                "TakeTwo write access to the file and its folder, or set DATABASE_PATH elsewhere."
            )
        cause = cause.__cause__ or cause.__context__
    return None
