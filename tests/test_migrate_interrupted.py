"""Ctrl-C at the end of `python -m bot migrate --to ...`: the line migrate leaves says what
the target holds. Interrupted as COMMIT waits for its answer, the copy may be there or not,
and the line says so (and how to tell); interrupted once COMMIT was answered, the copy is
complete, and the line says that, not "nothing was copied".

The moment is held still with the server's own synchronous replication: with a standby
named that never connects, COMMIT is written on the server and then waits for the standby,
so migrate is stopped inside COMMIT for as long as the test needs. (Halfway interruptions
are in tests/test_migrate_to_postgres.py.)
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from bot.db.postgres.database import PostgresDatabase
from tests.postgres import Cluster, start_cluster
from tests.processes import bot_environment, ctrl_c_as_at_a_terminal
from tests.templates import sample_database
from tests.test_migrate_to_postgres import assert_same_rows, migrate

PATIENCE_S = 60.0  # a bound that fails the test, not a speed it measures


@pytest.fixture
def cluster_waiting_for_a_standby() -> Iterator[Cluster]:
    """A server of the test's own: its setting of a standby holds every commit."""
    cluster = start_cluster()
    yield cluster
    cluster.stop()


async def hold_commits(admin: asyncpg.Connection[asyncpg.Record], held: bool) -> None:
    setting = (
        "SET synchronous_standby_names = 'standby_that_never_comes'"
        if held
        else "RESET synchronous_standby_names"
    )
    await admin.execute(f"ALTER SYSTEM {setting}")
    await admin.execute("SELECT pg_reload_conf()")


async def commit_waiting(admin: asyncpg.Connection[asyncpg.Record]) -> int:
    """The server process whose COMMIT waits for the standby."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE_S
    while True:
        pid = await admin.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep' LIMIT 1"
        )
        if pid is not None:
            return int(pid)
        assert loop.time() < deadline, "migrate never reached its COMMIT"
        await asyncio.sleep(0.05)


async def committed(admin: asyncpg.Connection[asyncpg.Record], pid: int) -> None:
    """Wait until migrate's connection has its COMMIT answered: idle, or closed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE_S
    while await admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state <> 'idle'", pid
    ):
        assert loop.time() < deadline, "migrate's COMMIT was not answered"
        await asyncio.sleep(0.05)


async def ready(tmp_path: Path, cluster: Cluster) -> tuple[Path, str]:
    """A SQLite database to copy, and an empty target already at its newest schema (so
    that migrate's own commits before the copy's are none)."""
    source = await sample_database(tmp_path / "bot.sqlite3")
    admin = await asyncpg.connect(cluster.url())
    try:
        await admin.execute('CREATE DATABASE "target"')
    finally:
        await admin.close()
    url = cluster.url("target")
    target = PostgresDatabase(url)
    await target.open()
    await target.close()
    return source, url


async def start_migrate(
    tmp_path: Path, source: Path, url: str, stdout: int
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate", "--to", url,
        preexec_fn=ctrl_c_as_at_a_terminal,
        cwd=tmp_path, env=bot_environment(DATABASE_PATH=str(source)),
        stdout=stdout, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_ctrl_c_as_commit_waits_says_the_copy_may_be_complete(
    tmp_path: Path, cluster_waiting_for_a_standby: Cluster
) -> None:
    cluster = cluster_waiting_for_a_standby
    source, url = await ready(tmp_path, cluster)
    admin = await asyncpg.connect(cluster.url())
    try:
        await hold_commits(admin, True)
        process = await start_migrate(tmp_path, source, url, asyncio.subprocess.PIPE)
        await commit_waiting(admin)
        process.send_signal(signal.SIGINT)
        out, err = await process.communicate()
        await hold_commits(admin, False)
    finally:
        await admin.close()
    [line] = err.decode().splitlines()
    assert process.returncode == 3, (out, err)
    assert "nothing was copied" not in line
    assert "the copy is either complete or not there at all" in line
    # The server had written the commit before it waited: the copy is there, whole, and
    # running migrate again says so as the line promised.
    await assert_same_rows(source, url)
    code, _, again = migrate(tmp_path, source, url)
    assert code == 2 and "is not empty" in again[0]


async def test_ctrl_c_after_commit_says_the_copy_is_complete(
    tmp_path: Path, cluster_waiting_for_a_standby: Cluster
) -> None:
    cluster = cluster_waiting_for_a_standby
    source, url = await ready(tmp_path, cluster)
    # migrate's output goes into a pipe the test fills, so that once its COMMIT is answered
    # migrate stops at its next line (the one before VACUUM, after the commit) and the
    # interruption arrives there, not after it has exited.
    read_end, write_end = os.pipe()
    admin = await asyncpg.connect(cluster.url())
    try:
        await hold_commits(admin, True)
        process = await start_migrate(tmp_path, source, url, write_end)
        committing = await commit_waiting(admin)
        printed = _drain(read_end)
        assert "Verifying" in printed  # everything before COMMIT was said
        room = fcntl.fcntl(write_end, fcntl.F_GETPIPE_SZ)
        assert os.write(write_end, b"\0" * room) == room
        os.close(write_end)
        # Cancelling the wait answers COMMIT (committed on the server): migrate goes on.
        await admin.execute("SELECT pg_cancel_backend($1)", committing)
        await committed(admin, committing)
        await hold_commits(admin, False)
        process.send_signal(signal.SIGINT)
        rest = await asyncio.to_thread(_read_to_the_end, read_end)
        _, err = await process.communicate()
    finally:
        await admin.close()
        os.close(read_end)
    [line] = err.decode().splitlines()
    assert process.returncode == 0, (rest, err)
    assert "interrupted after the copy" in line and "the copy is complete" in line
    await assert_same_rows(source, url)


def _drain(fd: int) -> str:
    """What is in the pipe now, without waiting for more."""
    os.set_blocking(fd, False)
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except BlockingIOError:
        pass
    os.set_blocking(fd, True)
    return b"".join(chunks).decode(errors="replace")


def _read_to_the_end(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)
