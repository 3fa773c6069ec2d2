from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings
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
    ],
)
def test_each_malformed_setting_is_named(tmp_path: Path, name: str, value: str) -> None:
    env = {"DISCORD_TOKEN": "t", "DATABASE_PATH": str(tmp_path / "x.sqlite3"), name: value}
    with pytest.raises(SettingsError, match=name):
        load_settings(env, env_file=None)


def test_database_path_that_is_a_folder_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="DATABASE_PATH"):
        load_settings({"DISCORD_TOKEN": "t", "DATABASE_PATH": str(tmp_path)}, env_file=None)
