"""Messages and forms drawn as plain text for the playground's terminal.

Discord draws some markup itself: `<t:UNIX:STYLE>` as a time in the reader's own zone,
`<@id>` as the member's name, `<#id>` as the channel's. These are drawn the same way here,
from a `Directory` of the names the playground knows.
"""

from __future__ import annotations

import re
import shutil
import textwrap
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Wider than this, prose gets hard to read even in a wide terminal.
MAX_WIDTH = 100
MIN_WIDTH = 20
CONTINUES = "↩"
EPHEMERAL = 1 << 6
LOADING = 1 << 7
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)]+)\)")
_ESCAPE = re.compile(r"\\([*_~`|>\\])")
_TIMESTAMP = re.compile(r"<t:(-?\d{1,13})(?::([tTdDfFR]))?>")
_USER = re.compile(r"<@!?(\d{1,20})>")
_ROLE = re.compile(r"<@&(\d{1,20})>")
_CHANNEL = re.compile(r"<#(\d{1,20})>")
_SLASH = re.compile(r"</([-_\w ]{1,100}):\d{1,20}>")
_EMOJI = re.compile(r"<a?:(\w{1,32}):\d{1,20}>")


@dataclass
class Directory:
    """The names behind the ids a message may mention."""

    people: dict[int, str] = field(default_factory=dict)
    channels: dict[int, str] = field(default_factory=dict)


def terminal_width() -> int:
    return max(MIN_WIDTH, min(shutil.get_terminal_size((80, 24)).columns, MAX_WIDTH))


