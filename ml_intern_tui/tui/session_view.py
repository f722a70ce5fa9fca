"""The UI's one view of the session: model, mode, ids, context, spend, budget, effort.

Folded from events in the app's ``deliver`` (before any widget sees the event), and
read by the header, the status line, ``/status``, ``/cost`` and ``/budget``: a figure
shown in two places cannot disagree, and no widget keeps its own copy. Before the first
``ready`` it holds what the config says (terminal-safe: it is drawn like an event).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ml_intern_tui.core import protocol as p
from ml_intern_tui.safety.terminal import terminal_safe

if TYPE_CHECKING:
    from ml_intern_tui.config.schema import AppConfig

FOLDED = frozenset({"ready", "effort", "context_usage", "spend"})
"""The event types that change the view (the widgets that draw it redraw on them)."""


@dataclass
class SessionView:
    """What the session is, as the UI shows it; ``fold`` each event into it."""

    model: str = ""
    mode: str = "ask"
    session_id: str = ""
    cwd: str = ""
    effort: p.EffortStatus | None = None
    """The last ``effort`` event (``/effort`` and ``/status`` report from it)."""
    used: int = 0
    """Context tokens in use."""
    limit: int = 0
    """The context window in tokens (0: not known yet)."""
    threshold: int = 0
    """Where compaction starts, in tokens (0: not known yet)."""
    spend: p.Spend | None = None
    """The last ``spend`` event (``/cost`` reports from it)."""
    budget_usd: float | None = None

    @classmethod
    def from_config(cls, settings: AppConfig) -> SessionView:
        """The view before the core has said anything: the configured model and mode."""
        view = cls()
        view.configure(settings)
        return view

    def configure(self, settings: AppConfig) -> None:
        """Take the model, mode and budget of ``settings`` (start-up, or the trust answer)."""
        # Config text is drawn before any event: terminal-safe like everything drawn.
        self.model = terminal_safe(settings.model)
        self.mode = settings.mode
        self.budget_usd = settings.budget_usd

    def fold(self, event: p.EventBase) -> bool:
        """Take what ``event`` says about the session; True when the view changed."""
        if isinstance(event, p.Ready):
            self.model, self.mode = event.model, event.mode
            self.session_id, self.cwd = event.session_id, event.cwd
            self.limit = event.context_limit
        elif isinstance(event, p.EffortStatus):
            self.effort = event
        elif isinstance(event, p.ContextUsage):
            self.used, self.limit, self.threshold = event.used, event.limit, event.threshold
        elif isinstance(event, p.Spend):
            self.spend = event
            self.budget_usd = event.budget_usd
        else:
            return False
        return True

    @property
    def llm_usd(self) -> float:
        return self.spend.llm_usd if self.spend is not None else 0.0

    @property
    def jobs_usd(self) -> float:
        return self.spend.jobs_usd if self.spend is not None else 0.0

    @property
    def unpriced_calls(self) -> int:
        return self.spend.unpriced_calls if self.spend is not None else 0

    @property
    def estimated_calls(self) -> int:
        return self.spend.estimated_calls if self.spend is not None else 0

    def spend_now(self) -> p.Spend:
        """The figures as a ``spend`` event, the budget included (before any spend: zero)."""
        if self.spend is None:
            return p.Spend(llm_usd=0.0, jobs_usd=0.0, budget_usd=self.budget_usd)
        return self.spend.model_copy(update={"budget_usd": self.budget_usd})
