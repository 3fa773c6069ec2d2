"""Command line: `python -m bot` runs the bot; `python -m bot sync [--guild ID]` syncs commands.

Every start failure is one line on stderr that says what is wrong and what to do, and an
exit status that tells a supervisor (systemd) whether to try again:
  1  an unexpected error (a bug): restarting may help
  2  a setting is missing or wrong, Discord rejected the token, Discord refused the
     shard settings (SHARD_COUNT too small for the servers), or a whole day's session
     start budget is too small for this process's shards: a person must fix it
  3  Discord cannot be reached, or the database is locked by another program: try again
     later
(A start budget that is only spent for today is waited out, with one line in the log.)
  4  the database cannot be used (damaged, unwritable, a failed migration): a person must
     fix it (restore a backup)
The token is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import discord

from bot import wording
from bot.client import TakeTwoBot
from bot.db.failures import DatabaseBusy, DatabaseUnusable, MigrationError
from bot.errors import UserFacingError
from bot.refresh import DEFAULT_PACE
from bot.settings import Settings, SettingsError, configure_logging, load_settings
from bot.sharding import StartRefused
from bot.startup import (
    configure_process,
    database_name,
    freeze_what_start_up_loaded,
    prepare_database,
    use_endpoints,
)

log = logging.getLogger("taketwo")

EXIT_CONFIG = 2
EXIT_TRY_AGAIN = 3
EXIT_DATABASE = 4

# Gateway close codes that mean the shard settings are wrong for this bot: a person must
# change SHARD_COUNT / SHARD_IDS, so they stop the bot instead of being retried.
SHARDING_REFUSED = {
    4010: "Discord refused the shard settings (close code 4010, invalid shard): check that "
    "every id in SHARD_IDS is below SHARD_COUNT and that SHARD_COUNT is the same for every "
    "process.",
    4011: "Discord refused the connection because a shard would hold more than 2,500 servers "
    "(close code 4011, sharding required): raise SHARD_COUNT, or leave SHARD_COUNT and "
    "SHARD_IDS empty to run as many shards as Discord recommends.",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="TakeTwo Discord bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="start the bot (the default)")
    sync = sub.add_parser("sync", help="publish the slash commands to Discord, then exit")
    sync.add_argument(
        "--guild",
        type=int,
        metavar="ID",
        help="sync to this one server only (instant) instead of globally",
    )
    sub.add_parser("playground", help="try the bot in this terminal: no token, no network")
    catalog = sub.add_parser("catalog", help="import, export or refresh the video catalog")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True)
    catalog_sub.add_parser("import", help="check a catalog file whole, then write it").add_argument(
        "file", type=Path
    )
    catalog_sub.add_parser("export", help="write the whole catalog to a file").add_argument(
        "file", type=Path
    )
    refresh = catalog_sub.add_parser(
        "refresh",
        help="fill missing thumbnails and check that sources answer (resumable; deletes nothing)",
    )
    refresh.add_argument(
        "--pace",
        type=_seconds,
        default=DEFAULT_PACE,
        metavar="SECONDS",
        help=f"the least time between two requests to one site (default {DEFAULT_PACE:g})",
    )
    refresh.add_argument(
        "--progress-file",
        type=Path,
        metavar="FILE",
        help="where an unfinished run keeps its progress (default: beside the SQLite "
        "database, or taketwo-refresh.progress in this folder for PostgreSQL)",
    )
    sub.add_parser("backup", help="a consistent copy of the live database").add_argument(
        "file", type=Path
    )
    export = sub.add_parser("export-server", help="one server's ratings, takes and quotes")
    export.add_argument("guild_id", type=int, metavar="GUILD_ID")
    export.add_argument("file", type=Path)
    migrate = sub.add_parser(
        "migrate", help="copy the SQLite database into an empty PostgreSQL database"
    )
    migrate.add_argument(
        "--to", required=True, metavar="URL", help="postgresql://user:password@host:5432/database"
    )
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 60:
        raise argparse.ArgumentTypeError("must be a number of seconds from 0 to 60")
    return value


async def _cancelled_by_sigterm(work: Coroutine[Any, Any, None]) -> None:
    """Runs `work`; a SIGTERM (kill) stops it as Ctrl-C does, through cancellation."""
    task = asyncio.current_task()
    assert task is not None
    # Signal handlers belong to the main thread; elsewhere (tests) a kill is not expected.
    with contextlib.suppress(ValueError, RuntimeError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    await work


def _refresh(settings: Settings, args: argparse.Namespace, database: str) -> int:
    from bot import admin
    from bot.refresh import Summary, describe, summary_lines

    if not settings.external_lookups:
        print(
            "taketwo: EXTERNAL_LOOKUPS is false, so refresh may ask no outside service and "
            "did nothing: set EXTERNAL_LOOKUPS=true to fill thumbnails and check sources.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    print(describe(args.pace), flush=True)
    summary = Summary()
    work = admin.catalog_refresh(
        settings, summary, pace=args.pace, progress_file=args.progress_file
    )
    try:
        asyncio.run(_cancelled_by_sigterm(work))
    except (KeyboardInterrupt, asyncio.CancelledError):
        done = (
            f"after {len(summary.done)} of {summary.total} videos; what was done is kept"
            if summary.total
            else "before it began"
        )
        print(
            f"taketwo: refresh was interrupted {done}: run it again to go on from there.",
            file=sys.stderr,
        )
        return EXIT_TRY_AGAIN
    for line in summary_lines(summary, database):
        print(line)
    return 0


def _admin(args: argparse.Namespace) -> int:
    """The subcommands that work on the database alone: no token needed."""
    from bot import admin
    from bot.catalog import CatalogError

    try:
        settings = load_settings(require_token=False)
    except SettingsError as exc:
        print(f"taketwo: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    database = database_name(settings)
    try:
        if args.command == "catalog" and args.catalog_command == "refresh":
            return _refresh(settings, args, database)
        if args.command == "catalog" and args.catalog_command == "import":
            count = asyncio.run(admin.catalog_import(settings, args.file))
            print(f"Imported {wording.count(count, 'videos')} from {args.file} into {database}.")
        elif args.command == "catalog":
            count = asyncio.run(admin.catalog_export(settings, args.file))
            print(f"Exported {wording.count(count, 'videos')} to {args.file}.")
        elif args.command == "backup":
            admin.backup(settings, args.file)
            print(f"Backed up {database} to {args.file}.")
        else:
            counts = asyncio.run(admin.export_server(settings, args.guild_id, args.file))
            summary = wording.counts(counts)
            print(f"Exported server {args.guild_id} ({summary}) to {args.file}.")
    except CatalogError as exc:
        print(f"taketwo: {args.file} was not imported; nothing was written:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except DatabaseBusy as exc:
        print(f"taketwo: {exc}", file=sys.stderr)
        return EXIT_TRY_AGAIN
    except (MigrationError, DatabaseUnusable) as exc:
        print(f"taketwo: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    except UserFacingError as exc:  # a write refused at start: a full disk, say
        print(f"taketwo: {database}: {exc.message}", file=sys.stderr)
        return EXIT_DATABASE
    except (OSError, admin.BackupElsewhere) as exc:
        print(f"taketwo: {exc}", file=sys.stderr)
        return 1
    return 0


def _migrate(url: str) -> int:
    """Copy the SQLite database at DATABASE_PATH into the empty PostgreSQL database at URL."""
    from bot.db.postgres.from_sqlite import (
        CopyInterrupted,
        CopyNotVerified,
        CopyRefused,
        copy_to_postgres,
    )

    if not re.match(r"postgres(ql)?://\S+$", url):
        print(
            "taketwo: --to must be a PostgreSQL address such as "
            "postgresql://taketwo:password@localhost:5432/taketwo.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    try:
        settings = load_settings(require_token=False)
        copy_to_postgres(settings.database_path, url, lambda line: print(line, flush=True))
    except (SettingsError, CopyRefused) as exc:
        print(f"taketwo: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except DatabaseBusy as exc:
        print(f"taketwo: {exc}", file=sys.stderr)
        return EXIT_TRY_AGAIN
    except (MigrationError, DatabaseUnusable) as exc:
        print(f"taketwo: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    except CopyNotVerified as exc:
        print(
            f"taketwo: the copy was rolled back, as {exc} (a bug: please report it).",
            file=sys.stderr,
        )
        return 1
    except CopyInterrupted as exc:
        print(f"taketwo: {exc}", file=sys.stderr)
        return 0 if exc.complete else EXIT_TRY_AGAIN
    except KeyboardInterrupt:  # before the copy began
        print(
            "taketwo: migrate was interrupted before it was done: nothing was copied; run it "
            "again.",
            file=sys.stderr,
        )
        return EXIT_TRY_AGAIN
    return 0


async def _start(bot: TakeTwoBot, token: str) -> None:
    """discord.py's Client.start, with the process tuned between its two halves."""
    await bot.login(token)  # runs setup_hook: the extensions load
    freeze_what_start_up_loaded()
    await bot.connect()


