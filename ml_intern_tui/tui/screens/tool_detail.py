"""One tool call in full: arguments, progress, tables (dataset rows), diffs and output."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from ml_intern_tui.tui.formatting import format_duration, looks_like_diff, pretty_args
from ml_intern_tui.tui.widgets.data_preview import DataPreview, table_of
from ml_intern_tui.tui.widgets.diff_view import DiffView
from ml_intern_tui.tui.widgets.tool_tree import GLYPHS, ToolRecord

MAX_OUTPUT_CHARS = 200_000


def diff_of(record: ToolRecord) -> str | None:
    """The diff a call produced: ``data["diff"]`` if the tool gave one, else a diff output."""
    data = record.data or {}
    diff = data.get("diff")
    if isinstance(diff, str) and diff.strip():
        return diff
    if looks_like_diff(record.output):
        return record.output
    return None


class ToolDetailScreen(ModalScreen[None]):
    """Scrollable; Esc closes."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="detail.close")]

    DEFAULT_CSS = """
    ToolDetailScreen {
        align: center middle;
        & > VerticalScroll {
            width: 95%; height: 90%;
            border: round $primary; background: $surface; padding: 0 1;
        }
        & .section { margin-top: 1; color: $text-accent; text-style: bold; }
        & .mono { background: $boost; padding: 0 1; }
    }
    """

    def __init__(self, record: ToolRecord, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.record = record
        self.clock = clock

    def compose(self) -> ComposeResult:
        record = self.record
        glyph, style = GLYPHS.get(record.status, ("·", ""))
        with VerticalScroll() as scroll:
            # The tool name and call id come from the model: plain text, never markup.
            scroll.border_title = Content(f"{record.tool} · {record.call_id}")
            scroll.can_focus = True
            yield Static(
                Content.assemble(
                    (glyph, style),
                    " ",
                    (record.tool, "bold"),
                    "  ",
                    (record.status, style),
                    "  ",
                    (format_duration(record.elapsed(self.clock())), "$text-muted"),
                    "  ",
                    (record.summary, "italic"),
                )
            )
            yield Static("Arguments", classes="section")
            yield Static(Content(pretty_args(record.args)), classes="mono")
            if record.progress:
                yield Static("Progress", classes="section")
                yield Static(Content("\n".join(record.progress[-50:])), classes="mono")
            table = table_of(record.data)
            if table is not None:
                columns, rows = table
                where = " · ".join(
                    str(record.data.get(key))
                    for key in ("dataset", "split")
                    if record.data and record.data.get(key)
                )
                yield Static(
                    Content(f"Sample rows ({len(rows)}){' · ' + where if where else ''}"),
                    classes="section",
                )
                yield DataPreview(columns, rows)
            diff = diff_of(record)
            if diff is not None:
                yield Static("Diff", classes="section")
                yield DiffView(diff)
            if record.output and record.output != diff:
                title = "Output (truncated for the model)" if record.truncated else "Output"
                yield Static(title, classes="section")
                yield Static(Content(record.output[:MAX_OUTPUT_CHARS]), classes="mono")
            elif record.status in {"running", "waiting"}:
                yield Static("Still running…", classes="section")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
