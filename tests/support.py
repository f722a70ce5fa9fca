"""Helpers shared by tests: import them with ``from support import ...``.

(The root ``conftest.py`` also offers them as fixtures. A test module must not import
``conftest`` itself: with several conftest files, which one that name means depends on
the order pytest collects them.)
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def pid_gone(pid: int) -> bool:
    """True when the process no longer exists (a zombie awaiting its reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state == "Z"


def pids_with(marker: str) -> list[int]:
    """Live (non-zombie) processes, other than bubblewrap, whose command line has ``marker``.

    Finds a sandboxed process from outside: inside its PID namespace ``$!`` and ``$$``
    are numbers that mean nothing (or another process) out here.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        program = os.path.basename(argv[0].decode(errors="replace")) if argv else ""
        text = b" ".join(argv).decode(errors="replace")
        if marker in text and state != "Z" and program != "bwrap":
            found.append(int(entry.name))
    return found


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.02)


class BlockMarkdown:
    """A Rich renderable of Markdown blocks joined as ``MarkdownLines`` joins them.

    The reference the tests hold block-by-block drawing to (and compare with Rich).
    """

    def __init__(self, blocks: list[Any], cache: dict[Any, Any], code_theme: str = "monokai"):
        self.blocks = blocks
        self.cache = cache
        self.code_theme = code_theme

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from ml_intern_tui.tui.widgets.blocks.markdown_render import (
            block_segments,
            forget_other_shapes,
            shape_of,
        )

        forget_other_shapes(self.cache, shape_of(options))
        drawn = False
        for block in self.blocks:
            segments = block_segments(
                block,
                first=not drawn,
                console=console,
                options=options,
                cache=self.cache,
                code_theme=self.code_theme,
            )
            drawn = drawn or bool(segments)
            yield from segments
