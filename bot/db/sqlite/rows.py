"""Many rows in one step, read by name.

aiosqlite runs each connection on a thread, and Python's sqlite3 releases and retakes the
GIL around every row it steps through. With a busy event loop each retake can wait a whole
switch interval, so a 200-row result costs far more than the query. The hot multi-row reads
therefore build their rows into one JSON array of objects inside SQLite and return that
single value.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any, Protocol, TypeVar

from bot.db.models import Credit, DailyPost, DailySchedule, PressReview, Quote, Take, Video
from bot.db.sqlite.connections import Fetches, Params

JsonRow = dict[str, Any]
M = TypeVar("M")


def as_json_array(columns: list[str], body: str, *, json_columns: tuple[str, ...] = ()) -> str:
    """Wrap `body` (a SELECT with these result columns, its rows in the order wanted) so
    that it returns one JSON array of `{column: value}` objects. A column in `json_columns`
    holds JSON text (a json_array() of the body), kept as JSON rather than as a string."""
    values = ", ".join(
        f"'{name}', json({name})" if name in json_columns else f"'{name}', {name}"
        for name in columns
    )
    return f"SELECT json_group_array(json_object({values})) FROM ({body})"


async def json_rows(conn: Fetches, sql: str, params: Params = ()) -> list[JsonRow]:
    """The rows of a statement that returns one JSON array of objects."""
    [row] = await conn.fetchall(sql, params)
    rows: list[JsonRow] = json.loads(row[0])
    return rows


def columns_of(model: type[Any], table: str | None = None) -> str:
    """The dataclass's fields as a column list, in its own order (`Video(*row)` then reads
    each column into the field of its name)."""
    prefix = f"{table}." if table else ""
    return ", ".join(prefix + field.name for field in fields(model))


def as_json_array_of(model: type[Any], body: str) -> str:
    """Wrap `body` (a SELECT whose result columns are named as the fields of the dataclass
    `model`) so that it returns one JSON array of rows holding those columns in the
    dataclass's own order: the hottest lists are read straight into dataclasses, without
    the cost of a key per value (a quarter of the decoding time)."""
    return f"SELECT json_group_array(json_array({columns_of(model)})) FROM ({body})"


async def json_models(conn: Fetches, model: type[M], sql: str, params: Params = ()) -> list[M]:
    """The dataclasses of a statement built by `as_json_array_of(model, ...)`."""
    [row] = await conn.fetchall(sql, params)
    return [model(*values) for values in json.loads(row[0])]


class Named(Protocol):
    """A row read by column name: an `sqlite3.Row` or a JSON object."""

    def __getitem__(self, key: str, /) -> Any: ...


# Rows into the models, by column name.

VIDEO_FIELDS = [field.name for field in fields(Video)]


def video_from(row: Named) -> Video:
    return Video(
        id=row["id"],
        slug=row["slug"],
        title=row["title"],
        artist=row["artist"],
        album=row["album"],
        year=row["year"],
        url=row["url"],
    )


def credit_from(row: Named) -> Credit:
    return Credit(role=row["role"], name=row["name"], kind=row["kind"])


def review_from(row: Named) -> PressReview:
    return PressReview(
        headline=row["headline"],
        summary=row["summary"],
        outlet=row["outlet"],
        author=row["author"],
        published_on=row["published_on"],
        url=row["url"],
    )


def take_from(row: Named) -> Take:
    return Take(
        id=row["id"],
        guild_id=row["guild_id"],
        video_id=row["video_id"],
        user_id=row["user_id"],
        score=row["score"],
        text=row["text"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        agree_count=row["agree_count"],
    )


def quote_from(row: Named) -> Quote:
    return Quote(
        id=row["id"],
        guild_id=row["guild_id"],
        text=row["text"],
        created_at=row["created_at"],
        video_id=row["video_id"],
        video_title=row["video_title"],
        said_by=row["said_by"],
        source_url=row["source_url"],
        saved_by=row["saved_by"],
        author_id=row["author_id"],
        is_sample=bool(row["is_sample"]),
    )


def schedule_from(row: Named) -> DailySchedule:
    return DailySchedule(
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        post_time=row["post_time"],
        timezone=row["timezone"],
        next_local_date=row["next_local_date"],
        due_at=row["due_at"],
        next_quote_id=row["next_quote_id"],
        paused_reason=row["paused_reason"],
        last_error=row["last_error"],
        last_error_at=row["last_error_at"],
    )


def post_from(row: Named) -> DailyPost:
    return DailyPost(
        guild_id=row["guild_id"],
        local_date=row["local_date"],
        status=row["status"],
        quote_id=row["quote_id"],
        channel_id=row["channel_id"],
        nonce=row["nonce"],
        claimed_by=row["claimed_by"],
        lease_until=row["lease_until"],
        message_id=row["message_id"],
        detail=row["detail"],
    )
