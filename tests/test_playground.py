"""`python -m bot playground`, driven through its prompt as a person would type."""

from __future__ import annotations

import contextlib
import io
import re
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.playground import run_playground
from bot.standin.render import Directory, draw_tags, explain_refusal, relative_time
from bot.standin.schema import error_body
from tests.processes import environment_set

NEED_COMMAND = "Type a command after the slash, like /review We Cry Together (help lists them)."
LONG_WORD = "https://example.com/" + "long-path/" * 9  # wider than the 80-column terminal

SESSION = f"""\
help
/review We Cry Together
press rate
choose 9
as ana
/rate video:"We Cry Together" score:8
as ben
/rate video:"We Cry Together" score:10
as you
/top
/review we cry
press Credits
press Nope
/take we cry
fill nope=1
fill score=8 take="Sharp and sad"
submit
/takes we cry
press Next
/take alright
fill score=7
submit
cancel
submit
/daily set channel:#quotes time:09:00 timezone:Europe/London
as manager
/daily set channel:#nowhere time:09:00 timezone:Europe/London
/daily set channel:#quotes time:09:00 timezone:Europe/London
/daily status
/video add title:"Test Pattern" artist:"The Examples"
as owner
/video add title:"Test Pattern" artist:"The Examples" year:2024
/video credits video:"Test Pattern"
fill credit="Director: Ann Example\\nDirector: Bo Example"
submit
as zoe
/credits video:"Test Pattern"
as owner
/video remove video:"Test Pattern"
press yes
/quote add text:"@everyone wow" video:alright
/quote add text:"see {LONG_WORD}" video:alright
/quote add text:"{"x" * 1001}"
say {"y" * 2001}
/rate video:alright score:11
/quote
/review "unclosed
quit
"""


@contextlib.contextmanager
def terminal(*, columns: str, timezone: str) -> Iterator[None]:
    """The terminal's width and the computer's time zone, as the playground reads them."""
    try:
        with environment_set(COLUMNS=columns, TZ=timezone):
            time.tzset()
            yield
    finally:
        time.tzset()


async def test_a_bare_slash_gets_a_sentence_and_the_prompt_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In this process (the whole session below runs `python -m bot playground` itself).
    monkeypatch.chdir(tmp_path)

    async def typed() -> AsyncIterator[str]:
        for line in ("/\n", "/   \n", '/""\n', "/review humble\n"):
            yield line

    out = io.StringIO()
    await run_playground(typed(), out)
    assert out.getvalue().count(NEED_COMMAND) == 3
    assert "┃ HUMBLE." in out.getvalue()
    assert out.getvalue().rstrip().endswith("Bye.")


