"""Server-side checks of everything a member's client sends, before any command runs.

Discord does not check option values against a command's declared types and bounds, and
neither does discord.py: a modified client can send `score: 5.5`, a 10,000-character title or
text holding half of a surrogate pair, and the command would receive it as is. So the command
tree calls `check_command` on every application command (see TakeTwoTree): it walks the
options the interaction carries against the parameters the command declares and refuses,
with one sentence naming the option, anything a real client could not have sent. Text read
elsewhere (form inputs, a message saved as a quote) goes through `check_text`, and every
number read from text through `parse_whole`.
"""

from __future__ import annotations

import math
import re
from typing import Any

import discord
from discord import app_commands
from discord.enums import AppCommandOptionType as OptionType

from bot.db.text import CONTROL, CONTROL_IN_PARAGRAPH
from bot.errors import UserFacingError

# Half of a surrogate pair cannot be encoded (Discord refuses a body holding one, SQLite
# cannot store it); NUL cuts text short wherever C strings are used.
_BROKEN = re.compile("[\x00\ud800-\udfff]")
# Discord's own bounds, for options that declare none.
_LARGEST_INTEGER = 2**53
_LONGEST_TEXT = 6000
_SNOWFLAKE = re.compile(r"[0-9]{1,20}")
_SUBCOMMAND_TYPES = (OptionType.subcommand.value, OptionType.subcommand_group.value)
_OBJECT_KINDS = {
    OptionType.user: "a member",
    OptionType.channel: "a channel",
    OptionType.role: "a role",
    OptionType.mentionable: "a member or a role",
    OptionType.attachment: "an attachment",
}
GARBLED = "That command arrived garbled, so nothing was done: try it again."


def has_broken_text(text: str) -> bool:
    return _BROKEN.search(text) is not None


def check_text(
    text: str, what: str, then: str = "type it again", *, paragraph: bool = False
) -> str:
    """Refuse text that cannot be stored or shown, by the same rules as a catalog file
    (bot/db/text.py): `what` names it for the member; only a paragraph may break lines."""
    if has_broken_text(text):
        raise UserFacingError(f"{what} contains a broken character (half of an emoji?): {then}.")
    if (CONTROL_IN_PARAGRAPH if paragraph else CONTROL).search(text):
        kind = "a control character" if paragraph else "a line break or a control character"
        raise UserFacingError(f"{what} contains {kind}: {then}.")
    return text


def parse_whole(text: str, low: int, high: int) -> int | None:
    """The whole number written in ASCII digits, if it is one from `low` to `high`.

    str.isdigit() accepts "²" and "①", which int() refuses, and int() accepts "٣": only
    0-9 are digits here."""
    if not isinstance(text, str) or not re.fullmatch(r"[0-9]{1,18}", text):
        return None
    number = int(text)
    return number if low <= number <= high else None


def shown(name: Any) -> str:
    """An option name the member sent, made safe to echo: short, whole characters, no markdown."""
    text = _BROKEN.sub("", str(name))[:32]
    return discord.utils.escape_markdown(discord.utils.escape_mentions(text))


def check_command(interaction: discord.Interaction) -> None:
    """Refuse an application command whose options do not fit what the command declares."""
    data: Any = interaction.data
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise UserFacingError(GARBLED)
    command = interaction.command
    if command is None:
        raise UserFacingError(f"/{shown(data['name'])} is not a TakeTwo command (any more).")
    if isinstance(command, app_commands.ContextMenu):
        _check_target(data)
        return
    _check_options(command, _leaf_options(command, data))


def _check_target(data: dict[str, Any]) -> None:
    """A context menu names one message or member, which Discord sends along in `resolved`."""
    target = data.get("target_id")
    resolved = data.get("resolved")
    if not isinstance(target, str) or not _SNOWFLAKE.fullmatch(target):
        raise UserFacingError(GARBLED)
    if not isinstance(resolved, dict) or not any(
        isinstance(found, dict) and target in found for found in resolved.values()
    ):
        raise UserFacingError(GARBLED)


