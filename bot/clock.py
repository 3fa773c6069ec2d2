"""The time a write records, in one place."""

from __future__ import annotations

import time


def now() -> int:
    """Now, as whole Unix seconds (UTC): how every moment is stored."""
    return int(time.time())
