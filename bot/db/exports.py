"""Data people can carry out: one server's data, or one member's, as plain JSON-ready dicts.

The same export serves `python -m bot export-server`, `/export-server` and
`/privacy export`. Ids are strings (JavaScript cannot hold 64-bit ids as numbers) and every
time is ISO 8601 in UTC (`2026-01-15T09:00:00Z`); the database keeps Unix seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

SERVER_FORMAT = "taketwo-server-export"
MEMBER_FORMAT = "taketwo-member-export"
VERSION = 2

# Columns that hold a Discord or row id, turned into strings on the way out.
_IDS = {"id", "user_id", "saved_by", "author_id", "removed_by", "take_id", "item_id"}
_TIMES = {"rated_at", "created_at", "updated_at", "removed_at", "decided_at"}


def utc_iso(seconds: int | None) -> str | None:
    """Unix seconds (how every moment is stored) as `YYYY-MM-DDTHH:MM:SSZ`."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def clean(row: dict[str, Any]) -> dict[str, Any]:
    """A row as exported: ids as strings, times as ISO 8601 in UTC."""
    for key, value in row.items():
        if key in _IDS and value is not None:
            row[key] = str(value)
        elif key in _TIMES:
            row[key] = utc_iso(value)
    return row
