"""`python -m bot playground`: try the bot in a terminal, with no token and no network.

It starts the local Discord stand-in on 127.0.0.1, runs the real bot (same client, cogs and
database code as production) against it with a throwaway database holding the sample
catalog, and reads commands at a prompt as a member of a server would send them. A few
members have rated videos before the prompt appears, and the person at the prompt can act
as any of them, as a manager or as the bot's owner.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shlex
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.client import TakeTwoBot
from bot.db.models import MIN_RATINGS
from bot.settings import Settings
from bot.standin.member import ANSWER_TIMEOUT, ClientRefused, Member, Reply
from bot.standin.render import (
    LOADING,
    Directory,
    explain_refusal,
    render_form,
    render_message,
    text_inputs,
)
from bot.standin.schema import SpecChecksMissing
from bot.standin.server import ALL_PERMISSIONS, Guild, StandIn
from bot.startup import use_endpoints
from bot.wording import count

MANAGE_GUILD = 1 << 5
MANAGE_MESSAGES = 1 << 13
CHANNELS = ("general", "quotes")
# Discord refuses a message longer than this from a member without Nitro.
MESSAGE_LENGTH = 2000
# Members who rated before the prompt appears, so that /top has something to list.
EARLIER_RATINGS = {
    "ana": {"Alright": 9, "HUMBLE.": 7, "Formation": 8},
    "ben": {"Alright": 8, "HUMBLE.": 8, "Formation": 9},
    "cleo": {"Alright": 9, "HUMBLE.": 6, "Formation": 7},
}
ROLES = {
    "you": "the member you started as, with Manage Messages (removes anyone's quotes and takes)",
    "manager": "a member with Manage Server and Manage Messages: /daily is theirs",
    "owner": "the bot's owner (the Discord application's owner): edits the catalog with "
    "/video and /review-source",
}
# Words too common to name a form field by.
_COMMON_WORDS = {"the", "and", "for", "from", "one", "per", "your", "with", "this"}
NEED_COMMAND = "Type a command after the slash, like /review We Cry Together (help lists them)."

HELP = f"""\
Type a slash command the way you would in Discord, then press Enter:
  /review We Cry Together
  /rate video:"We Cry Together" score:9
  /take We Cry Together          (opens a form: fill it, then submit)
  /credits video:humble          /takes We Cry Together
  /quote random                  /quote add text:"What a video" video:alright
  /top
  /daily set channel:#quotes time:09:00 timezone:Europe/London    (as manager)
  /video add title:"Test Pattern" artist:"The Examples"           (as owner)
Text after a command fills its first option; name options with option:value, and a
channel with #name (this server has {", ".join("#" + c for c in CHANNELS)}).
A video is looked up with autocomplete first, as Discord does, and the first match is used.
Put text with an apostrophe in double quotes: text:"it's good".
Other things you can do:
  press LABEL      press a button on the last message that has buttons; the start of its
                   label is enough, without emoji or arrows (press Next for "Next ▶")
  choose VALUE     pick an option of the last menu (choose 9)
  fill NAME=VALUE  type into a field of the open form; NAME is a word of the field's label
                   (fill score=8 take="Sharp and sad"); \\n inside quotes starts a new line
  submit           send the open form
  cancel           close the open form without sending it
  as NAME          act as someone else: as manager (Manage Server: /daily), as owner (the
                   bot's owner: catalog editing), as {" / ".join(EARLIER_RATINGS)} (members
                   who rated before you), as you, or as any new name for a new member
  say TEXT         post a message as whoever you are
  save             run "Save as quote" on the last message said
  help             show this again
  quit             stop (Ctrl-D works too)
Messages are drawn as Discord draws them: times in this computer's local time, @names for
members, #names for channels; a button that cannot be pressed says (disabled)."""


class Said(Exception):
    """A line the playground cannot run; the message says why, in a sentence."""


