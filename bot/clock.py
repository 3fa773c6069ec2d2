"""The time a write records, in one place."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """Now, in UTC, as ISO 8601 to the second (`2026-01-15T09:00:00+00:00`)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