def _leaf_options(command: app_commands.Command[Any, ..., Any], data: dict[str, Any]) -> Any:
    """The options under the subcommand path (`/video add` arrives as video → add → options)."""
    options = data.get("options", [])
    for name in command.qualified_name.split()[1:]:
        if (
            not isinstance(options, list)
            or len(options) != 1
            or not isinstance(options[0], dict)
            or options[0].get("type") not in _SUBCOMMAND_TYPES
            or options[0].get("name") != name
        ):
            raise UserFacingError(GARBLED)
        options = options[0].get("options", [])
    return options


def _check_options(command: app_commands.Command[Any, ..., Any], options: Any) -> None:
    if not isinstance(options, list) or not all(isinstance(o, dict) for o in options):
        raise UserFacingError(GARBLED)
    declared = {p.display_name: p for p in command.parameters}
    sent: dict[str, Any] = {}
    for option in options:
        name = option.get("name")
        parameter = declared.get(name) if isinstance(name, str) else None
        if parameter is None:
            raise UserFacingError(f"/{command.qualified_name} has no option called {shown(name)}.")
        if name in sent:
            raise UserFacingError(f"/{command.qualified_name} got {name} twice.")
        sent[name] = option
        if option.get("type") != parameter.type.value or "value" not in option:
            raise UserFacingError(f"{name} must be {expected(parameter)}.")
        _check_value(parameter, option["value"])
    for name, parameter in declared.items():
        if parameter.required and name not in sent:
            raise UserFacingError(f"/{command.qualified_name} needs a value for {name}.")


def _check_value(parameter: app_commands.Parameter, value: Any) -> None:
    name, kind = parameter.display_name, parameter.type
    fits = False
    if kind is OptionType.string:
        if isinstance(value, str):
            check_text(value, name)
            fits = _within(len(value), parameter.min_value, parameter.max_value, 0, _LONGEST_TEXT)
    elif kind is OptionType.integer:
        # bool is an int in Python, and 5.5 or "5" are not whole numbers.
        fits = type(value) is int and _within(
            value, parameter.min_value, parameter.max_value, -_LARGEST_INTEGER, _LARGEST_INTEGER
        )
    elif kind is OptionType.number:
        fits = (
            type(value) in (int, float)
            and math.isfinite(value)
            and _within(
                value, parameter.min_value, parameter.max_value, -_LARGEST_INTEGER, _LARGEST_INTEGER
            )
        )
    elif kind is OptionType.boolean:
        fits = type(value) is bool
    else:
        fits = isinstance(value, str) and _SNOWFLAKE.fullmatch(value) is not None
    if fits and parameter.choices:
        fits = any(type(c.value) is type(value) and c.value == value for c in parameter.choices)
    if not fits:
        raise UserFacingError(f"{name} must be {expected(parameter)}.")


def _within(
    value: float, low: float | None, high: float | None, floor: float, ceiling: float
) -> bool:
    low = floor if low is None else low
    high = ceiling if high is None else high
    return low <= value <= high


def expected(parameter: app_commands.Parameter) -> str:
    """What the option takes, as the end of "score must be …"."""
    kind, low, high = parameter.type, parameter.min_value, parameter.max_value
    if parameter.choices:
        return "one of: " + ", ".join(c.name for c in parameter.choices[:10])
    if kind is OptionType.string:
        if low is not None and low == high:
            return f"text of exactly {low} characters"
        if low and high is not None:
            return f"text of {low} to {high} characters"
        if low:
            return f"text of at least {low} characters"
        return f"text of at most {high if high is not None else _LONGEST_TEXT} characters"
    if kind in (OptionType.integer, OptionType.number):
        what = "a whole number" if kind is OptionType.integer else "a number"
        if high is not None and high >= _LARGEST_INTEGER - 1:
            high = None  # "from 1 to 9007199254740991" says less than "at least 1"
        if low is not None and high is not None:
            return f"{what} from {low} to {high}"
        if low is not None:
            return f"{what} of at least {low}"
        if high is not None:
            return f"{what} of at most {high}"
        return what
    if kind is OptionType.boolean:
        return "true or false"
    return _OBJECT_KINDS.get(kind, "a valid value")