async def test_a_whole_session_shows_every_part_of_the_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In this process, reading the session from stdin as a terminal would give it (the
    # playground as a process is run by tests/test_optional_schema.py).
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO(SESSION))
    shown = io.StringIO()
    with terminal(columns="80", timezone="Europe/London"):
        await run_playground(out=shown)
    out = shown.getvalue()
    flat = " ".join(out.split())  # sentences, wherever the terminal wrapped them
    assert "Traceback" not in out + capsys.readouterr().err
    assert "Discord would have refused" not in out
    assert out.rstrip().endswith("Bye.")
    assert not (tmp_path / "data").exists(), "the playground's database is thrown away"

    # The banner says who rated already; help lists every kind of line.
    assert (
        "ana, ben and cleo have already rated Alright, Formation and HUMBLE., so /top has "
        "something to show (a video needs 3 ratings to be listed)." in flat
    )
    for line in ("press LABEL", "choose VALUE", "fill NAME=VALUE", "submit", "cancel"):
        assert f"\n  {line} " in out
    for line in ("as NAME", "say TEXT", "save", "help", "quit"):
        assert f"\n  {line} " in out
    assert "as manager (Manage Server: /daily), as owner" in out

    # /review draws the embed, the histogram and the buttons; pressing and choosing rate.
    assert "┃ WE CRY TOGETHER" in out
    assert "┃ Directed by\n┃   Jake Schreier, Dave Free, Kendrick Lamar" in out
    assert "[ ⭐ Rate ] [ 🎬 Credits ] [ 💬 Quote ]" in out
    assert "▾ Pick a score from 1 to 10: 10/10, 9/10" in out
    assert "You rated We Cry Together 9/10. Server score: 9.00/10 from 1 rating." in out

    # Two more members rate, each under their own name at the prompt; /top lists the video.
    assert "You are now ana: a member who rated Alright, HUMBLE. and Formation before" in flat
    assert "\ntaketwo as ana> " in out and "\ntaketwo as ben> " in out
    assert "You rated We Cry Together 10/10. Server score: 9.00/10 from 3 ratings." in out
    assert "┃ TOP VIDEOS IN PLAYGROUND\n┃ 1. We Cry Together — Kendrick Lamar" in out
    assert "Formation — Beyoncé" in out
    assert "┃   9.00/10 from 3 ratings\n┃   10 ██████████████ 1" in out
    assert "┃ CREDITS: WE CRY TOGETHER" in out

    # A take through its form: shown when it opens, filled by label words, submitted.
    assert "FORM · Your take: We Cry Together\n  score — Score from 1 to 10" in out
    assert "  │ (empty: for example 8)\n  take — Your take (several lines" in out
    assert (
        "This form has no field 'nope'. Its fields: score (Score from 1 to 10), take (Your take)."
    ) in out
    assert "  score — Score from 1 to 10 (up to 2 characters)\n  │ 8\n" in out
    assert "  │ Sharp and sad\n" in out
    assert "Saved your take #1 on We Cry Together (8/10)." in out
    # Mentions are names; a disabled button is drawn so, and pressing it is explained.
    assert "┃   @you: Sharp and sad" in out
    assert "[ Agree #1 ] [ ◀ Previous (disabled) ] [ Next ▶ (disabled) ]" in out
    assert "Next ▶ is disabled (greyed out) on that message, so it cannot be pressed." in out
    # An empty required field keeps the form open; cancel closes it.
    assert "Your take needs at least 1 character: Discord keeps Submit greyed out" in flat
    assert "Closed the form; nothing was sent." in out
    assert "No form is open: /take or /video credits opens one." in out

    # /daily belongs to managers; times and channels are drawn as Discord draws them.
    assert "daily is hidden from members without its permissions (try: as manager)" in out
    assert "this server has no channel #nowhere; it has #general, #quotes" in out
    day = r"\w+day \d{1,2} \w+ \d{4} 09:00"
    assert re.search(
        rf"I will post a quote in #quotes\. The first one comes in [^,<]+, on {day}\.", flat
    ), flat
    assert "┃ Channel\n┃   #quotes" in out
    assert re.search(rf"┃ Next posts\n┃   {day}\n┃   {day}\n┃   {day}\n", out)
    assert not re.search(r"<(t:|@|#)", out), "every tag is drawn readably"

    # The catalog belongs to the bot's owner: a video added, its credits through a form.
    assert "so only the bot's owners can change it." in flat
    assert "Added Test Pattern — The Examples (slug" in flat
    assert "FORM · Credits: Test Pattern\n  credits — Credits, one per line: Role: Name" in out
    assert "  │ Director: Ann Example\n  │ Director: Bo Example\n" in out
    assert "Saved 2 credits for Test Pattern." in out
    assert "You are now zoe: a new member of the server, with no special permissions." in out
    assert out.count("┃ Director\n┃   Ann Example\n┃   Bo Example") == 2  # saved, then read
    # press takes the start of a label.
    assert "[ Yes, remove it everywhere ] [ Cancel ]" in out
    assert "Removed Test Pattern from the catalog" in flat

    # A line too wide for the terminal goes on below, marked and explained.
    assert "┃ “@everyone wow”" in out
    assert re.search(r"┃ https://example\.com/long-path/\S{40,}↩\n┃ \S+”", out), out
    assert "(↩ ends a line too wide for this 80-column terminal: it goes on below." in out
    # What Discord's own client refuses is said, with why.
    assert "text takes at most 1000 characters and that is 1001: Discord's box stops typing" in flat
    assert "Discord does not send a message over 2000 characters" in flat
    assert "Discord would not send that: score is at most 10" in out
    # The credits reply (with its people menu) is now the last message with components.
    assert "No button 'Nope' on that message. Its buttons: none." in out
    assert "/quote is only the start of a command: /quote random, /quote add" in out
    assert "A quote (\" or ') in that line is never closed." in out


def test_times_and_refusals_read_as_sentences() -> None:
    assert relative_time(3 * 3600 + 100) == "in 3 hours"
    assert relative_time(-30) == "a few seconds ago"
    assert relative_time(36 * 3600 + 1) == "in 2 days"
    names = Directory(people={7: "ana"}, channels={9: "quotes"})
    assert draw_tags("<@7> and <@!8> in <#9>, see </top:1>", names) == (
        "@ana and @unknown-user in #quotes, see /top"
    )
    answer = error_body([(("embeds", 0, "title"), "BASE_TYPE_MAX_LENGTH", "Too long.")])
    assert explain_refusal(answer) == "Invalid Form Body (embeds.0.title: Too long.)"
