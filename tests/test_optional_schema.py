"""The stand-in's schema checks come with the test extra: the bot, the playground and a
stand-in without checks run when `discordopenapi` (the `openapi_client` package) is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.processes import ROOT, bot_environment, run_bot

SPEC_MODULES = {"openapi_client", "pydantic"}


def without_spec(tmp_path: Path) -> str:
    """A PYTHONPATH under which `openapi_client` cannot be imported, as if never installed."""
    blocker = tmp_path / "no-spec"
    blocker.mkdir()
    (blocker / "openapi_client.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'openapi_client'\", name='openapi_client')\n"
    )
    return os.pathsep.join([str(blocker), str(ROOT)])


def run_python(code: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=bot_environment(**settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_playground_runs_without_the_schema_package(tmp_path: Path) -> None:
    result = run_bot(
        tmp_path, "playground", stdin="/review humble\nquit\n", PYTHONPATH=without_spec(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "┃ HUMBLE." in result.stdout
    assert result.stdout.rstrip().endswith("Bye.")


def test_without_the_package_only_a_checking_stand_in_refuses_to_start(tmp_path: Path) -> None:
    code = """
from bot.standin.schema import SpecChecksMissing
from bot.standin.server import StandIn

StandIn(validate=False)
try:
    StandIn()
except SpecChecksMissing as exc:
    print(exc)
"""
    result = run_python(code, PYTHONPATH=without_spec(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "The stand-in's schema checks need the discordopenapi package, which is part of the "
        "test extra: pip install -e '.[test]' (StandIn(validate=False) runs without it)."
    )


def test_a_stand_in_without_checks_never_imports_the_spec_models() -> None:
    # The models take over a second to import: the benchmark's stand-in must not pay for them.
    code = """
import sys
from bot.standin.server import StandIn

StandIn(validate=False)
print(" ".join(sorted(sys.modules)))
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert not SPEC_MODULES & {name.split(".")[0] for name in result.stdout.split()}
