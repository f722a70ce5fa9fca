"""A model answer full of escape sequences, in the real app inside tmux.

The fake OpenAI server answers with a window-title change (OSC 0), a clipboard write
(OSC 52), a screen clear and a switch out of the alternate screen. As a user sees it:
the pane title stays what it was, no tmux buffer receives the clipboard text, the app
is still on its alternate screen with its header and prompt drawn, and the answer
shows each sequence as visible text (``␛]0;pwned␇``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fakes.openai_server import FakeOpenAI, Reply

from tui.tmux_driver import Tmux, tmux_app

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

ESC = "\x1b"
ANSWER = (
    f"Sure {ESC}]0;pwned\x07 and {ESC}]2;pwned-too{ESC}\\ then "
    f"{ESC}]52;c;cHduZWQtY2xpcGJvYXJk\x07 {ESC}[2J{ESC}[H{ESC}[?1049l END-OF-ANSWER"
)


def pane(tmux: Tmux, field: str) -> str:
    return tmux.run("display", "-p", "-t", tmux.name, f"#{{{field}}}").strip()


def test_escapes_in_an_answer_leave_the_pane_title_and_screen_alone(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        fake.enqueue(Reply(text=ANSWER, chunks=6))
        with tmux_app(
            tmp_path, ["--model", "vllm/m"], extra_env={"VLLM_BASE_URL": fake.base_url}
        ) as tmux:
            # Let programs in the pane set tmux buffers: a clipboard write would show.
            tmux.run("set-option", "-s", "set-clipboard", "on")
            tmux.wait_text("session ", timeout=60)  # the core is ready
            title = pane(tmux, "pane_title")
            buffers = tmux.run("list-buffers")

            tmux.keys("say something", "Enter")
            screen = tmux.wait_text("END-OF-ANSWER", timeout=60)

            assert "␛]0;pwned␇" in screen and "␛[?1049l" in screen  # shown, not obeyed
            assert pane(tmux, "pane_title") == title and "pwned" not in title
            assert "pwned" not in tmux.run("list-buffers") and buffers == tmux.run("list-buffers")
            assert pane(tmux, "alternate_on") == "1"  # still on the app's screen
            screen = tmux.wait_for(
                lambda s: "ml-intern" in s.splitlines()[0] and "Ask the agent" in s,
                "the header and the idle prompt after the answer",
                timeout=30,
            )
            assert "vllm/m" in screen.splitlines()[0]
