"""What both engines share about video suggestions: the columns each query selects, in one
order, and the model built from them (bot/db/sqlite/suggestions.py and
bot/db/postgres/suggestions.py hold the queries)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bot.db.models import Video, VideoSuggestion

# A suggestion, how many members suggested it, and the video it was added as (if any).
COLUMNS = (
    "s.id, s.url, s.status, s.created_at, "
    "(SELECT count(*) FROM video_suggesters AS m WHERE m.suggestion_id = s.id), "
    "s.reason, s.decided_at, v.id, v.slug, v.title, v.artist, v.album, v.year, v.url"
)
FROM = "video_suggestions AS s LEFT JOIN videos AS v ON v.id = s.video_id"
# A suggestion as an export shows it: one row for each member who suggested it.
EXPORTED = (
    "SELECT s.id, m.user_id, s.url, m.note, m.created_at, s.status, v.slug AS video, "
    "s.reason, s.decided_at FROM video_suggesters AS m "
    "JOIN video_suggestions AS s ON s.id = m.suggestion_id "
    "LEFT JOIN videos AS v ON v.id = s.video_id"
)


def suggestion_from(row: Sequence[Any], notes: Iterable[str] = ()) -> VideoSuggestion:
    """A row of COLUMNS as the model, with the notes its suggesters wrote."""
    video = Video(*row[7:14]) if row[7] is not None else None
    return VideoSuggestion(
        id=row[0],
        url=row[1],
        status=row[2],
        created_at=row[3],
        suggesters=row[4],
        notes=tuple(notes),
        video=video,
        reason=row[5],
        decided_at=row[6],
    )


def with_notes(rows: Sequence[Any], notes: Iterable[tuple[int, str]]) -> list[VideoSuggestion]:
    """Rows of COLUMNS, each with the notes (suggestion id, note) that belong to it."""
    by_id: dict[int, list[str]] = {}
    for suggestion_id, note in notes:
        by_id.setdefault(suggestion_id, []).append(note)
    return [suggestion_from(row, by_id.get(row[0], ())) for row in rows]
