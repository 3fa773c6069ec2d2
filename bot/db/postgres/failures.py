"""Which PostgreSQL errors are failures of the storage itself, and what each means: for the
member whose write was refused, and for the operator when the database cannot be opened.

An error of one statement (a constraint, a bug) is none of these: it is left to the caller.
"""

from __future__ import annotations

import re
import socket
from enum import Enum

import asyncpg

from bot.db.failures import (
    BROKEN_SENTENCE,
    BUSY_SENTENCE,
    FULL_SENTENCE,
    CannotReadError,
    DatabaseBusy,
    DatabaseUnusable,
    FailureLog,
)
from bot.errors import CannotSaveError


class Storage(Enum):
    BUSY = "busy"  # a lock held too long, a deadlock, no connection slot left
    FULL = "full"  # the server's disk
    GONE = "connection lost"  # the server went away, or never answered
    REFUSED = "refused"  # read-only, no privilege, a wrong database name or password
    BROKEN = "broken"  # out of memory, damaged data, an I/O error on the server


# SQLSTATE codes (postgresql.org/docs/current/errcodes-appendix.html), most specific first.
_BY_STATE = {
    "53100": Storage.FULL,  # disk_full
    "53300": Storage.BUSY,  # too_many_connections
    "55P03": Storage.BUSY,  # lock_not_available (lock_timeout)
    "40P01": Storage.BUSY,  # deadlock_detected
    "40001": Storage.BUSY,  # serialization_failure
    "57014": Storage.BUSY,  # query_canceled (statement_timeout)
    "57P03": Storage.BUSY,  # cannot_connect_now (the server is starting)
    "57P01": Storage.GONE,  # admin_shutdown (the backend was terminated)
    "57P02": Storage.GONE,  # crash_shutdown
    "25006": Storage.REFUSED,  # read_only_sql_transaction (a standby, or read-only mode)
    "42501": Storage.REFUSED,  # insufficient_privilege
    "3D000": Storage.REFUSED,  # invalid_catalog_name (no such database)
}
_BY_CLASS = {
    "08": Storage.GONE,  # connection exceptions
    "28": Storage.REFUSED,  # invalid authorization (user, password)
    "53": Storage.BROKEN,  # insufficient resources (memory)
    "58": Storage.BROKEN,  # system errors (I/O)
    "XX": Storage.BROKEN,  # internal errors (damaged data or indexes)
}


# asyncpg's words for a connection it has already found dead (and handed back to the pool)
# when it is used again, and for a pool closed (the bot shutting down) under a statement.
_LOST = re.compile(r"connection is closed|released back to the pool|pool is clos(ed|ing)")


def storage_failure(error: BaseException) -> Storage | None:
    """What is wrong with the storage as a whole, or None for an error of one statement."""
    if isinstance(error, asyncpg.PostgresError):
        state = error.sqlstate or ""
        return _BY_STATE.get(state) or _BY_CLASS.get(state[:2])
    if isinstance(error, asyncpg.InterfaceError) and _LOST.search(str(error)):
        return Storage.GONE  # the server went away between statements
    if isinstance(error, asyncpg.InternalClientError):
        # A statement begun just as the server dropped the connection can find asyncpg's
        # protocol still busy with the drop ("another operation is in progress").
        return Storage.GONE
    if isinstance(error, OSError | TimeoutError):
        return Storage.GONE  # refused, reset, unreachable, or no answer in time
    return None


def is_storage_failure(error: BaseException) -> bool:
    return storage_failure(error) is not None


def is_video_removed(error: BaseException) -> bool:
    """A rating or take named a video that is no longer in the catalog."""
    return isinstance(error, asyncpg.ForeignKeyViolationError)


def is_conflict(error: BaseException) -> bool:
    """A transaction that lost a race (a deadlock) and may simply run again."""
    cause = error.__cause__ if isinstance(error, CannotSaveError) else error
    return isinstance(cause, asyncpg.DeadlockDetectedError | asyncpg.SerializationError)


_SENTENCES = {Storage.BUSY: BUSY_SENTENCE, Storage.FULL: FULL_SENTENCE}


def _record(error: BaseException, failures: FailureLog, what: str) -> Storage:
    kind = storage_failure(error) or Storage.BROKEN
    state = getattr(error, "sqlstate", None)
    failures.record(f"{kind.value} ({state or type(error).__name__})", str(error), what=what)
    return kind


def cannot_save(error: BaseException, failures: FailureLog) -> CannotSaveError:
    """The member's sentence for a storage failure, logged once per kind a minute."""
    return CannotSaveError(
        _SENTENCES.get(_record(error, failures, "write refused"), BROKEN_SENTENCE)
    )


def cannot_read(error: BaseException, failures: FailureLog) -> CannotReadError:
    """The member's sentence for a read the storage failed, logged once per kind a minute."""
    _record(error, failures, "read refused")
    return CannotReadError()


def bad_url(error: ValueError) -> DatabaseUnusable:
    """The operator's line for a URL asyncpg cannot read (a wrong scheme, port or host)."""
    return DatabaseUnusable(
        # asyncpg's own message may quote part of the password: not repeated here.
        "DATABASE_URL is not a PostgreSQL address TakeTwo can use. Write it as "
        "postgresql://user:password@host:5432/database (a password with / ? # or @ in it "
        "percent-encoded)."
    )


def _causes(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and all(cause is not seen for seen in found):
        found.append(cause)
        cause = cause.__cause__ or cause.__context__
    return found


def unusable(where: str, error: BaseException) -> DatabaseUnusable | None:
    """The operator's line for an error met while opening the database (`where` is its URL
    without the password), if it means the database cannot be used; None for any other
    error."""
    for cause in _causes(error):
        if isinstance(cause, socket.gaierror):
            return DatabaseUnusable(
                f"the PostgreSQL host in {where} is unknown ({cause}): check DATABASE_URL."
            )
        found = storage_failure(cause)
        if found is Storage.BUSY:
            return DatabaseBusy(
                f"the PostgreSQL server at {where} is busy ({cause}): try again in a moment "
                "(if it says too many clients, lower the pool size or raise max_connections)."
            )
        if found is Storage.GONE:
            return DatabaseBusy(
                f"the PostgreSQL server at {where} cannot be reached ({cause or 'no answer'}): "
                "check that it is running and that DATABASE_URL names its host and port."
            )
        if found is Storage.REFUSED:
            return DatabaseUnusable(
                f"the PostgreSQL database at {where} refused TakeTwo ({cause}): check the "
                "database name, user and password in DATABASE_URL, and that the user may "
                "create tables in it (and the pg_trgm extension) on a server that is not "
                "read-only."
            )
        if found is Storage.FULL or found is Storage.BROKEN:
            return DatabaseUnusable(
                f"the PostgreSQL server at {where} cannot store data ({cause}): see its log."
            )
    return None