@dataclass
class OpenForm:
    """A form (modal) the bot opened, and what has been typed into it so far."""

    member: Member
    modal: dict[str, Any]
    values: dict[str, str]
    keys: dict[str, str]  # custom_id -> the word shown for the field

    @classmethod
    def of(cls, member: Member, modal: dict[str, Any]) -> OpenForm:
        fields = text_inputs(modal)
        values = {f["custom_id"]: f.get("value") or "" for f in fields}
        return cls(member, modal, values, _field_keys(fields))

    def named(self, name: str) -> dict[str, Any]:
        """The field a person means by `name`: its shown word, its number, its custom_id,
        or a word of its label (or that word's start)."""
        wanted = name.lower()
        fields = text_inputs(self.modal)
        exact = [f for f in fields if self.keys[f["custom_id"]] == wanted]
        found = exact or [
            f
            for number, f in enumerate(fields, start=1)
            if wanted in (str(number), f["custom_id"].lower())
            or any(w.startswith(wanted) or wanted == w + "s" for w in _words(f.get("label", "")))
        ]
        if len(found) == 1:
            return found[0]
        listed = ", ".join(f"{self.keys[f['custom_id']]} ({f.get('label', '')})" for f in fields)
        if not found:
            raise Said(f"This form has no field {name!r}. Its fields: {listed}.")
        raise Said(f"{name!r} could mean more than one field. Its fields: {listed}.")


