"""`python -m bot playground`, driven through its prompt as a person would type."""

from __future__ import annotations

from pathlib import Path

from tests.processes import run_bot

SESSION = """\
/review We Cry Together
press Rate
choose 9
/rate video:"We Cry Together" score:7
/review we cry
press Credits
/quote add text:"@everyone wow" video:alright
/rate video:alright score:11
press Nope
/review "unclosed
quit
"""


def test_playground_session_needs_no_token_or_network(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "playground", stdin=SESSION)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in out + result.stderr
    # /review renders the embed, the histogram and the buttons.
    assert "┃ WE CRY TOGETHER" in out
    assert "┃ Directed by\n┃   Jake Schreier, Dave Free, Kendrick Lamar" in out
    assert "[ ⭐ Rate ] [ 🎬 Credits ] [ 💬 Quote ]" in out
    # Pressing Rate shows the menu; choosing 9 rates; /rate replaces it with 7.
    assert "▾ Pick a score from 1 to 10: 10/10, 9/10" in out
    assert "You rated We Cry Together 9/10. Server score: 9.00/10 from 1 rating." in out
    assert "You rated We Cry Together 7/10. Server score: 7.00/10 from 1 rating." in out
    assert "┃    7 ██████████████ 1" in out
    assert "┃ CREDITS: WE CRY TOGETHER" in out
    assert "┃ “@everyone wow”" in out
    # Bad input is explained, never a crash.
    assert "Discord would not send that: score is at most 10" in out
    assert "Discord would not send that: no component 'Nope' on that message" in out
    assert "Could not read that line: No closing quotation" in out
    assert "Discord would have refused" not in out
    assert out.rstrip().endswith("Bye.")
    assert not (tmp_path / "data").exists(), "the playground's database is thrown away"
