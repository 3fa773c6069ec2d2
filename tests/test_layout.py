"""The shape of the code: the data layer never imports discord, and cogs hold no SQL."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_LAYER = [
    *(ROOT / "bot" / "db").rglob("*.py"),
    ROOT / "bot" / "catalog.py",
    ROOT / "bot" / "errors.py",
]
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b.*\b(FROM|INTO|SET)\b")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_data_layer_does_not_import_discord() -> None:
    for path in DATA_LAYER:
        modules = imported_modules(path)
        assert not {m for m in modules if m.split(".")[0] == "discord"}, path
        assert not {m for m in modules if m.startswith(("bot.ui", "cogs"))}, path


def test_sql_lives_only_in_the_data_layer() -> None:
    outside = [*(ROOT / "cogs").glob("*.py"), *(ROOT / "bot").rglob("*.py")]
    for path in outside:
        if path.is_relative_to(ROOT / "bot" / "db"):
            continue
        text = path.read_text()
        assert not SQL.search(text) and "PRAGMA" not in text, f"SQL in {path}: move it to bot/db/"


ANSWERS = re.compile(
    r"\.response\.(send_message|edit_message|send_modal|defer)\(|\.followup\.send\(|"
    r"\.(edit|delete)_original_response\("
)


def test_every_answer_goes_through_replies() -> None:
    """bot/ui/replies.py is the one place that answers an interaction: its watchdog defers
    slow ones, and an answer sent around it could collide with the deferral."""
    for path in [*(ROOT / "cogs").glob("*.py"), *(ROOT / "bot").rglob("*.py")]:
        if path.name == "replies.py" or "standin" in path.parts:
            continue
        assert not ANSWERS.search(path.read_text()), f"{path}: answer through bot.ui.replies"
