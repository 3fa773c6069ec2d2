"""Settings read from the environment, with a `.env` file filling in what the environment lacks."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

DEFAULT_DATABASE_PATH = "data/taketwo.sqlite3"
DEFAULT_POOL_SIZE = 10
DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
# The public endpoints lookups ask (bot/lookups); tests point them at a loopback stand-in.
DEFAULT_OEMBED_YOUTUBE_URL = "https://www.youtube.com/oembed"
DEFAULT_OEMBED_VIMEO_URL = "https://vimeo.com/api/oembed.json"
DEFAULT_WIKIDATA_API_URL = "https://www.wikidata.org/w/api.php"
MAX_CONTACT = 200

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(Exception):
    """A setting is missing or malformed. The message names it and says how to fix it."""


@dataclass(frozen=True, slots=True)
class Settings:
    # repr=False keeps the token out of every log line and traceback that prints settings.
    token: str = field(repr=False)
    database_path: Path = Path(DEFAULT_DATABASE_PATH)
    # PostgreSQL instead of SQLite when set (postgresql://user:password@host/db). Not in
    # repr: it may hold a password.
    database_url: str | None = field(default=None, repr=False)
    # Connections each process keeps open to PostgreSQL.
    database_pool_size: int = DEFAULT_POOL_SIZE
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    load_sample_catalog: bool = True
    # Where REST requests and the gateway connection go; a proxy (or a local stand-in) can
    # take Discord's place without any change to the bot.
    api_base: str = DEFAULT_API_BASE
    gateway_url: str = DEFAULT_GATEWAY_URL
    # Who may edit the shared catalog, besides the Discord application's owners.
    owner_ids: frozenset[int] = frozenset()
    managers_edit_catalog: bool = False
    # Which shards this process runs: all of them when SHARD_IDS is unset, and as many as
    # Discord recommends when SHARD_COUNT is unset too. shard_ids is sorted, without repeats.
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    # Outbound lookups of a video link's facts: false makes no request at all.
    external_lookups: bool = True
    # Who runs this bot (an email or a URL), named in the User-Agent of every lookup.
    lookup_contact: str = ""
    oembed_youtube_url: str = DEFAULT_OEMBED_YOUTUBE_URL
    oembed_vimeo_url: str = DEFAULT_OEMBED_VIMEO_URL
    wikidata_api_url: str = DEFAULT_WIKIDATA_API_URL


def _merged_environment(environ: Mapping[str, str] | None, env_file: Path | None) -> dict[str, str]:
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    # The real environment wins over the file.
    values.update(os.environ if environ is None else environ)
    return values


def _snowflake(name: str, raw: str) -> int:
    if not re.fullmatch(r"\d{1,20}", raw):
        raise SettingsError(
            f"{name} must be a Discord ID (digits only, e.g. 123456789012345678); got {raw!r}. "
            "Copy it with Developer Mode on, or leave it empty."
        )
    return int(raw)


def _boolean(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false; got {raw!r}.")


def _url(name: str, raw: str, schemes: tuple[str, ...], default: str = "Discord's own") -> str:
    scheme, _, rest = raw.partition("://")
    if scheme not in schemes or not rest or re.search(r"\s", raw):
        expected = " or ".join(f"{s}://" for s in schemes)
        raise SettingsError(
            f"{name} must be a URL starting with {expected}; got {raw!r}. "
            f"Leave it empty to use {default}."
        )
    return raw


def _lookup_url(name: str, raw: str, default: str) -> str:
    return _url(name, raw or default, ("http", "https"), f"the public one ({default})")


def _contact(raw: str) -> str:
    # It goes into a header: a line break would start another header.
    if len(raw) > MAX_CONTACT or not raw.isprintable():
        raise SettingsError(
            f"LOOKUP_CONTACT must be one line of at most {MAX_CONTACT} characters, such as "
            "an email address or a web page about your bot."
        )
    return raw


def _shard_count(raw: str) -> int | None:
    if not raw:
        return None
    if not re.fullmatch(r"\d{1,6}", raw) or int(raw) == 0:
        raise SettingsError(
            f"SHARD_COUNT must be a whole number of shards, 1 or more (e.g. 4); got {raw!r}. "
            "Leave it empty to use as many shards as Discord recommends."
        )
    return int(raw)


def _shard_ids(raw: str, count: int | None) -> tuple[int, ...] | None:
    """`0-3` or `0,2` or `0-1,4`: numbers and ranges, each checked against SHARD_COUNT
    before a range is expanded."""
    if not raw:
        return None
    if count is None:
        raise SettingsError(
            f"SHARD_IDS is {raw!r} but SHARD_COUNT is not set: set SHARD_COUNT to the total "
            "number of shards over all processes (e.g. SHARD_COUNT=4 with SHARD_IDS=0-1 here "
            "and SHARD_IDS=2-3 on the other process)."
        )
    ids: set[int] = set()
    for part in raw.split(","):
        match = re.fullmatch(r"\s*(\d{1,6})\s*(?:-\s*(\d{1,6})\s*)?", part)
        if match is None:
            raise SettingsError(
                f"SHARD_IDS must list shard numbers and ranges, like 0-3 or 0,2; got {raw!r}."
            )
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if last < first:
            raise SettingsError(
                f"SHARD_IDS: the range {part.strip()!r} runs backwards; write it as {last}-{first}."
            )
        if last >= count:
            raise SettingsError(
                f"SHARD_IDS lists shard {last}, but with SHARD_COUNT={count} the shards are "
                f"numbered 0 to {count - 1}."
            )
        ids.update(range(first, last + 1))
    return tuple(sorted(ids))


def _database_url(raw: str) -> str | None:
    if not raw:
        return None
    if not re.match(r"postgres(ql)?://\S+$", raw):
        raise SettingsError(
            "DATABASE_URL must be a PostgreSQL address such as "
            "postgresql://taketwo:password@localhost:5432/taketwo; leave it empty to keep "
            "SQLite at DATABASE_PATH."
        )
    return raw


def _pool_size(raw: str) -> int:
    if not raw:
        return DEFAULT_POOL_SIZE
    if not re.fullmatch(r"\d{1,3}", raw) or not 1 <= int(raw) <= 100:
        raise SettingsError(
            f"DATABASE_POOL_SIZE must be a whole number of connections from 1 to 100; got "
            f"{raw!r}. Leave it empty for {DEFAULT_POOL_SIZE}."
        )
    return int(raw)


def _database_path(raw: str, *, make_folder: bool) -> Path:
    """The SQLite file; its folder is made unless the data lives in PostgreSQL (a service
    allowed to write nowhere but its database must still start)."""
    path = Path(raw).expanduser()
    if path.is_dir():
        raise SettingsError(
            f"DATABASE_PATH points at the folder {raw!r}: give a file name inside it, "
            f"e.g. {str(path / 'taketwo.sqlite3')!r}."
        )
    if not make_folder:
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"DATABASE_PATH: cannot create the folder {str(path.parent)!r} ({exc.strerror}); "
            "choose a path the bot can write to."
        ) from None
    return path


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    env_file: Path | None = Path(".env"),
    require_token: bool = True,
) -> Settings:
    """Read and check every setting. Raises SettingsError naming the first bad one."""
    env = _merged_environment(environ, env_file)

    def get(name: str) -> str:
        return env.get(name, "").strip()

    token = get("DISCORD_TOKEN")
    if require_token and not token:
        raise SettingsError(
            "DISCORD_TOKEN is not set: copy the bot token from the Discord Developer Portal "
            "(your application > Bot > Reset Token) into .env as DISCORD_TOKEN=..."
        )
    if token and re.search(r"\s", token):
        raise SettingsError(
            "DISCORD_TOKEN contains spaces or line breaks: paste the token alone, "
            "without quotes or a 'Bot ' prefix."
        )

    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise SettingsError(
            f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}; got {log_level!r}."
        )

    dev_guild = get("DEV_GUILD_ID")
    shard_count = _shard_count(get("SHARD_COUNT"))
    database_url = _database_url(get("DATABASE_URL"))
    owner_ids = frozenset(
        _snowflake("OWNER_IDS", part.strip())
        for part in get("OWNER_IDS").split(",")
        if part.strip()
    )

    return Settings(
        token=token,
        database_path=_database_path(
            get("DATABASE_PATH") or DEFAULT_DATABASE_PATH, make_folder=not database_url
        ),
        database_url=database_url,
        database_pool_size=_pool_size(get("DATABASE_POOL_SIZE")),
        dev_guild_id=_snowflake("DEV_GUILD_ID", dev_guild) if dev_guild else None,
        log_level=log_level,
        load_sample_catalog=_boolean("LOAD_SAMPLE_CATALOG", get("LOAD_SAMPLE_CATALOG") or "true"),
        api_base=_url(
            "DISCORD_API_BASE", get("DISCORD_API_BASE") or DEFAULT_API_BASE, ("http", "https")
        ).rstrip("/"),
        gateway_url=_url(
            "DISCORD_GATEWAY_URL", get("DISCORD_GATEWAY_URL") or DEFAULT_GATEWAY_URL, ("ws", "wss")
        ),
        owner_ids=owner_ids,
        managers_edit_catalog=_boolean(
            "MANAGERS_EDIT_CATALOG", get("MANAGERS_EDIT_CATALOG") or "false"
        ),
        shard_count=shard_count,
        shard_ids=_shard_ids(get("SHARD_IDS"), shard_count),
        external_lookups=_boolean("EXTERNAL_LOOKUPS", get("EXTERNAL_LOOKUPS") or "true"),
        lookup_contact=_contact(get("LOOKUP_CONTACT")),
        oembed_youtube_url=_lookup_url(
            "OEMBED_YOUTUBE_URL", get("OEMBED_YOUTUBE_URL"), DEFAULT_OEMBED_YOUTUBE_URL
        ),
        oembed_vimeo_url=_lookup_url(
            "OEMBED_VIMEO_URL", get("OEMBED_VIMEO_URL"), DEFAULT_OEMBED_VIMEO_URL
        ),
        wikidata_api_url=_lookup_url(
            "WIKIDATA_API_URL", get("WIKIDATA_API_URL"), DEFAULT_WIKIDATA_API_URL
        ),
    )


REDACTED = "[token removed]"
# Where discord.py's log lines carry a token. Gateway events are logged whole, as a dict's
# repr or as JSON, and an interaction's "token" field is in them; webhook (followup) and
# interaction-callback URLs carry the token as the path segment after the id.
_TOKEN_PATTERNS = (
    re.compile(r"""(?P<keep>["']token["']\s*:\s*["'])[^"']*"""),
    re.compile(r"(?P<keep>/(?:webhooks|interactions)/\d+/)[\w.~+=-]+", re.ASCII),
    # An interaction token is base64 of "interaction:…": caught wherever else it turns up
    # (discord.py's rate-limit lines show it joined to the webhook id).
    re.compile(r"aW50ZXJhY3Rpb246[\w+/=-]*", re.ASCII),
    # A bot token's shape: user id, timestamp and signature in base64, joined by dots.
    re.compile(r"[\w-]{23,28}\.[\w-]{6,7}\.[\w-]{27,}", re.ASCII),
)
_TRACEBACKS = logging.Formatter()


