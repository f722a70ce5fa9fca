"""The plan panel: the agent's todo list with ``k/n done``."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.messages import AgentEvent, AgentHistory

_MARK: dict[str, tuple[str, str, str]] = {
    "completed": ("✓", "$success", "$text-muted strike"),
    "in_progress": ("▶", "bold $warning", "bold"),
    "pending": ("○", "$text-muted", ""),
}


class PlanPanel(Static):
    """Re-renders its few lines on every ``plan_updated``; items are short."""

    EVENT_TYPES = frozenset({"plan_updated", "ready"})
    HISTORY_TYPES = frozenset({"plan_updated"})

    DEFAULT_CSS = """
    PlanPanel {
        height: auto;
        max-height: 12;
        padding: 0 1;
        overflow-y: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("No plan yet.", id=id, classes="-empty")
        self.items: list[p.PlanItem] = []

    def on_mount(self) -> None:
        self.border_title = "Plan"

    @property
    def done(self) -> int:
        return sum(1 for item in self.items if item.status == "completed")

    def on_agent_event(self, message: AgentEvent) -> None:
        event = message.event
        if isinstance(event, p.PlanUpdated):
            self.set_items(event.items)
        elif message.new_session and self.items:
            self.set_items([])

    def on_agent_history(self, message: AgentHistory) -> None:
        """A resumed session's plan, as its last update left it."""
        for event in message.events(self.HISTORY_TYPES):
            if isinstance(event, p.PlanUpdated):
                self.set_items(event.items)

    def set_items(self, items: list[p.PlanItem]) -> None:
        self.items = list(items)
        self.set_class(not self.items, "-empty")
        if not self.items:
            self.border_title = "Plan"
            self.update("No plan yet.")
            return
        self.border_title = f"Plan · {self.done}/{len(self.items)} done"
        lines: list[Content] = []
        for item in self.items:
            glyph, glyph_style, text_style = _MARK.get(item.status, _MARK["pending"])
            lines.append(Content.assemble((glyph, glyph_style), " ", (item.content, text_style)))
        self.update(Content("\n").join(lines))