def _long_date(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def relative_time(seconds: float) -> str:
    """`seconds` from now as Discord says it: "in 5 minutes", "2 days ago"."""
    span = abs(seconds)
    minute, hour, day = 60, 3600, 86400
    if span < 45:
        words = "a few seconds"
    elif span < 90:
        words = "a minute"
    elif span < 45 * minute:
        words = f"{round(span / minute)} minutes"
    elif span < 90 * minute:
        words = "an hour"
    elif span < 22 * hour:
        words = f"{round(span / hour)} hours"
    elif span < 36 * hour:
        words = "a day"
    elif span < 26 * day:
        words = f"{round(span / day)} days"
    elif span < 45 * day:
        words = "a month"
    elif span < 320 * day:
        words = f"{round(span / (30 * day))} months"
    elif span < 548 * day:
        words = "a year"
    else:
        words = f"{round(span / (365 * day))} years"
    return f"in {words}" if seconds >= 0 else f"{words} ago"


def discord_time(unix: int, style: str | None, now: float | None = None) -> str:
    """A `<t:unix:style>` tag as Discord draws it, in this computer's local time."""
    if style == "R":
        return relative_time(unix - (time.time() if now is None else now))
    moment = datetime.fromtimestamp(unix).astimezone()
    drawn = {
        "t": f"{moment:%H:%M}",
        "T": f"{moment:%H:%M:%S}",
        "d": f"{moment:%d/%m/%Y}",
        "D": _long_date(moment),
        "F": f"{moment:%A} {_long_date(moment)} {moment:%H:%M}",
    }
    return drawn.get(style or "f", f"{_long_date(moment)} {moment:%H:%M}")


def _timestamp(match: re.Match[str], now: float | None) -> str:
    try:
        return discord_time(int(match[1]), match[2], now)
    except (OverflowError, OSError, ValueError):  # far outside what a clock can show
        return match[0]


def draw_tags(text: str, names: Directory, now: float | None = None) -> str:
    """Times, mentions, channels, command links and custom emoji as Discord shows them."""
    text = _TIMESTAMP.sub(lambda m: _timestamp(m, now), text)
    text = _USER.sub(lambda m: "@" + names.people.get(int(m[1]), "unknown-user"), text)
    text = _ROLE.sub("@role", text)
    text = _CHANNEL.sub(lambda m: "#" + names.channels.get(int(m[1]), "unknown-channel"), text)
    text = _SLASH.sub(r"/\1", text)
    return _EMOJI.sub(r":\1:", text)


def _plain(text: str) -> str:
    text = _LINK.sub(r"\1 <\2>", text)
    text = _BOLD.sub(r"\1", text)
    text = _ITALIC.sub(r"\1", text)
    return _ESCAPE.sub(r"\1", text)


class _Drawing:
    """One message being drawn, remembering whether a line had to be split to fit."""

    def __init__(self, names: Directory, width: int, now: float | None) -> None:
        self.names = names
        self.width = width
        self.now = now
        self.split = False
        self.lines: list[str] = []

    def text(self, text: str) -> str:
        return _plain(draw_tags(text, self.names, self.now))

    def fit(self, line: str, prefix: str) -> None:
        """Add one line; one wider than the terminal continues on the next, marked ↩."""
        room = self.width - len(prefix)
        while len(line) > room:
            self.split = True
            self.lines.append(prefix + line[: room - 1] + CONTINUES)
            line = line[room - 1 :]
        self.lines.append(prefix + line)

    def block(self, text: str, prefix: str) -> None:
        """Wrap prose as Discord does at a narrow width; keep ``` code blocks (the score
        histogram) line for line, as Discord does."""
        in_code = False
        for raw in text.splitlines() or [""]:
            if raw.strip().startswith("```"):
                in_code = not in_code
                continue
            if in_code:
                self.fit(raw, prefix)
                continue
            room = max(self.width - len(prefix), 1)
            wrapped = textwrap.wrap(
                self.text(raw), room, break_long_words=False, break_on_hyphens=False
            )
            for part in wrapped or [""]:
                self.fit(part, prefix)

    def embed(self, embed: dict[str, Any]) -> None:
        bar = "┃ "
        if embed.get("title"):
            self.fit(self.text(embed["title"]).upper(), bar)
        if embed.get("description"):
            self.block(embed["description"], bar)
        for entry in embed.get("fields") or []:
            self.lines.append(bar)
            self.block(entry["name"], bar)
            self.block(entry["value"], bar + "  ")
        if (embed.get("footer") or {}).get("text"):
            self.lines.append(bar)
            self.block(embed["footer"]["text"], bar + "· ")

    def components(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            parts = [_component(c) for c in row.get("components", [])]
            if any(parts):
                self.block(" ".join(p for p in parts if p), "")

    def note_splits(self) -> None:
        if self.split:
            self.split = False
            self.block(
                f"({CONTINUES} ends a line too wide for this {self.width}-column terminal: it "
                "goes on below. Discord shows it as one line; a wider terminal shows it whole.)",
                "",
            )


def _component(component: dict[str, Any]) -> str:
    off = " (disabled)" if component.get("disabled") else ""
    if component.get("type") == 2:
        emoji = (component.get("emoji") or {}).get("name")
        label = component.get("label", "")
        label = f"{emoji} {label}" if emoji else label
        if component.get("url"):
            label += f" ↗ {component['url']}"
        return f"[ {label.strip()}{off} ]"
    if component.get("type") == 3:
        options = ", ".join(o["label"] for o in component.get("options", []))
        return f"▾ {component.get('placeholder') or 'Choose'}{off}: {options}"
    return ""


def render_message(
    message: dict[str, Any],
    names: Directory | None = None,
    *,
    width: int | None = None,
    now: float | None = None,
) -> str:
    drawing = _Drawing(names or Directory(), width or terminal_width(), now)
    drawing.lines.append("─" * drawing.width)
    if message.get("flags", 0) & EPHEMERAL:
        drawing.lines.append("(only you can see this)")
    if message.get("flags", 0) & LOADING:
        drawing.lines.append("TakeTwo is thinking…")
    if message.get("content"):
        drawing.block(message["content"], "")
    for embed in message.get("embeds") or []:
        drawing.embed(embed)
    drawing.components(message.get("components") or [])
    drawing.note_splits()
    return "\n".join(drawing.lines)


def text_inputs(modal: dict[str, Any]) -> list[dict[str, Any]]:
    """A form's text fields, in order."""
    return [
        c
        for row in modal.get("components") or []
        for c in row.get("components", [])
        if c.get("type") == 4
    ]


def _limits(entry: dict[str, Any]) -> str:
    kind = "several lines, " if entry.get("style") == 2 else ""
    low, high = entry.get("min_length", 0), entry.get("max_length", 4000)
    need = "" if entry.get("required", True) else "optional, "
    span = f"up to {high}" if low <= 1 else f"{low} to {high}"
    return f"{need}{kind}{span} characters"


def render_form(
    modal: dict[str, Any], values: dict[str, str], keys: dict[str, str], width: int | None = None
) -> str:
    """The open form: its title, each field's label and limits, and what it holds now."""
    drawing = _Drawing(Directory(), width or terminal_width(), None)
    drawing.lines.append("─" * drawing.width)
    drawing.lines.append(f"FORM · {modal.get('title', '')}")
    for entry in text_inputs(modal):
        key = keys[entry["custom_id"]]
        drawing.block(f"{key} — {entry.get('label', '')} ({_limits(entry)})", "  ")
        value = values.get(entry["custom_id"], "")
        if value:
            for line in value.splitlines() or [""]:
                drawing.fit(line, "  │ ")
        else:
            hint = entry.get("placeholder")
            drawing.block(f"(empty{': for example ' + hint if hint else ''})", "  │ ")
    drawing.lines.append(
        "fill NAME=VALUE types in a field; submit sends the form, cancel closes it."
    )
    drawing.note_splits()
    return "\n".join(drawing.lines)


def explain_refusal(answer: dict[str, Any]) -> str:
    """Discord's error answer as one sentence: its message, then each field and why."""
    reasons: list[str] = []

    def walk(node: Any, path: list[str]) -> None:
        if not isinstance(node, dict):
            return
        for problem in node.get("_errors", []):
            reasons.append(f"{'.'.join(path) or 'the body'}: {problem.get('message')}")
        for key, inner in node.items():
            if key != "_errors":
                walk(inner, [*path, key])

    walk(answer.get("errors"), [])
    head = answer.get("message") or "refused"
    return f"{head} ({'; '.join(reasons)})" if reasons else str(head)


def render_choices(choices: list[dict[str, Any]]) -> str:
    return "\n".join(f"  {n}. {c['name']}" for n, c in enumerate(choices, start=1))
