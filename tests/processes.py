"""Running `python -m bot` as its own process in a test, the way a person runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Settings a developer's own shell may hold; a test sets the ones it needs itself.
_MACHINE_SETTINGS = ("DISCORD_", "DEV_GUILD_ID")


def bot_environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_MACHINE_SETTINGS)}
    env["PYTHONPATH"] = str(ROOT)
    env.update(settings)
    return env


def run_bot(
    cwd: Path, *args: str, stdin: str | None = None, **settings: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=bot_environment(**settings),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
