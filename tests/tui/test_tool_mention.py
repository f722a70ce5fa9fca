"""The chat's tool mention, drawn line by line, draws what one wrapped block of it draws.

``ToolMention`` keeps each wrapped line as a widget of its own so that a new name redraws
only the last line. Next to it, the reference: the whole text in one ``Static`` with the
same style, wrapped by Textual. After every few names, and after the width changes, the
two must show the same cells (text and style) on the same number of rows.
"""

from __future__ import annotations

import random

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from ml_intern_tui.tui.widgets.blocks.tools import ToolMention

NAMES = [
    "read",
    "bash",
    "plan",
    "hf_jobs",
    "research",
    "web_fetch",
    "edit",
    "x",
    "github_find_examples",
]


class Reference(Static):
    """The mention as it was: the whole text in one wrapped block."""

    DEFAULT_CSS = """
    Reference { margin: 1 0 0 0; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, tool: str) -> None:
        super().__init__()
        self.tools = [tool]
        self.update(self._content())

    def add(self, tool: str) -> None:
        self.tools.append(tool)
        self.update(self._content())

    def _content(self) -> Content:
        return Content.assemble(("⚙ ", "$accent"), " · ".join(self.tools))


class Pair(App[None]):
    CSS = "Vertical { width: 40; height: auto; }"

    def compose(self) -> ComposeResult:
        with Vertical():
            self.mention = ToolMention("read")
            self.reference = Reference("read")
            yield self.mention
            yield self.reference


def cells(app: Pair, widget: ToolMention | Static) -> list[list[tuple[str, object]]]:
    """The screen's cells in the widget's region and its top margin: (character, style).

    Styles without their meta (where a character sits in its own widget's text differs).
    """
    region = widget.region
    screen = app.screen._compositor.render_full_update()
    rows = []
    for y in range(region.y - 1, region.bottom):
        line = [
            (char, seg.style) for strip in screen.strips[y] for seg in strip for char in seg.text
        ]
        row = line[region.x : region.right]
        rows.append([(char, style and style.clear_meta_and_links()) for char, style in row])
    return rows


async def test_the_mention_draws_what_one_wrapped_block_draws() -> None:
    app = Pair()
    async with app.run_test(size=(100, 90)) as pilot:
        rng = random.Random(7)
        box = app.query_one(Vertical)
        for step in range(70):
            tool = rng.choice(NAMES)
            app.mention.add(tool)
            app.reference.add(tool)
            if step % 5 == 0:
                if step % 25 == 0:  # the chat narrows or widens: every line breaks anew
                    box.styles.width = rng.randrange(24, 90)
                await pilot.pause()
                await pilot.pause()
                assert app.mention.size == app.reference.size, step
                assert cells(app, app.mention) == cells(app, app.reference), step
        assert app.mention.tools == app.reference.tools
        assert app.mention.size.height > 5  # it did wrap, many times