def _redact(match: re.Match[str]) -> str:
    return (match.groupdict().get("keep") or "") + REDACTED


# Bot tokens are about 70 characters; shorter values are not scrubbed by value.
MIN_SECRET = 20


class TokenFilter(logging.Filter):
    """Takes tokens out of every record that reaches a handler, at every level."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # A value too short to be a token (a test's "unused") would cut words out of lines.
        self.secrets = tuple(secret for secret in secrets if len(secret) >= MIN_SECRET)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub(_redact, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "tokens_removed", False):  # the root has more than one handler
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed logging call: the handler reports it as usual
            return True
        record.msg, record.args = self.scrub(message), ()
        record.tokens_removed = True
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text, so the scrubbed traceback is the one written.
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Log to stderr at `level`, with tokens (and `secrets`, such as the bot token) removed."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-8s %(name)s: %(message)s",
    )
    # On the root's handlers, not the root logger: a logger's own filters do not see records
    # that other loggers pass up to it.
    token_filter = TokenFilter(secrets)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, TokenFilter)]:
            handler.removeFilter(old)
        handler.addFilter(token_filter)
    # discord.py's HTTP debug lines hold every request body, members' words as the bot sends
    # them: kept quiet even at DEBUG.
    logging.getLogger("discord.http").setLevel(max(logging.INFO, logging.getLevelName(level)))
