from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.settings import SettingsError, configure_logging, load_settings
from tests.processes import run_bot


def test_missing_token_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    result = run_bot(tmp_path, DISCORD_TOKEN="")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "DISCORD_TOKEN" in lines[0] and "Traceback" not in result.stderr


def test_malformed_setting_exits_2_and_never_prints_the_token(tmp_path: Path) -> None:
    secret = "MTIzNDU2Nzg5.secret-token-value"
    result = run_bot(tmp_path, DISCORD_TOKEN=secret, DEV_GUILD_ID="my-server")
    assert result.returncode == 2
    assert "DEV_GUILD_ID" in result.stderr
    assert secret not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_defaults_and_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DISCORD_TOKEN=from-file\nLOG_LEVEL=debug\nDEV_GUILD_ID=42\n")
    settings = load_settings(
        {"DATABASE_PATH": str(tmp_path / "db" / "x.sqlite3")}, env_file=env_file
    )
    assert settings.token == "from-file"
    assert settings.log_level == "DEBUG"
    assert settings.dev_guild_id == 42
    assert settings.load_sample_catalog is True
    assert (tmp_path / "db").is_dir(), "the database folder is created"
    assert "from-file" not in repr(settings)


def test_environment_wins_over_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DISCORD_TOKEN=from-file\nLOAD_SAMPLE_CATALOG=true\n")
    settings = load_settings(
        {
            "DISCORD_TOKEN": "from-env",
            "LOAD_SAMPLE_CATALOG": "off",
            "DATABASE_PATH": str(tmp_path / "x.sqlite3"),
        },
        env_file=env_file,
    )
    assert settings.token == "from-env"
    assert settings.load_sample_catalog is False


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOG_LEVEL", "chatty"),
        ("LOAD_SAMPLE_CATALOG", "maybe"),
        ("DEV_GUILD_ID", "12ab"),
        ("DISCORD_TOKEN", "two words"),
        ("DATABASE_URL", "mysql://localhost/taketwo"),
        ("DATABASE_URL", "/var/lib/taketwo.sqlite3"),
        ("DATABASE_POOL_SIZE", "0"),
        ("DATABASE_POOL_SIZE", "many"),
    ],
)
def test_each_malformed_setting_is_named(tmp_path: Path, name: str, value: str) -> None:
    env = {"DISCORD_TOKEN": "t", "DATABASE_PATH": str(tmp_path / "x.sqlite3"), name: value}
    with pytest.raises(SettingsError, match=name):
        load_settings(env, env_file=None)


def test_a_postgresql_url_is_kept_out_of_the_settings_repr(tmp_path: Path) -> None:
    url = "postgresql://taketwo:s3cret@db.internal:5432/taketwo"
    settings = load_settings(
        {"DISCORD_TOKEN": "t", "DATABASE_URL": url, "DATABASE_POOL_SIZE": "4"}, env_file=None
    )
    assert (settings.database_url, settings.database_pool_size) == (url, 4)
    assert "s3cret" not in repr(settings)


def test_on_postgresql_no_folder_is_made_for_a_sqlite_file(tmp_path: Path) -> None:
    """A service that may write nowhere but its database must start (the folder of the
    SQLite file is made only when SQLite keeps the data)."""
    folder = tmp_path / "not-made"
    settings = load_settings(
        {
            "DISCORD_TOKEN": "t",
            "DATABASE_URL": "postgresql://taketwo@localhost/taketwo",
            "DATABASE_PATH": str(folder / "taketwo.sqlite3"),
        },
        env_file=None,
    )
    assert settings.database_url is not None and not folder.exists()


def test_database_path_that_is_a_folder_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="DATABASE_PATH"):
        load_settings({"DISCORD_TOKEN": "t", "DATABASE_PATH": str(tmp_path)}, env_file=None)


INTERACTION_TOKEN = "aW50ZXJhY3Rpb246MTMxNDE1OTI2NTM1ODk3OTMyMzpzZWNyZXRzZWNyZXQ"
OTHER_TOKEN = "unusualTokenWithoutTheUsualPrefix0123456789"
BOT_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


@contextmanager
def fresh_process_logging() -> Iterator[None]:
    """The root logger as a fresh process has it (pytest adds its own handlers), restored after."""
    root, http = logging.getLogger(), logging.getLogger("discord.http")
    saved = root.handlers[:], root.level, http.level
    root.handlers = []
    try:
        yield
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers, root.level = saved[0], saved[1]
        http.setLevel(saved[2])


def test_debug_logs_keep_discords_lines_but_never_a_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with fresh_process_logging():
        configure_logging("DEBUG", secrets=["plain-bot-token-of-some-length"])
        log_discord_shaped_lines()
    output = capsys.readouterr().err
    for secret in (INTERACTION_TOKEN, OTHER_TOKEN, BOT_TOKEN, "plain-bot-token-of-some-length"):
        assert secret not in output
    lines = output.splitlines()
    assert (
        "discord.gateway: For Shard ID None: WebSocket Event: {'t': 'INTERACTION_CREATE'"
        in lines[0]
    )
    assert "'token': '[token removed]', 'data': {'name': 'take'}}" in lines[0]
    assert '"token": "[token removed]", "data": {"name": "take"}' in lines[1]
    assert lines[2].endswith(
        "Webhook ID 1100220033 with PATCH https://discord.com/api/v10/webhooks/1100220033/"
        "[token removed]/messages/@original has returned status code 200"
    )
    assert lines[3].endswith(
        "WARNING  discord.http: We are being rate limited. POST https://discord.com/api/v10/"
        "interactions/1314159265358979323/[token removed]/callback responded with 429. "
        "Retrying in 1.50 seconds."
    )
    assert lines[4].endswith("taketwo: could not start")
    assert lines[-1] == "RuntimeError: login failed for Bot [token removed] / [token removed]"


def log_discord_shaped_lines() -> None:
    event: dict[str, Any] = {
        "t": "INTERACTION_CREATE",
        "op": 0,
        "d": {"id": "1314159265358979323", "token": INTERACTION_TOKEN, "data": {"name": "take"}},
    }
    # Shaped like discord.py's own lines: the gateway event as a dict, and as raw JSON ...
    logging.getLogger("discord.gateway").debug("For Shard ID %s: WebSocket Event: %s", None, event)
    logging.getLogger("discord.gateway").debug(
        "Received %s", json.dumps({**event, "d": {**event["d"], "token": OTHER_TOKEN}})
    )
    # ... a followup webhook call, a rate-limited interaction callback (a warning) ...
    followup = f"https://discord.com/api/v10/webhooks/1100220033/{OTHER_TOKEN}/messages/@original"
    logging.getLogger("discord.webhook.async_").debug(
        "Webhook ID %s with %s %s has returned status code %s", 1100220033, "PATCH", followup, 200
    )
    callback = (
        f"https://discord.com/api/v10/interactions/1314159265358979323/{OTHER_TOKEN}/callback"
    )
    logging.getLogger("discord.http").warning(
        "We are being rate limited. %s %s responded with 429. Retrying in %.2f seconds.",
        "POST",
        callback,
        1.5,
    )
    # ... and the bot token, should anything ever print it, even inside a traceback.
    try:
        raise RuntimeError(f"login failed for Bot {BOT_TOKEN} / plain-bot-token-of-some-length")
    except RuntimeError:
        logging.getLogger("taketwo").exception("could not start")
