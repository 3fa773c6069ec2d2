"""Request bodies checked against the models generated from Discord's OpenAPI spec.

The models come from the `discordopenapi` package (pydantic, part of the test extra), which
takes over a second to import: only a stand-in that validates imports this module, through
`schema.load_spec_check()`. The generated oneOf/anyOf wrappers cannot tell variants apart,
because the generator dropped the `type` enums, so this module picks the variant by `type`
itself, as Discord does, and recurses through nested models.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

import openapi_client.models as api
from annotated_types import MaxLen, MinLen
from pydantic import BaseModel, ValidationError

from bot.standin.schema import Path, Problem

# Which generated class a `type` number selects, per family of variants.
_COMPONENT_PREFIX = {
    1: "ActionRow",
    2: "Button",
    3: "StringSelect",
    4: "TextInput",
    5: "UserSelect",
    6: "RoleSelect",
    7: "MentionableSelect",
    8: "ChannelSelect",
    9: "Section",
    10: "TextDisplay",
    11: "Thumbnail",
    12: "MediaGallery",
    13: "File",
    14: "Separator",
    17: "Container",
    18: "Label",
}
_OPTION_PREFIX = {
    1: "ApplicationCommandSubcommandOption",
    2: "ApplicationCommandSubcommandGroupOption",
    3: "ApplicationCommandStringOption",
    4: "ApplicationCommandIntegerOption",
    5: "ApplicationCommandBooleanOption",
    6: "ApplicationCommandUserOption",
    7: "ApplicationCommandChannelOption",
    8: "ApplicationCommandRoleOption",
    9: "ApplicationCommandMentionableOption",
    10: "ApplicationCommandNumberOption",
    11: "ApplicationCommandAttachmentOption",
}


def _variants(wrapper: type[BaseModel]) -> set[str] | None:
    for key in ("one_of_schemas", "any_of_schemas"):
        field = wrapper.model_fields.get(key)
        if field is not None:
            return set(field.default)
    return None


def _unwrap(annotation: Any) -> tuple[Any, bool, list[Any]]:
    """(inner type, is a list, length constraints) of a field annotation."""
    constraints: list[Any] = []
    is_list = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *meta = typing.get_args(annotation)
            constraints += [m for m in meta if isinstance(m, MaxLen | MinLen)]
            for m in meta:
                constraints += [
                    x for x in getattr(m, "metadata", []) if isinstance(x, MaxLen | MinLen)
                ]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, is_list, constraints
            annotation = args[0]
        elif origin in (list, typing.List):  # noqa: UP006
            is_list = True
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation, is_list, constraints


def _choose(wrapper: type[BaseModel], item: Any) -> type[BaseModel] | None:
    names = _variants(wrapper) or set()
    kind = item.get("type") if isinstance(item, dict) else None
    table = (
        _OPTION_PREFIX
        if any(n.startswith("ApplicationCommand") for n in names)
        else _COMPONENT_PREFIX
    )
    prefix = table.get(kind) if isinstance(kind, int) else None
    if prefix is None:
        return None
    exact = [n for n in names if n == prefix]
    matches = exact or [
        n for n in names if n.startswith(prefix) and not n.startswith(prefix + "Group")
    ]
    return getattr(api, matches[0]) if len(matches) == 1 else None


_MESSAGES = {
    "missing": ("BASE_TYPE_REQUIRED", "This field is required"),
    "string_too_long": ("BASE_TYPE_MAX_LENGTH", "Must be {max_length} or fewer in length."),
    "too_long": ("BASE_TYPE_MAX_LENGTH", "Must be {max_length} or fewer in length."),
    "string_too_short": ("BASE_TYPE_MIN_LENGTH", "Must be {min_length} or more in length."),
    "too_short": ("BASE_TYPE_MIN_LENGTH", "Must be {min_length} or more in length."),
    "string_pattern_mismatch": (
        "STRING_TYPE_REGEX",
        "String value did not match validation regex.",
    ),
    "greater_than_equal": ("NUMBER_TYPE_MIN", "int value should be greater than or equal to {ge}."),
    "less_than_equal": ("NUMBER_TYPE_MAX", "int value should be less than or equal to {le}."),
}


def _problem_from(error: Any, base: Path) -> Problem:
    code, message = _MESSAGES.get(error["type"], ("BASE_TYPE_BAD_TYPE", error["msg"]))
    try:
        message = message.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        message = error["msg"]
    return base + tuple(error["loc"]), code, message


def _snowflake_as_sent(value: Any) -> Any:
    """Discord takes a snowflake as a string or as an integer (discord.py numbers new
    attachments 0, 1, ...); the spec's models only know the string."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return value


