"""Several `python -m bot` processes against one stand-in, and which of them did what.

The stand-in runs in the test's process; the bots are real processes. To tell them apart it
finds, for each connection it serves, the process holding the other end (through /proc: the
client socket's inode among each bot's open files). So a test sees which process received
each interaction (its gateway session), which one answered it (the callback request) and
which one sent each daily post, and can hold the daily posts back for a moment to make two
schedulers work at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.standin.server import BODY, Session, StandIn

# A bot that has not said it is up by then is stuck.
START_TIMEOUT = 40.0
STOP_TIMEOUT = 30.0


async def until(
    condition: Callable[[], bool | Awaitable[bool]], what: str, within: float = 20.0
) -> None:
    """Wait for `condition` to hold, looking again every few milliseconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = condition()
        if await result if inspect.isawaitable(result) else result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class BotProcess:
    """`python -m bot ARGS` with its output (log) collected line by line."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self.process = process
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._ended = False
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def spawn(cls, name: str, env: dict[str, str], cwd: Path, *args: str) -> BotProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            env=env,
            cwd=cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(name, process)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            async with self._changed:
                self.lines.append(line.decode(errors="replace"))
                self._changed.notify_all()
        async with self._changed:
            self._ended = True
            self._changed.notify_all()

    async def logged(self, text: str) -> str:
        """The first line of the log holding `text`, once written."""

        def found() -> str | None:
            return next((line for line in self.lines if text in line), None)

        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: found() is not None or self._ended),
                    START_TIMEOUT,
                )
            except TimeoutError:
                raise AssertionError(f"{self.name} never logged {text!r}:\n{self.log}") from None
        line = found()
        if line is None:
            raise AssertionError(f"{self.name} ended without logging {text!r}:\n{self.log}")
        return line

    async def finished(self) -> int:
        """The exit status, once the process has ended (its whole log read)."""
        await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        await self._reader
        assert self.process.returncode is not None
        return self.process.returncode

    async def stop(self) -> int:
        """Stop it as a supervisor does (SIGTERM) and wait for it to end."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await self.finished()

    async def kill(self) -> None:
        """For the end of a test, failed or not: no process outlives it."""
        if self.process.returncode is None:
            self.process.kill()
        await self.finished()


def _client_socket_inode(client_port: int, server_port: int) -> int | None:
    """The inode of the client end of a TCP connection to 127.0.0.1:server_port."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        ports = (int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16))
        if ports == (client_port, server_port):
            return int(fields[9])
    return None


def _holder(inode: int, pids: list[int]) -> int | None:
    """Which of these processes has the socket open."""
    target = f"socket:[{inode}]"
    for pid in pids:
        with contextlib.suppress(OSError):  # a process that has ended, an fd just closed
            for fd in os.scandir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(fd.path) == target:
                        return pid
    return None


@dataclass(frozen=True)
class DailySend:
    """One request to send a daily post: to which server, for which local day, by whom."""

    guild_id: int
    local_date: str
    sender: str


@dataclass
class _Watch:
    processes: dict[int, str] = field(default_factory=dict)  # pid -> name
    received: dict[int, str] = field(default_factory=dict)  # interaction id -> receiver
    answered: dict[int, list[str]] = field(default_factory=dict)  # interaction id -> senders
    daily_channels: dict[int, int] = field(default_factory=dict)  # channel id -> server
    daily_sends: list[DailySend] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # senders of daily posts held back


class WatchingStandIn(StandIn):
    """The stand-in, noting which bot process is at the other end of what it serves."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.watch = _Watch()
        self._posts_flow = asyncio.Event()
        self._posts_flow.set()

    def add_process(self, process: BotProcess) -> None:
        self.watch.processes[process.pid] = process.name

    def _process_at(self, peer: Any) -> str:
        """The name of the bot process at the other end of a connection (by its address)."""
        pids = list(self.watch.processes)
        inode = _client_socket_inode(int(peer[1]), self.port) if peer else None
        pid = _holder(inode, pids) if inode is not None else None
        return "no bot process" if pid is None else self.watch.processes[pid]

    def _requester(self, request: web.Request) -> str:
        assert request.transport is not None
        return self._process_at(request.transport.get_extra_info("peername"))

    # What the bots receive and send

    async def _dispatch(self, session: Session, event: str, data: Any) -> None:
        if event == "INTERACTION_CREATE":
            receiver = self._process_at(session.ws.get_extra_info("peername"))
            self.watch.received[int(data["id"])] = receiver
        await super()._dispatch(session, event, data)

    async def _callback(self, request: web.Request) -> web.Response:
        answers = self.watch.answered.setdefault(int(request.match_info["id"]), [])
        answers.append(self._requester(request))
        return await super()._callback(request)

    async def _create_message(self, request: web.Request) -> web.Response:
        guild_id = self.watch.daily_channels.get(int(request.match_info["channel"]))
        if guild_id is not None:
            # The post's footer ends with the local day it is for (cogs/daily.py).
            footer = (request[BODY] or {})["embeds"][0]["footer"]["text"]
            sender = self._requester(request)
            self.watch.daily_sends.append(DailySend(guild_id, footer.rsplit(" · ", 1)[1], sender))
            if not self._posts_flow.is_set():
                self.watch.held.append(sender)
                await self._posts_flow.wait()
        return await super()._create_message(request)

    # Holding daily posts back

    def hold_daily_posts(self) -> None:
        """Every daily post sent from now on waits, unanswered, for `release_daily_posts`."""
        self._posts_flow.clear()

    def release_daily_posts(self) -> None:
        self._posts_flow.set()
