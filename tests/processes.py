"""Running `python -m bot` as its own process in a test, the way a person runs it."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Settings a developer's own shell may hold; a test sets the ones it needs itself (a
# DATABASE_URL left in the shell would otherwise send a SQLite test to PostgreSQL, and a
# SHARD_IDS would make a test's bot run, or refuse, shards the test never chose).
_MACHINE_SETTINGS = ("DISCORD_", "DEV_GUILD_ID", "DATABASE_", "SHARD_")


def _machine_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(_MACHINE_SETTINGS)}


def ctrl_c_as_at_a_terminal() -> None:
    """For a child a test interrupts with SIGINT: a shell starting a job in the background
    (CI, nohup) leaves SIGINT ignored, and a child that inherits that never hears Ctrl-C.
    Pass as preexec_fn, so the child starts with SIGINT as a terminal would deliver it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def bot_environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _machine_settings()}
    env["PYTHONPATH"] = str(ROOT)
    # Lookups on without a contact warn at start: a test reading stderr sees its own lines.
    env["LOOKUP_CONTACT"] = "tests@taketwo.invalid"
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


@contextlib.contextmanager
def environment_set(**settings: str) -> Iterator[None]:
    """These environment variables, for the length of the block (and only that)."""
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_main(cwd: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` run in this process, through the same `main()` a shell runs:
    for commands whose behaviour as a process another test covers. It runs on a thread of
    its own, so that async tests can call it too (main() starts its own event loop)."""
    from bot.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    result: list[int] = []
    unset = dict.fromkeys(_machine_settings(), "")  # an empty setting counts as unset
    with (
        environment_set(**{**unset, **settings}),
        contextlib.chdir(cwd),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        worker = threading.Thread(target=lambda: result.append(main(list(args))))
        worker.start()
        worker.join()
    return subprocess.CompletedProcess(list(args), result[0], out.getvalue(), err.getvalue())
