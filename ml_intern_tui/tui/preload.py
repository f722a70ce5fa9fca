"""Work done off the UI thread after the first frame, so the first answer does not pay it."""

from __future__ import annotations

from typing import Any


def preload_markdown() -> None:
    """Load what answers are drawn with, before the first answer."""
    from pygments.lexers import get_lexer_by_name

    from ml_intern_tui.tui.widgets.blocks import assistant, markdown_render, reasoning

    del assistant, reasoning
    # Building a lexer compiles dozens of regular expressions (about 50 ms for Python):
    # done here, the first code block of an answer does not stall the stream.
    for name in ("python", "bash", "json", "yaml", "text"):
        get_lexer_by_name(name)
    markdown_render.warm_up()


async def warm_runtime(runtime: Any) -> None:
    """The runtime's warm-up (the model's call path first: the first token waits on it),
    then, when the runtime has one, the warm-up of what only the app uses."""
    await runtime.warm_up()
    warm_ui = getattr(runtime, "warm_ui", None)
    if warm_ui is not None:
        await warm_ui()
