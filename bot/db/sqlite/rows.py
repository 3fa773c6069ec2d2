"""Many rows in one step.

aiosqlite runs each connection on a thread, and Python's sqlite3 releases and retakes the
GIL around every row it steps through. With a busy event loop each retake can wait a whole
switch interval, so a 200-row result costs far more than the query. The hot multi-row reads
therefore build their rows into one JSON array inside SQLite and return that single value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import aiosqlite


def as_json_array(columns: str, body: str) -> str:
    """Wrap `body` (a SELECT whose rows come out in the order wanted) so that it returns
    one JSON array of `[columns...]` rows."""
    return f"SELECT json_group_array(json_array({columns})) FROM ({body})"


async def json_rows(
    conn: aiosqlite.Connection, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
) -> list[list[Any]]:
    """The rows of a statement that returns one JSON array of rows."""
    rows = await conn.execute_fetchall(sql, params)
    return json.loads(next(iter(rows))[0])