def _words(label: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", label.lower())


def _field_keys(fields: list[dict[str, Any]]) -> dict[str, str]:
    """A short word for each field, to type after `fill`: its label's longest word that no
    other field's label has ("Score from 1 to 10" is score, "Your take" is take)."""
    keys: dict[str, str] = {}
    for number, entry in enumerate(fields, start=1):
        others = {w for f in fields if f is not entry for w in _words(f.get("label", ""))}
        words = [
            w
            for w in _words(entry.get("label", ""))
            if len(w) >= 3 and w.isalpha() and w not in _COMMON_WORDS | others
        ]
        keys[entry["custom_id"]] = max(words, key=len) if words else f"field{number}"
    return keys


def _bare(label: str) -> str:
    """A label without its decorations: "Next ▶" is "next", "Agree #3" is "agree 3"."""
    return " ".join(re.findall(r"\w+", label.lower()))


def _label(component: dict[str, Any]) -> str:
    return component.get("label") or component.get("placeholder") or "(no label)"


class Playground:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        try:
            self.standin = StandIn()
        except SpecChecksMissing:
            # Installed without the test extra: the bot runs the same, only the bodies it
            # sends go unchecked against Discord's schema.
            self.standin = StandIn(validate=False)
        self._tmp = tempfile.TemporaryDirectory(prefix="taketwo-playground-")
        self.bot: TakeTwoBot | None = None
        self._task: asyncio.Task[None] | None = None
        self.guild: Guild
        self.members: dict[str, Member] = {}
        self.member: Member
        self.form: OpenForm | None = None
        self.last_with_components: dict[str, Any] | None = None
        self.last_said: dict[str, Any] | None = None
        self.actions: dict[str, Callable[[str], Awaitable[None]]] = {
            "press": self._press,
            "click": self._press,
            "choose": self._choose,
            "pick": self._choose,
            "fill": self._fill,
            "submit": self._submit,
            "cancel": self._cancel,
            "as": self._become,
            "say": self._post,
            "save": self._save,
            "help": self._help,
        }

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    @property
    def prompt(self) -> str:
        who = "" if self.member.name == "you" else f" as {self.member.name}"
        return f"taketwo{who}> "

    async def start(self) -> None:
        await self.standin.start()
        self.guild = self.standin.add_guild("Playground", channels=CHANNELS)
        settings = Settings(
            token=self.standin.token,
            database_path=Path(self._tmp.name) / "playground.sqlite3",
            dev_guild_id=self.guild.id,
            log_level="WARNING",
            api_base=self.standin.api_base,
            gateway_url=self.standin.gateway_url,
        )
        # The stand-in sends every server at once: no need for discord.py's 2 s wait.
        use_endpoints(settings)
        self.bot = TakeTwoBot(settings, guild_ready_timeout=0.05)
        self._task = asyncio.create_task(self.bot.start(settings.token))
        ready = asyncio.create_task(self.bot.wait_until_ready())
        await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            ready.cancel()
            self._task.result()
        self._add_member("you", permissions=MANAGE_MESSAGES)
        self._add_member("manager", permissions=MANAGE_GUILD | MANAGE_MESSAGES)
        # The application's owner also owns the server, so Discord gives them every permission.
        self._add_member(
            "owner", user_id=int(self.standin.owner["id"]), permissions=ALL_PERMISSIONS
        )
        for name in EARLIER_RATINGS:
            self._add_member(name)
        self.member = self.members["you"]

    def _add_member(self, name: str, **details: Any) -> Member:
        self.members[name] = Member(self.standin, self.guild, name=name, **details)
        return self.members[name]

    async def rate_earlier(self) -> str:
        """Have the sample members rate through /rate, as they would have in Discord."""
        try:
            for name, scores in EARLIER_RATINGS.items():
                for title, score in scores.items():
                    await self.members[name].use("rate", video=title, score=score)
        except (ClientRefused, AssertionError) as failure:
            return f"(The sample members could not rate: {failure}. /top starts empty.)"
        titles = {t for scores in EARLIER_RATINGS.values() for t in scores}
        return (
            f"{_and(list(EARLIER_RATINGS))} have already rated {_and(sorted(titles))}, so /top "
            f"has something to show (a video needs {MIN_RATINGS} ratings to be listed)."
        )

    async def close(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        if self._task is not None:
            await self._task
        await self.standin.close()
        self._tmp.cleanup()

    @property
    def names(self) -> Directory:
        people = {m.id: m.name for m in self.members.values()}
        people[self.standin.application_id] = self.standin.bot_user["username"]
        channels = {c.id: c.name for c in self.guild.channels.values()}
        return Directory(people, channels)

    def _draw(self, message: dict[str, Any]) -> None:
        self.say(render_message(message, self.names))
        if message.get("components"):
            self.last_with_components = message

    async def show(self, reply: Reply) -> None:
        await self._settled(reply)
        if reply.type == 9:
            self.form = OpenForm.of(self.member, reply.modal)
            self.say(render_form(self.form.modal, self.form.values, self.form.keys))
        elif reply.message is None and not reply.followups:
            self.say("(the bot answered without a message)")
        elif reply.message is not None:
            self._draw(reply.message)
        for followup in reply.followups:
            self._draw(followup)
        for problem in self.standin.invalid:
            self.say(
                f"!! Discord would have refused what the bot sent ({problem.method} "
                f"{problem.path}): {explain_refusal(problem.answer)}"
            )
        self.standin.invalid.clear()

    async def _settled(self, reply: Reply) -> None:
        """When the bot was slow it first answers "thinking" (or, on a button, nothing
        visible) and fills the answer in a moment later: wait for that."""
        edited = (reply.message or {}).get("edited_timestamp")
        for _ in range(int(ANSWER_TIMEOUT / 0.05)):
            message = reply.message or {}
            thinking = reply.type == 5 and message.get("flags", 0) & LOADING
            unchanged = (
                reply.type == 6
                and not reply.followups
                and message.get("edited_timestamp") == edited
            )
            if not (thinking or unchanged):
                return
            await asyncio.sleep(0.05)

    # Slash commands

    def _command_line(self, line: str) -> tuple[str, dict[str, Any]]:
        """Split `/quote add text:"hi" video:x` into the command path and typed options."""
        words = _split(line[1:])
        words = (words[0].split() + words[1:]) if words else []
        if not words:
            raise Said(NEED_COMMAND)
        path = words.pop(0)
        command = self._command(path)
        definitions = command.get("options") or []
        while groups := [o for o in definitions if o["type"] in (1, 2)]:
            chosen = next((o for o in groups if words and o["name"] == words[0]), None)
            if chosen is None:
                listed = ", ".join(f"/{path} {o['name']}" for o in groups)
                raise ClientRefused(f"/{path} is only the start of a command: {listed}")
            path = f"{path} {words.pop(0)}"
            definitions = chosen.get("options") or []
        return path, self._typed_options(definitions, words)

    def _command(self, name: str) -> dict[str, Any]:
        try:
            command, _ = self.member._command(name)
        except ClientRefused as refused:
            # Say who may use a command hidden from this member.
            able = [who for who in ("manager", "owner") if self._sees(who, name)]
            if able and self.member.name not in able:
                raise ClientRefused(f"{refused} (try: as {able[0]})") from None
            raise
        return command

    def _sees(self, who: str, name: str) -> bool:
        try:
            self.members[who]._command(name)
        except ClientRefused:
            return False
        return True

    def _typed_options(self, definitions: list[dict[str, Any]], words: list[str]) -> dict[str, Any]:
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
        return {name: self._typed(by_name[name], value) for name, value in values.items()}

    def _typed(self, option: dict[str, Any], value: str) -> Any:
        name, kind = option["name"], option["type"]
        if kind == 4:
            try:
                return int(value)
            except ValueError:
                raise ClientRefused(f"{name} takes a whole number") from None
        if kind == 7:
            return self._channel_id(value)
        if kind == 3 and not option.get("autocomplete"):
            low, high = option.get("min_length", 0), option.get("max_length", 6000)
            if len(value) > high:
                raise ClientRefused(
                    f"{name} takes at most {high} characters and that is {len(value)}: "
                    f"Discord's box stops typing at {high}"
                )
            if len(value) < low:
                raise ClientRefused(f"{name} takes at least {low} characters")
        return value

    def _channel_id(self, value: str) -> str:
        wanted = value.removeprefix("#").lower()
        for channel in self.guild.channels.values():
            if wanted in (channel.name, str(channel.id)):
                return str(channel.id)
        listed = ", ".join(f"#{c.name}" for c in self.guild.channels.values())
        raise ClientRefused(f"this server has no channel #{wanted}; it has {listed}")

    # Everything else at the prompt

    async def handle(self, line: str) -> bool:
        """Run one line. Returns False when the person wants to stop."""
        line = line.strip()
        if not line:
            return True
        word, _, rest = line.partition(" ")
        try:
            if line.startswith("/"):
                path, options = self._command_line(line)
                await self.show(await self.member.use(path, **options))
            elif word in ("quit", "exit"):
                return False
            elif word in self.actions:
                await self.actions[word](rest.strip())
            else:
                self.say("Unknown input. Type help to see what you can do.")
        except ClientRefused as refused:
            self.say(f"Discord would not send that: {refused}")
        except Said as said:
            self.say(str(said))
        except AssertionError as failure:  # the bot did not answer, or answered oddly
            self.say(f"The bot did not answer as Discord expects: {failure}")
        return True

    def _with_components(self) -> dict[str, Any]:
        if self.last_with_components is None or not self.last_with_components.get("components"):
            raise Said("No message with buttons or menus yet: try /review first.")
        return self.last_with_components

    def _button(self, message: dict[str, Any], label: str) -> dict[str, Any]:
        buttons: list[dict[str, Any]] = [
            c
            for row in message.get("components") or []
            for c in row.get("components", [])
            if c.get("type") == 2
        ]
        listed = ", ".join(_label(b) for b in buttons) or "none"
        wanted = _bare(label)
        if not wanted:
            raise Said(f"Press which button? On that message: {listed}.")
        exact = [b for b in buttons if _bare(_label(b)) == wanted or b.get("custom_id") == label]
        found = exact or [b for b in buttons if _bare(_label(b)).startswith(wanted)]
        if not found:
            raise Said(f"No button {label!r} on that message. Its buttons: {listed}.")
        if len(found) > 1 and not exact:
            named = ", ".join(_label(b) for b in found)
            raise Said(f"More than one button starts with {label!r} ({named}): type more of it.")
        return found[0]

    async def _press(self, label: str) -> None:
        message = self._with_components()
        button = self._button(message, label)
        if button.get("disabled"):
            raise Said(
                f"{_label(button)} is disabled (greyed out) on that message, so it cannot be "
                "pressed."
            )
        if button.get("url"):
            raise Said(f"{_label(button)} is a link: it opens {button['url']} in a browser.")
        await self.show(await self.member.click(message, button["custom_id"]))

    async def _choose(self, value: str) -> None:
        message = self._with_components()
        await self.show(await self.member.choose(message, [value.removesuffix("/10")]))

    # Forms

    def _open_form(self) -> OpenForm:
        if self.form is None:
            raise Said("No form is open: /take or /video credits opens one.")
        return self.form

    async def _fill(self, text: str) -> None:
        form = self._open_form()
        pairs = _split(text)
        typed: dict[str, str] = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            if not sep or not name:
                raise Said(f"Write fill NAME=VALUE, like fill {next(iter(form.keys.values()))}=…")
            field = form.named(name)
            if field.get("style") == 2:
                value = value.replace("\\n", "\n")
            high = field.get("max_length", 4000)
            if len(value) > high:
                raise Said(
                    f"{field.get('label')} holds at most {high} characters and that is "
                    f"{len(value)}: Discord's form stops typing at {high}. Nothing was filled."
                )
            typed[field["custom_id"]] = value
        if not typed:
            raise Said("Fill what? Write fill NAME=VALUE.")
        form.values.update(typed)
        self.say(render_form(form.modal, form.values, form.keys))

    async def _submit(self, _: str) -> None:
        form = self._open_form()
        for field in text_inputs(form.modal):
            value = form.values[field["custom_id"]]
            low = field.get("min_length", 1 if field.get("required", True) else 0)
            if len(value) < low:
                raise Said(
                    f"{field.get('label')} needs at least {count(low, 'characters')}: "
                    "Discord keeps Submit greyed out until it has. "
                    f"fill {form.keys[field['custom_id']]}=…"
                )
        self.form = None
        await self.show(await form.member.submit(form.modal, form.values))

    async def _cancel(self, _: str) -> None:
        self._open_form()
        self.form = None
        self.say("Closed the form; nothing was sent.")

    # Who you are, and what you say

    async def _become(self, name: str) -> None:
        name = name.removeprefix("@").lower()
        if not re.fullmatch(r"[a-z0-9_.]{2,32}", name):
            raise Said(
                "as whom? A name is 2 to 32 letters, digits, _ or . — as manager, as owner, "
                f"as {', as '.join(EARLIER_RATINGS)}, as you, or a new name."
            )
        role = ROLES.get(name)
        if name in EARLIER_RATINGS:
            role = f"a member who rated {_and(list(EARLIER_RATINGS[name]))} before you came"
        if name not in self.members:
            self._add_member(name)
            role = "a new member of the server, with no special permissions"
        if self.form is not None and self.member.name != name:
            self.form = None
            self.say(f"(The form {self.member.name} had open was closed without sending.)")
        self.member = self.members[name]
        self.say(f"You are now {name}: {role}.")

    async def _post(self, text: str) -> None:
        if len(text) > MESSAGE_LENGTH:
            raise Said(
                f"Discord does not send a message over {MESSAGE_LENGTH} characters "
                f"(4000 with Nitro); that one has {len(text)}."
            )
        self.last_said = self.member.post(text)
        self.say(f"{self.member.name}: {text}")

    async def _save(self, _: str) -> None:
        if self.last_said is None:
            raise Said("Say something first (say TEXT), then save it.")
        await self.show(await self.member.message_menu("Save as quote", self.last_said))

    async def _help(self, _: str) -> None:
        self.say(HELP)


def _split(line: str) -> list[str]:
    """Words as a shell splits them, so that "two words" in quotes stay one value."""
    try:
        return shlex.split(line)
    except ValueError:
        raise Said(
            "A quote (\" or ') in that line is never closed. Put text with an apostrophe in "
            'double quotes, like text:"it\'s good".'
        ) from None


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


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
    try:
        earlier = await playground.rate_earlier()
        channels = _and([f"#{c}" for c in CHANNELS])
        playground.say(
            "Ready. You are 'you', a member of the server 'Playground' (channels "
            f"{channels}), with the sample catalog.\n{earlier}"
        )
        playground.say(HELP)
        source = lines or _stdin_lines(
            lambda: print(f"\n{playground.prompt}", end="", file=out, flush=True)
        )
        async for line in source:
            if not await playground.handle(line):
                break
    finally:
        await playground.close()
        playground.say("Bye.")
