"""The live tool-call tree: one node per call, grouped by turn, sub-agent calls nested."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import Reactive
from textual.strip import Strip
from textual.theme import Theme
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.formatting import format_duration, one_line, short_args
from ml_intern_tui.tui.messages import AgentEvent, AgentHistory, history_failed
from ml_intern_tui.tui.widgets.appending_tree import AppendingTree

GLYPHS: dict[str, tuple[str, str]] = {
    "running": ("●", "$warning"),
    "waiting": ("?", "bold $accent"),
    "ok": ("✓", "$success"),
    "failed": ("✗", "bold $error"),
    "rejected": ("⊘", "$error"),
    "cancelled": ("■", "$text-muted"),
    "abandoned": ("–", "$text-muted"),
}
"""Status → (glyph, style) for a node's first column (``$name`` is a theme colour)."""

_THEME_COLORS = ("primary", "secondary", "accent", "warning", "error", "success", "foreground")


def resolve_style(spec: str, theme: Theme | None) -> str:
    """A Rich style from ``"bold $warning"``: theme colours filled in, muted text dimmed.

    ``Tree`` labels are Rich ``Text``, which knows nothing of Textual's CSS variables.
    """
    out: list[str] = []
    for token in spec.split():
        if token == "$text-muted":
            out.append("dim")
        elif token.startswith("$"):
            name = token[1:].removeprefix("text-")
            color = getattr(theme, name, None) if name in _THEME_COLORS else None
            if isinstance(color, str):
                out.append(color)
        else:
            out.append(token)
    return " ".join(out)


ACTIVE = frozenset({"running", "waiting"})


@dataclass
class ToolRecord:
    """Everything the UI has seen about one tool call."""

    call_id: str
    tool: str
    args: dict[str, Any]
    parent_id: str | None
    started: float
    status: str = "running"
    ended: float | None = None
    summary: str = ""
    output: str = ""
    truncated: bool = False
    data: dict[str, Any] | None = None
    progress: list[str] = field(default_factory=list)

    def elapsed(self, now: float) -> float:
        return (self.ended if self.ended is not None else now) - self.started


NodeData = ToolRecord | None


