"""Alt+Enter and Shift+Enter add a line in the prompt, as the terminal sends them."""

from __future__ import annotations

import pytest
from textual import events
from textual._xterm_parser import XTermParser

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.keys import normalized, teach_parser
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime


def parsed(sequence: str) -> list[str]:
    teach_parser()
    return [normalized(e).key for e in XTermParser().feed(sequence) if isinstance(e, events.Key)]


@pytest.mark.parametrize(
    ("sequence", "key"),
    [
        ("\x1b\r", "alt+enter"),  # ESC CR: xterm, VTE, iTerm2, tmux M-Enter
        ("\x1b[27;2;13~", "shift+enter"),  # modifyOtherKeys (tmux extended-keys)
        ("\x1b[27;3;13~", "alt+enter"),
        ("\x1b[13;2u", "shift+enter"),  # kitty protocol
        ("\x1b[13;3u", "alt+enter"),
        ("\r", "enter"),  # plain Enter still sends
    ],
)
def test_terminal_sequences_become_our_key_names(sequence: str, key: str) -> None:
    assert parsed(sequence) == [key]


@pytest.mark.parametrize("key", ["alt+enter", "shift+enter", "ctrl+j", "shift+\r", "\r"])
async def test_modified_enter_adds_a_line_and_does_not_send(
    app: MLInternApp, runtime: FakeRuntime, key: str
) -> None:
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.prompt.has_focus)
        app.prompt.set_text("first")
        app.post_message(events.Key(key, None))
        await wait_for(pilot, lambda: app.prompt.text == "first\n")
        await pilot.press("s", "e", "c", "enter")
        await wait_for(pilot, lambda: runtime.ops)
        assert runtime.ops == [p.UserInput(text="first\nsec")]
