"""`python -m bot playground`: try the bot in a terminal, with no token and no network.

It starts the local Discord stand-in on 127.0.0.1, runs the real bot (same client, cogs and
database code as production) against it with a throwaway database holding the sample
catalog, and reads commands at a prompt as a member of a server would send them.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TextIO

from bot.client import TakeTwoBot
from bot.settings import Settings
from bot.standin.member import ClientRefused, Member, Reply
from bot.standin.render import render_message
from bot.standin.server import StandIn

MANAGE_MESSAGES = 1 << 13

HELP = """\
Type a slash command the way you would in Discord, then press Enter:
  /review We Cry Together
  /rate video:"We Cry Together" score:9
  /credits show video:humble
  /quote random            /quote add text:"What a video" video:alright
  /top
Text after a command fills its first option; name options with option:value.
A video is looked up with autocomplete first, as Discord does, and the first match is used.
Other things you can do:
  press LABEL      press a button on the last message that has buttons (press Rate)
  choose VALUE     pick an option of the last menu (choose 9)
  say TEXT         post a message as yourself
  save             run "Save as quote" on your last message
  help             show this again
  quit             stop (Ctrl-D works too)"""


class Playground:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.standin = StandIn()
        self._tmp = tempfile.TemporaryDirectory(prefix="taketwo-playground-")
        self.bot: TakeTwoBot | None = None
        self._task: asyncio.Task[None] | None = None
        self.member: Member
        self.last_with_components: dict[str, Any] | None = None
        self.last_said: dict[str, Any] | None = None

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def start(self) -> None:
        await self.standin.start()
        guild = self.standin.add_guild("Playground")
        settings = Settings(
            token=self.standin.token,
            database_path=Path(self._tmp.name) / "playground.sqlite3",
            dev_guild_id=guild.id,
            log_level="WARNING",
            api_base=self.standin.api_base,
            gateway_url=self.standin.gateway_url,
        )
        self.bot = TakeTwoBot(settings)
        self._task = asyncio.create_task(self.bot.start(settings.token))
        ready = asyncio.create_task(self.bot.wait_until_ready())
        await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            ready.cancel()
            self._task.result()
        self.member = Member(self.standin, guild, name="you", permissions=MANAGE_MESSAGES)

    async def close(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        if self._task is not None:
            await self._task
        await self.standin.close()
        self._tmp.cleanup()

    def show(self, reply: Reply) -> None:
        message = reply.message
        if message is None:
            self.say("(the bot answered without a message)")
            return
        self.say(render_message(message))
        if message.get("components"):
            self.last_with_components = message
        for problem in self.standin.invalid:
            self.say(f"!! Discord would have refused a request: {problem.answer}")
        self.standin.invalid.clear()

    def _options(self, path: str, words: list[str]) -> tuple[str, dict[str, Any]]:
        """Split `quote add text:"hi" video:x` into the command path and typed options."""
        command, _ = self.member._command(path)
        definitions = command.get("options") or []
        if words and any(o["name"] == words[0] and o["type"] == 1 for o in definitions):
            sub = words.pop(0)
            path = f"{path} {sub}"
            chosen = next(o for o in definitions if o["name"] == sub)
            definitions = chosen.get("options") or []
        by_name = {o["name"]: o for o in definitions}
        values: dict[str, Any] = {}
        loose: list[str] = []
        for word in words:
            name, sep, value = word.partition(":")
            if sep and name in by_name:
                values[name] = value
            else:
                loose.append(word)
        if loose:
            free = next((o for o in definitions if o["name"] not in values), None)
            if free is None:
                raise ClientRefused(f"what is {' '.join(loose)!r} for?")
            values[free["name"]] = " ".join(loose)
        for name, value in list(values.items()):
            if by_name[name]["type"] == 4:
                try:
                    values[name] = int(value)
                except ValueError:
                    raise ClientRefused(f"{name} takes a whole number") from None
        return path, values

    async def handle(self, line: str) -> bool:
        """Run one line. Returns False when the person wants to stop."""
        line = line.strip()
        if not line:
            return True
        word, _, rest = line.partition(" ")
        try:
            if line.startswith("/"):
                words = shlex.split(line[1:])
                path, options = self._options(words[0], words[1:])
                self.show(await self.member.use(path, **options))
            elif word in ("press", "click"):
                self._need_components()
                assert self.last_with_components is not None
                self.show(await self.member.click(self.last_with_components, rest.strip()))
            elif word in ("choose", "pick"):
                self._need_components()
                assert self.last_with_components is not None
                value = rest.strip().removesuffix("/10")
                self.show(await self.member.choose(self.last_with_components, [value]))
            elif word == "say":
                self.last_said = self.member.post(rest)
                self.say(f"you: {rest}")
            elif word == "save":
                if self.last_said is None:
                    raise ClientRefused("say something first, then save it")
                self.show(await self.member.message_menu("Save as quote", self.last_said))
            elif word == "help":
                self.say(HELP)
            elif word in ("quit", "exit"):
                return False
            else:
                self.say("Unknown input. Type help to see what you can do.")
        except ClientRefused as refused:
            self.say(f"Discord would not send that: {refused}")
        except ValueError as bad:  # shlex: an unclosed quote
            self.say(f"Could not read that line: {bad}")
        except AssertionError as failure:  # the bot did not answer, or answered oddly
            self.say(f"The bot did not answer as Discord expects: {failure}")
        return True

    def _need_components(self) -> None:
        if self.last_with_components is None:
            raise ClientRefused("no message with buttons or menus yet: try /review first")


async def _stdin_lines(prompt: Callable[[], None]) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    while True:
        prompt()
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        yield line


async def run_playground(lines: AsyncIterator[str] | None = None, out: TextIO = sys.stdout) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    playground = Playground(out)
    playground.say("Starting TakeTwo against a local stand-in for Discord...")
    await playground.start()
    playground.say("Ready. You are a member of the server 'Playground', with the sample catalog.")
    playground.say(HELP)
    try:
        source = lines or _stdin_lines(lambda: print("\ntaketwo> ", end="", file=out, flush=True))
        async for line in source:
            if not await playground.handle(line):
                break
    finally:
        await playground.close()
        playground.say("Bye.")