class ToolTree(AppendingTree[NodeData]):
    """Updated in place with ``set_label`` on a kept node map; a new call is one new line."""

    EVENT_TYPES = frozenset(
        {
            "turn_started",
            "tool_call",
            "tool_progress",
            "tool_result",
            "approval_required",
            "interrupted",
            "assistant_message",
            "ready",
            "undone",
        }
    )

    HISTORY_TYPES = EVENT_TYPES - {"ready"}
    """What the tree takes from a resumed session's history (its turns from ``tree_from``)."""

    DEFAULT_CSS = """
    ToolTree {
        background: transparent;
        padding: 0;
        overflow-x: hidden;
        & > .tree--guides { color: $text-muted; }
        & > .tree--cursor { background: transparent; text-style: none; }
        &:focus > .tree--cursor { background: $block-cursor-background; }
    }
    """

    class ShowDetail(Message):
        """The user selected a call: show its arguments and output."""

        def __init__(self, record: ToolRecord) -> None:
            super().__init__()
            self.record = record

    def __init__(self, *, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        # Set before Tree's own set-up, which may already measure a label.
        self._widths: dict[int, tuple[object, bool, bool, int]] = {}
        """Node id -> (label, can expand, expanded, width): see ``get_label_width``."""
        self._line_style: Style | None = None
        self._redraw_only = False
        """Set while the tree redraws its lines: see ``refresh``."""
        super().__init__("tools", id=id)
        self.show_root = False
        self.guide_depth = 2
        self.clock = clock
        self.records: dict[str, ToolRecord] = {}
        self.nodes: dict[str, TreeNode[NodeData]] = {}
        self._turn: TreeNode[NodeData] | None = None
        self._turn_text = ""
        self._turns = 0
        self._restoring = False
        self._unplaced: list[tuple[TreeNode[NodeData], ToolRecord]] = []
        """Calls read from a history, placed in the tree once it is read (final labels)."""
        self._styles: dict[str, str] = {}
        """Resolved label styles for the current theme (a label has five parts)."""

    def on_mount(self) -> None:
        self.border_title = "Tool calls"
        self.set_interval(1.0, self._tick)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    # ------------------------------------------------------------------ labels

    def _style(self, spec: str) -> str:
        style = self._styles.get(spec)
        if style is None:
            theme = self.app.current_theme if self.is_attached else None
            style = resolve_style(spec, theme)
            if theme is not None:  # before mounting there is no theme to keep it for
                self._styles[spec] = style
        return style

    def _text(self, *parts: str | tuple[str, str]) -> Text:
        return Text.assemble(
            *(part if isinstance(part, str) else (part[0], self._style(part[1])) for part in parts)
        )

    def label_for(self, record: ToolRecord) -> Text:
        glyph, style = GLYPHS.get(record.status, ("·", ""))
        detail = record.summary or (record.progress[-1] if record.progress else "")
        if not detail:
            detail = short_args(record.args)
        elapsed = format_duration(record.elapsed(self.clock()))
        parts: list[str | tuple[str, str]] = [
            (glyph, style),
            " ",
            (record.tool, "bold"),
            " ",
            (elapsed, "$text-muted"),
        ]
        if detail:
            parts += ["  ", (one_line(detail, 60), "$text-muted" if record.status == "ok" else "")]
        return self._text(*parts)

    def _turn_label(self, number: int, text: str, *, undone: bool = False) -> Text:
        title = one_line(text, 40) or "…"
        if undone:
            return self._text(
                (f"Turn {number} (undone)", "$text-muted strike"), "  ", (title, "dim")
            )
        return self._text((f"Turn {number}", "bold $primary"), "  ", (title, "italic"))

    def _relabel(self, record: ToolRecord) -> None:
        node = self.nodes.get(record.call_id)
        if node is not None:
            node.set_label(self.label_for(record))

    def _tick(self) -> None:
        for record in self.records.values():
            if record.status in ACTIVE:
                self._relabel(record)

    def _theme_changed(self, theme: Theme) -> None:
        self._styles.clear()
        for record in self.records.values():
            self._relabel(record)

    # --------------------------------------------------------------- drawing

    def get_label_width(self, node: TreeNode[NodeData]) -> int:
        """A node's label width, measured once per label.

        The tree measures every line's label each time a node is added (for its width):
        with hundreds of calls in a turn that was most of the cost of a call.
        """
        label, can_expand, expanded = node.label, node.allow_expand, node.is_expanded
        known = self._widths.get(node.id)
        if known is not None and known[0] is label and known[1:3] == (can_expand, expanded):
            return known[3]
        width = super().get_label_width(node)
        self._widths[node.id] = (label, can_expand, expanded, width)
        return width

    # A new call changes what the pane shows and how far it scrolls; when the pane's size
    # is fixed by its CSS (as in the side bar) that never changes the screen's layout, and
    # a layout arranges every widget on the screen (the chat with all its blocks): so
    # neither the tree's growth nor its redraw asks for one there.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def _fixed_height(self) -> bool:
        height = self.styles.height
        return height is not None and not height.is_auto

    def watch_virtual_size(self, size: Size) -> None:
        if self._fixed_height() and self.is_mounted and self.region:  # shown, laid out
            self._scroll_update(size)  # the scrollbar, as a layout would have set it
        else:
            self.refresh(layout=True)

    def _invalidate(self) -> None:
        self._redraw_only = self._fixed_height()
        try:
            super()._invalidate()
        finally:
            self._redraw_only = False

    def _lines_changed(self) -> None:
        self._redraw_only = self._fixed_height()
        try:
            super()._lines_changed()
        finally:
            self._redraw_only = False

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        """Textual's ``refresh``; a redraw of the tree's lines skips the layout (above)."""
        layout = layout and not self._redraw_only
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def render_lines(self, crop: Region) -> list[Strip]:
        # The widget's style, which Tree works out again for every line, once per draw.
        self._line_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._line_style = None

    def render_line(self, y: int) -> Strip:
        style = self._line_style
        if style is None:
            return super().render_line(y)
        scroll_x, scroll_y = self.scroll_offset
        return self._render_line(y + scroll_y, scroll_x, scroll_x + self.size.width, style)

    # ------------------------------------------------------------------ events

    def on_agent_event(self, message: AgentEvent) -> None:
        if message.kind == "ready":
            if message.new_session:
                self.start_over()
            return
        handler = getattr(self, f"_on_{message.kind}", None)
        if handler is not None:
            handler(message.event)

    def start_over(self) -> None:
        """Start over for a new session."""
        if self.records or self._turns:
            self.clear()
            self.records.clear()
            self.nodes.clear()
            self._widths.clear()
            self._turn = None
            self._turns = 0

    def _on_turn_started(self, event: p.TurnStarted) -> None:
        if event.text:  # an empty text resumes the same turn (after an approval)
            self._new_turn(event.text)

    def _new_turn(self, text: str) -> TreeNode[NodeData]:
        if self._turn is not None:
            self._turn.collapse()
        self._turns += 1
        self._turn_text = text
        self._turn = self.root.add(self._turn_label(self._turns, text), data=None, expand=True)
        return self._turn

    def _on_tool_call(self, event: p.ToolCall) -> None:
        record = ToolRecord(
            call_id=event.call_id,
            tool=event.tool,
            args=dict(event.args),
            parent_id=event.parent_id,
            started=event.ts,
        )
        self.records[event.call_id] = record
        if self._restoring:  # placed with its final label once the history is read
            turn = self._turn if self._turn is not None else self._new_turn("")
            self._unplaced.append((turn, record))
            return
        self._place(record, self._turn)

    def _place(self, record: ToolRecord, turn: TreeNode[NodeData] | None) -> None:
        parent = self.nodes.get(record.parent_id or "")
        if parent is None:
            parent = turn if turn is not None else self._new_turn("")
        else:  # a sub-agent's call: its research call opens (each change redraws the tree)
            if not parent.allow_expand:
                parent.allow_expand = True
            if not parent.is_expanded:
                parent.expand()
        node = self.append(parent, self.label_for(record), record, expand=True, allow_expand=False)
        self.nodes[record.call_id] = node
        if record.status == "failed":
            self._add_failure(node, record)
        self._follow(node)

    def _follow(self, node: TreeNode[NodeData]) -> None:
        """Keep the newest call in view, unless the user is browsing the tree."""
        if not self.has_focus and not self._restoring:
            self.call_after_refresh(self.scroll_to_node, node, animate=False)

    def _on_tool_progress(self, event: p.ToolProgress) -> None:
        record = self.records.get(event.call_id)
        if record is not None:
            record.progress.append(event.text)
            del record.progress[:-200]
            self._relabel(record)

    def _on_assistant_message(self, event: p.AssistantMessage) -> None:
        if event.parent_id and (record := self.records.get(event.parent_id)):
            record.progress.append(event.text)
            self._relabel(record)

    def _on_approval_required(self, event: p.ApprovalRequired) -> None:
        for item in event.items:
            record = self.records.get(item.call_id)
            if record is not None and record.status == "running":
                record.status = "waiting"
                self._relabel(record)

    def _on_tool_result(self, event: p.ToolResultEvent) -> None:
        record = self.records.get(event.call_id)
        if record is None:
            return
        status = event.status if event.status != "ok" or event.ok else "failed"
        record.status = status
        record.ended = event.ts
        record.summary = event.summary
        record.output = event.output
        record.truncated = event.truncated
        record.data = event.data
        self._relabel(record)
        node = self.nodes.get(event.call_id)
        if status == "failed" and node is not None:
            self._add_failure(node, record)

    def _add_failure(self, node: TreeNode[NodeData], record: ToolRecord) -> None:
        """A failed call's reason, as a leaf under it."""
        reason = one_line(record.summary or record.output, 70)
        if reason:
            if not node.allow_expand:
                node.allow_expand = True
            self.append(node, self._text((reason, "$error")), record, allow_expand=False)
            if not node.is_expanded:
                node.expand()

    def _on_undone(self, event: p.Undone) -> None:
        if event.what == "turn" and self._turn is not None:
            self._turn.set_label(self._turn_label(self._turns, self._turn_text, undone=True))
            self._turn.collapse()

    def _on_interrupted(self, event: p.Interrupted) -> None:
        for record in self.records.values():
            if record.status in ACTIVE:
                record.status = "cancelled"
                record.ended = event.ts
                self._relabel(record)

    # ------------------------------------------------------------------ resume

    def on_agent_history(self, message: AgentHistory) -> None:
        """Grow the tree of a resumed session with the live handlers, without scrolling.

        The core gives every call the session left unfinished its end (cancelled, or
        abandoned when it waited for an approval), so nothing here stays running. Calls
        are placed once all of it is read, each with its final label: a label drawn at
        the call and again at its result (a redraw queued for each) cost twice as much.
        """
        history = message.history
        if history.turns_before:
            earlier = history.turns_before
            noun = "turn" if earlier == 1 else "turns"
            self.root.add_leaf(self._text((f"{earlier} earlier {noun} not shown", "dim")))
            self._turns = earlier
        self._restoring = True
        try:
            for event in message.events(self.HISTORY_TYPES, start=history.tree_from):
                getattr(self, f"_on_{getattr(event, 'type', '')}")(event)
            for turn, record in self._unplaced:
                self._place(record, turn)
        except Exception as exc:  # a damaged history must not take the app down
            history_failed(self, exc)
        finally:
            self._restoring = False
            self._unplaced = []
        last = next(reversed(self.nodes.values()), None)
        if last is not None:
            self.call_after_refresh(self.scroll_to_node, last, animate=False)

    # ---------------------------------------------------------------- selection

    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeData]) -> None:
        event.stop()
        record = event.node.data
        if record is not None:
            self.post_message(self.ShowDetail(record))
