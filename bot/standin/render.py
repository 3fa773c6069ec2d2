"""Messages drawn as plain text for the playground's terminal."""

from __future__ import annotations

import re
import textwrap
from typing import Any

WIDTH = 72
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)]+)\)")
_ESCAPE = re.compile(r"\\([*_~`|>\\])")


def _plain(text: str) -> str:
    text = _LINK.sub(r"\1 <\2>", text)
    text = _BOLD.sub(r"\1", text)
    text = _ITALIC.sub(r"\1", text)
    return _ESCAPE.sub(r"\1", text)


def _block(text: str, prefix: str) -> list[str]:
    """Wrap prose; keep ``` code blocks (the score histogram) exactly as they are."""
    lines: list[str] = []
    in_code = False
    for raw in text.splitlines() or [""]:
        if raw.strip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            lines.append(prefix + raw)
        else:
            wrapped = textwrap.wrap(_plain(raw), WIDTH - len(prefix)) or [""]
            lines += [prefix + part for part in wrapped]
    return lines


def render_embed(embed: dict[str, Any]) -> list[str]:
    bar = "┃ "
    lines: list[str] = []
    if embed.get("title"):
        lines.append(bar + embed["title"].upper())
    if embed.get("description"):
        lines += _block(embed["description"], bar)
    for field in embed.get("fields") or []:
        lines.append(bar)
        lines.append(bar + _plain(field["name"]))
        lines += _block(field["value"], bar + "  ")
    if (embed.get("footer") or {}).get("text"):
        lines.append(bar)
        lines += _block(embed["footer"]["text"], bar + "· ")
    return lines


def render_components(components: list[dict[str, Any]]) -> list[str]:
    lines = []
    for row in components:
        parts = []
        for component in row.get("components", []):
            if component.get("type") == 2:
                emoji = (component.get("emoji") or {}).get("name")
                label = (
                    f"{emoji} {component.get('label', '')}" if emoji else component.get("label", "")
                )
                parts.append(f"[ {label.strip()} ]")
            elif component.get("type") == 3:
                options = ", ".join(o["label"] for o in component.get("options", []))
                parts.append(f"▾ {component.get('placeholder') or 'Choose'}: {options}")
        if parts:
            lines.append(" ".join(parts))
    return lines


def render_message(message: dict[str, Any]) -> str:
    lines = ["─" * WIDTH]
    if message.get("flags", 0) & 64:
        lines.append("(only you can see this)")
    if message.get("content"):
        lines += _block(message["content"], "")
    for embed in message.get("embeds") or []:
        lines += render_embed(embed)
    lines += render_components(message.get("components") or [])
    return "\n".join(lines)


def render_choices(choices: list[dict[str, Any]]) -> str:
    return "\n".join(f"  {n}. {c['name']}" for n, c in enumerate(choices, start=1))
