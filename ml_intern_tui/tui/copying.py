"""Copying to the clipboard: the selection (Ctrl+C), and ``/copy`` of answers and code.

Textual's ``App.copy_to_clipboard`` writes the text as an OSC 52 sequence, which the
terminal (or tmux with ``set -g set-clipboard on``) puts on the system clipboard, so
copying works over SSH too. Everything copied is made terminal-safe first: what lands on
the clipboard is pasted into a shell later, and an escape sequence a model planted in an
answer must not ride along.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ml_intern_tui.safety.terminal import terminal_safe

if TYPE_CHECKING:
    from ml_intern_tui.tui.app import MLInternApp

COPY_USAGE = "/copy · /copy code [N] · /copy all"


def code_blocks(markdown: str) -> list[str]:
    """The fenced and indented code blocks of a Markdown text, in order."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(markdown)
    return [t.content for t in tokens if t.type in {"fence", "code_block"}]


def lines_label(text: str) -> str:
    count = text.count("\n") + (0 if text.endswith("\n") else 1)
    return f"{count} line{'s' if count != 1 else ''}"


def copy_text(app: MLInternApp, text: str, what: str) -> None:
    """Put ``text`` on the clipboard (OSC 52) and say what was copied."""
    text = terminal_safe(text)
    app.copy_to_clipboard(text)
    app.notify(f"Copied {what} ({lines_label(text)}).", timeout=3, markup=False)


def copy_selection(app: MLInternApp) -> bool:
    """Copy the screen's selection, if there is one; ``False`` when nothing is selected."""
    selected = app.screen.get_selected_text()
    if not selected:
        return False
    copy_text(app, selected, "the selection")
    app.screen.clear_selection()
    return True


def last_answer(app: MLInternApp) -> str:
    block = app.chat.latest_assistant()
    return block.text.strip() if block is not None else ""


async def run_copy(app: MLInternApp, arg: str) -> None:
    """``/copy`` (last answer), ``/copy code [N]`` (a code block of it), ``/copy all``."""
    words = arg.split()
    if not words:
        answer = last_answer(app)
        if not answer:
            app.local_notice("Nothing to copy yet: no answer in this session.", "warning")
            return
        copy_text(app, answer, "the last answer")
        return
    if words[0] == "all" and len(words) == 1:
        copy_text(app, app.transcript.markdown_so_far(), "the conversation")
        return
    if words[0] == "code" and len(words) <= 2:
        await _copy_code(app, words[1] if len(words) == 2 else "")
        return
    app.local_notice(f"Unknown /copy argument: {arg.strip()}.", "error", hint=COPY_USAGE)


async def _copy_code(app: MLInternApp, number: str) -> None:
    blocks = code_blocks(last_answer(app))
    if not blocks:
        app.local_notice("The last answer has no code block.", "warning", hint=COPY_USAGE)
        return
    if not number:
        index = len(blocks)
    elif number.isdigit() and 1 <= int(number) <= len(blocks):
        index = int(number)
    else:
        app.local_notice(
            f"No code block {number}: the last answer has {len(blocks)} (1–{len(blocks)}).",
            "error",
            hint=COPY_USAGE,
        )
        return
    copy_text(app, blocks[index - 1], f"code block {index} of {len(blocks)}")