async def _run(settings: Settings) -> None:
    configure_process(settings)
    bot = TakeTwoBot(settings)
    # The database first: a damaged or unwritable file stops the start before Discord is
    # contacted (and before any identify is spent).
    await prepare_database(bot.db, load_sample_catalog=settings.load_sample_catalog)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = asyncio.create_task(_start(bot, settings.token))
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner.done():
            runner.result()  # re-raise why the bot stopped
        else:
            log.info("signal received: closing")
    finally:
        stopper.cancel()
        await bot.close()
        if not runner.done():
            runner.cancel()
        log.info("closed cleanly")


async def _sync(settings: Settings, guild_id: int | None) -> None:
    use_endpoints(settings)
    bot = TakeTwoBot(settings, sync_dev_guild=False)
    try:
        await bot.login(settings.token)  # HTTP only: runs setup_hook, no gateway
        if guild_id is not None:
            guild = discord.Object(id=guild_id)
            bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
            print(f"Synced {wording.count(len(synced), 'commands')} to server {guild_id}.")
        else:
            synced = await bot.tree.sync()
            print(
                f"Synced {wording.count(len(synced), 'commands')} globally "
                "(may take a few minutes to show)."
            )
    finally:
        await bot.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("catalog", "backup", "export-server"):
        return _admin(args)
    if args.command == "migrate":
        return _migrate(args.to)
    if args.command == "playground":
        from bot.playground import run_playground

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_playground())
        return 0
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"taketwo: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level, secrets=[settings.token])
    try:
        if args.command == "sync":
            asyncio.run(_sync(settings, args.guild))
        else:
            asyncio.run(_run(settings))
    except discord.LoginFailure:
        print(
            "taketwo: DISCORD_TOKEN was rejected by Discord: reset the token in the Developer "
            "Portal (Bot > Reset Token) and update .env.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    except discord.PrivilegedIntentsRequired:
        print(
            "taketwo: Discord refused the requested intents; TakeTwo needs no privileged "
            "intent, so check that this is the right application.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    except discord.ConnectionClosed as exc:
        if exc.code not in SHARDING_REFUSED:
            raise
        print(f"taketwo: {SHARDING_REFUSED[exc.code]}", file=sys.stderr)
        return EXIT_CONFIG
    except StartRefused as exc:  # even a whole day's budget is too small: run fewer shards
        print(f"taketwo: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except MigrationError as exc:
        print(
            f"taketwo: the database {database_name(settings)} could not be upgraded: {exc}",
            file=sys.stderr,
        )
        return EXIT_DATABASE
    except DatabaseBusy as exc:
        print(f"taketwo: {exc}", file=sys.stderr)
        return EXIT_TRY_AGAIN
    except DatabaseUnusable as exc:
        print(f"taketwo: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    except UserFacingError as exc:  # a write refused at start: a full disk, say
        print(f"taketwo: {database_name(settings)}: {exc.message}", file=sys.stderr)
        return EXIT_DATABASE
    except (
        aiohttp.ClientError,
        discord.GatewayNotFound,
        discord.DiscordServerError,
        TimeoutError,
    ) as exc:
        reason = str(exc) or type(exc).__name__
        print(
            f"taketwo: cannot reach Discord at {settings.api_base} ({reason}). Check this "
            "machine's network and DNS, and DISCORD_API_BASE / DISCORD_GATEWAY_URL if set.",
            file=sys.stderr,
        )
        return EXIT_TRY_AGAIN
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
