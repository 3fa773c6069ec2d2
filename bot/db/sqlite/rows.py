"""Many rows in one step, read by name.

aiosqlite runs each connection on a thread, and Python's sqlite3 releases and retakes the
GIL around every row it steps through. With a busy event loop each retake can wait a whole
switch interval, so a 200-row result costs far more than the query. The hot multi-row reads
therefore build their rows into one JSON array of objects inside SQLite and return that
single value.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import fields
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

from bot.db.models import Quote, Video
from bot.db.sqlite.connections import Fetches, Params

JsonRow = dict[str, Any]
M = TypeVar("M")
D = TypeVar("D", bound="DataclassInstance")


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


def as_json_array_of(model: type[Any], body: str, *, json_columns: tuple[str, ...] = ()) -> str:
    """Wrap `body` (a SELECT whose result columns are named as the fields of the dataclass
    `model`) so that it returns one JSON array of rows holding those columns in the
    dataclass's own order: the hottest lists are read straight into dataclasses, without
    the cost of a key per value (a quarter of the decoding time, or more). A column in
    `json_columns` holds JSON text (a json_array() of the body), kept as JSON."""
    values = ", ".join(
        f"json({f.name})" if f.name in json_columns else f.name for f in fields(model)
    )
    return f"SELECT json_group_array(json_array({values})) FROM ({body})"


async def json_models(conn: Fetches, model: type[M], sql: str, params: Params = ()) -> list[M]:
    """The dataclasses of a statement built by `as_json_array_of(model, ...)`."""
    return models_from_json(model, await conn.fetchall(sql, params))


def models_from_json(model: type[M], rows: list[sqlite3.Row]) -> list[M]:
    """The dataclasses in the one row such a statement returns, however it was run."""
    [row] = rows
    return [model(*values) for values in json.loads(row[0])]


class Named(Protocol):
    """A row read by column name: an `sqlite3.Row` or a JSON object."""

    def __getitem__(self, key: str, /) -> Any: ...


# Rows into the models, by column name.

VIDEO_FIELDS = [field.name for field in fields(Video)]


@cache
def _field_names(model: type[Any]) -> tuple[str, ...]:
    # Looked up once per model: dataclasses.fields() is a large share of a small read.
    return tuple(field.name for field in fields(model))


def read_into(model: type[D], row: Named) -> D:
    """A row as the dataclass `model`: each field read from the column of its name."""
    return model(*[row[name] for name in _field_names(model)])


_IS_SAMPLE = _field_names(Quote).index("is_sample")


def quote_from(row: Named) -> Quote:
    # SQLite keeps a flag as 0 or 1.
    values: list[Any] = [row[n] for n in _field_names(Quote)]
    values[_IS_SAMPLE] = bool(values[_IS_SAMPLE])
    return Quote(*values)
