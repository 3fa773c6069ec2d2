"""A throwaway PostgreSQL server for the tests: a real cluster (Debian's `postgresql`
package), made in a temporary folder, listening on 127.0.0.1 only, with its socket in that
folder and fsync off, stopped and removed at the end.

initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` user
(`runuser`). Without PostgreSQL installed the tests that need it are skipped with one line;
with TAKETWO_REQUIRE_POSTGRES=1 (CI sets it) they fail instead, so CI cannot pass by
skipping them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from bot.db.postgres.database import PostgresDatabase

REQUIRE = "TAKETWO_REQUIRE_POSTGRES"
SUPERUSER = "postgres"


def server_binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian keeps them out of PATH)."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"PostgreSQL is required here ({REQUIRE}=1) but {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    root: Path
    port: int
    binaries: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.binaries / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb and pg_ctl refuse root
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)

    def start(self) -> None:
        data = self.root / "data"
        made = self._run(
            "initdb", "-D", str(data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        if made.returncode != 0:
            raise RuntimeError(f"initdb failed: {made.stderr.strip()}")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        started = self._run(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(self.root / "server.log"),
            "-w", "start",
        )  # fmt: skip
        if started.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"pg_ctl start failed: {started.stderr.strip()}\n{log}")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster:
    binaries = server_binaries()
    if binaries is None:
        unavailable("no server in /usr/lib/postgresql (apt-get install postgresql)")
        raise AssertionError("unreachable")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        unavailable("running as root without runuser")
    root = Path(tempfile.mkdtemp(prefix="taketwo-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, SUPERUSER, SUPERUSER)
    cluster = Cluster(root, _free_port(), binaries)
    try:
        cluster.start()
    except Exception as exc:
        shutil.rmtree(root, ignore_errors=True)
        unavailable(str(exc))
    return cluster


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """One server per test process (each xdist worker has its own)."""
    cluster = start_cluster()
    yield cluster
    cluster.stop()


_databases = itertools.count()


@asynccontextmanager
async def empty_database(cluster: Cluster, name: str, options: str = "") -> AsyncIterator[str]:
    """The address of a new, empty database on the server (CREATE DATABASE's options
    added), dropped when the block ends."""
    admin = await asyncpg.connect(cluster.url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}" {options}')
        yield cluster.url(name)
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def postgres_url(postgres_cluster: Cluster) -> AsyncIterator[str]:
    """A new, empty database on the test process's server, dropped after the test."""
    async with empty_database(postgres_cluster, f"test_{os.getpid()}_{next(_databases)}") as url:
        yield url


@pytest.fixture
async def pg(postgres_url: str) -> AsyncIterator[PostgresDatabase]:
    """TakeTwo's PostgreSQL backend, open on such a database (the tests that only
    PostgreSQL has: its own server, several processes, transactions at once)."""
    database = PostgresDatabase(postgres_url)
    await database.open()
    yield database
    await database.close()