def validate(model: str, payload: Any, path: Path = ()) -> list[Problem]:
    """Every way `payload` breaks the spec's model named `model` (a generated class name)."""
    return _problems(getattr(api, model), payload, path)


def _problems(model: type[BaseModel], payload: Any, path: Path) -> list[Problem]:
    """Every way `payload` breaks `model`, recursing into nested models and oneOf variants."""
    if not isinstance(payload, dict):
        return [(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")]
    problems: list[Problem] = []
    flat = dict(payload)
    nested: set[str] = set()
    for name, field in model.model_fields.items():
        key = field.alias or name
        inner, is_list, constraints = _unwrap(field.annotation)
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            continue
        nested.add(key)
        if key not in flat:
            continue
        value = flat.pop(key)
        if value is None:
            continue
        items: list[tuple[Path, Any]]
        if is_list:
            if not isinstance(value, list):
                problems.append(((*path, key), "BASE_TYPE_BAD_TYPE", "Must be an array."))
                continue
            for c in constraints:
                if isinstance(c, MaxLen) and len(value) > c.max_length:
                    problems.append(
                        (
                            (*path, key),
                            "BASE_TYPE_MAX_LENGTH",
                            f"Must be {c.max_length} or fewer in length.",
                        )
                    )
                if isinstance(c, MinLen) and len(value) < c.min_length:
                    problems.append(
                        (
                            (*path, key),
                            "BASE_TYPE_MIN_LENGTH",
                            f"Must be {c.min_length} or more in length.",
                        )
                    )
            items = [((*path, key, i), v) for i, v in enumerate(value)]
        else:
            items = [((*path, key), value)]
        for where, item in items:
            variants = _variants(inner)
            if variants is not None and not isinstance(item, dict):
                # A scalar oneOf (a nonce is an integer or a string): the wrapper decides.
                try:
                    inner.from_json(json.dumps(item))  # type: ignore[attr-defined]
                except (ValueError, ValidationError):
                    problems.append((where, "BASE_TYPE_BAD_TYPE", f"Invalid value {item!r:.40}."))
                continue
            if variants is not None and "type" not in item:
                # No discriminator: the item is valid if any variant accepts it.
                attempts = [_problems(getattr(api, n), item, where) for n in sorted(variants)]
                fewest = min(attempts, key=len)
                problems += fewest
                continue
            target = inner if variants is None else _choose(inner, item)
            if target is None:
                problems.append(
                    (
                        (*where, "type"),
                        "BASE_TYPE_CHOICES",
                        f"Value must be one of the known types; got {item!r:.40}.",
                    )
                )
                continue
            problems += _problems(target, item, where)
    for key, value in list(flat.items()):
        if key == "id" or key.endswith("_id"):
            flat[key] = _snowflake_as_sent(value)
        elif key.endswith("_ids") and isinstance(value, list):
            flat[key] = [_snowflake_as_sent(v) for v in value]
    try:
        model.model_validate(flat)
    except ValidationError as exc:
        for error in exc.errors():
            field_key = error["loc"][0] if error["loc"] else None
            # A nested field we popped and checked above is not missing.
            if (
                error["type"] == "missing"
                and field_key in nested
                and payload.get(field_key) is not None
            ):
                continue
            problems.append(_problem_from(error, path))
    return problems
