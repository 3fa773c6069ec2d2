"""Rows into the models.

Every query selects its columns in the order of the dataclass it fills, so a row (or a
nested row, which asyncpg decodes as a tuple) becomes the model by position: no column
names to look up, no JSON to decode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.db.models import ScoreSummary

VIDEO = "id, slug, title, artist, album, year, url"
TAKE = "id, guild_id, video_id, user_id, score, text, created_at, updated_at, agree_count"
REVIEW = "headline, summary, outlet, author, published_on, url"
CREDIT = "role, name, kind"
HISTOGRAM = ", ".join(f"s{k}" for k in range(1, 11))
# count, total and the histogram: what `summary_from` reads.
SCORES = f"count, total, {HISTOGRAM}"


def qualified(alias: str, columns: str) -> str:
    """Columns as a joined statement names them: `qualified("v", "id, slug")` is
    `v.id, v.slug`."""
    return ", ".join(f"{alias}.{column}" for column in columns.split(", "))


def summary_from(row: Sequence[Any] | None) -> ScoreSummary:
    """A summary from the SCORES columns (or none at all: no rating yet)."""
    if not row or not row[0]:
        return ScoreSummary()
    return ScoreSummary(count=row[0], total=row[1], histogram=tuple(row[2:12]))
