"""The approval drawer: what the agent wants to do, answered with one key.

Items of one ``approval_required`` event are answered in order; when every item of that
event has an answer, one ``approval`` op carries all the decisions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import var
from textual.widgets import Input, Static

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.formatting import format_usd, looks_like_diff
from ml_intern_tui.tui.messages import AgentEvent
from ml_intern_tui.tui.widgets.diff_view import render_diff

Mode = Literal["choose", "feedback", "remember"]
_RISK_STYLE = {"low": "bold $success", "medium": "bold $warning", "high": "bold $error"}
CHOOSE_KEYS = (
    "[b]y[/] approve · [b]n[/] reject · [b]a[/] approve all · "
    "[b]f[/] reject with feedback · [b]r[/] remember… · [b]esc[/] back to prompt"
)


@dataclass
class _Batch:
    items: list[p.ApprovalItem]
    decisions: list[p.ApprovalDecision] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.decisions) == len(self.items)


class ApprovalDrawer(Vertical, can_focus=True):
    """Opens on ``approval_required``, takes focus, rings the bell."""

    EVENT_TYPES = frozenset(
        {"approval_required", "tool_result", "interrupted", "turn_complete", "ready"}
    )

    # The drawer's own last line names these keys (``CHOOSE_KEYS``): kept out of the footer
    # so its hints still fit in 80 columns while an approval waits.
    BINDINGS = [
        Binding("y", "approve", "Approve", id="approval.approve", show=False),
        Binding("n", "reject", "Reject", id="approval.reject", show=False),
        Binding("a", "approve_all", "Approve all", id="approval.approve_all", show=False),
        Binding("f", "feedback", "Reject + feedback", id="approval.feedback", show=False),
        Binding("r", "remember", "Remember…", id="approval.remember", show=False),
        Binding("enter", "confirm", "Confirm", show=False, id="approval.confirm"),
        Binding("escape", "back", "Back", show=False, id="approval.back"),
        Binding("up,k", "scroll(-1)", show=False),
        Binding("down,j", "scroll(1)", show=False),
        Binding("pageup", "scroll(-8)", show=False),
        Binding("pagedown", "scroll(8)", show=False),
    ]

    DEFAULT_CSS = """
    ApprovalDrawer {
        display: none;
        height: auto;
        max-height: 60%;
        border: round $warning;
        border-title-color: $warning;
        border-title-style: bold;
        padding: 0 1;
        background: $surface;
        &.-open { display: block; }
        &:focus-within { border: heavy $warning; }
        & > #approval-head { height: auto; }
        & > #approval-body { height: auto; max-height: 12; background: $boost; padding: 0 1; }
        & > #approval-meta { height: auto; color: $text-muted; }
        & > #approval-keys { height: auto; color: $text; }
        & > Input { display: none; }
        &.-feedback > Input { display: block; }
    }
    """

    mode: var[Mode] = var["Mode"]("choose", bindings=True)

    class Decided(Message):
        """Every item of one request is answered: submit this op."""

        def __init__(self, op: p.Approval) -> None:
            super().__init__()
            self.op = op

    class Closed(Message):
        """Nothing left to answer; focus goes back to the prompt."""

    class Leave(Message):
        """The user left the drawer open and went back to the prompt."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.batches: list[_Batch] = []

    def compose(self) -> ComposeResult:
        yield Static(id="approval-head")
        with VerticalScroll(id="approval-body", can_focus=False):
            yield Static(id="approval-details", markup=False)
        yield Static(id="approval-meta")
        yield Static(id="approval-keys")
        yield Input(placeholder="Why not? (Enter sends, Esc goes back)", id="approval-feedback")

    # ------------------------------------------------------------------ state

    @property
    def is_open(self) -> bool:
        return bool(self.batches)

    @property
    def pending(self) -> list[p.ApprovalItem]:
        return [item for b in self.batches for item in b.items[len(b.decisions) :]]

    @property
    def current(self) -> p.ApprovalItem | None:
        for batch in self.batches:
            if not batch.complete:
                return batch.items[len(batch.decisions)]
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"approve", "reject"} and self.mode == "remember":
            return True
        if action in {"approve", "reject", "approve_all", "feedback", "remember"}:
            return self.current is not None and self.mode == "choose"
        return True

    # ----------------------------------------------------------------- events

    def on_agent_event(self, message: AgentEvent) -> None:
        event = message.event
        if isinstance(event, p.ApprovalRequired) and event.items:
            was_open = self.is_open
            self.batches.append(_Batch(list(event.items)))
            self._open(first=not was_open)
        elif isinstance(event, p.ToolResultEvent):
            self._drop_batches(lambda b: any(i.call_id == event.call_id for i in b.items))
        elif (
            isinstance(event, p.Interrupted)
            or message.new_session
            or (isinstance(event, p.TurnComplete) and event.reason != "approval_pending")
        ):
            self._drop_batches(lambda b: True)

    def _drop_batches(self, doomed: Callable[[_Batch], bool]) -> None:
        before = len(self.batches)
        self.batches = [b for b in self.batches if b.complete or not doomed(b)]
        if len(self.batches) != before:
            self._after_change()

    def _open(self, *, first: bool) -> None:
        self.add_class("-open")
        self.mode = "choose"
        self._render_current()
        if first:
            self.app.bell()
            self.focus()

    def _after_change(self) -> None:
        self.batches = [b for b in self.batches if not b.complete]
        if self.batches:
            self.mode = "choose"
            self._render_current()
        else:
            self.remove_class("-open", "-feedback")
            self.mode = "choose"
            self.post_message(self.Closed())

    # ---------------------------------------------------------------- render

    def _render_current(self) -> None:
        item = self.current
        if item is None:
            return
        pending = self.pending
        total = sum(len(b.items) for b in self.batches)
        index = total - len(pending) + 1
        self.border_title = (
            f"Approval needed · {index} of {total}" if total > 1 else "Approval needed"
        )
        head = Content.assemble((item.tool, "bold $accent"), "  ", (item.title, "bold"))
        self.query_one("#approval-head", Static).update(head)
        details = self.query_one("#approval-details", Static)
        details.update(
            render_diff(item.details) if looks_like_diff(item.details) else Content(item.details)
        )
        meta: list[Content | str | tuple[str, str]] = [
            "risk ",
            (item.risk, _RISK_STYLE.get(item.risk, "bold")),
        ]
        if item.cost_estimate_usd is not None:
            meta += ["  ·  estimated cost ", (format_usd(item.cost_estimate_usd), "bold")]
        if item.blocked_reason:
            meta += ["  ·  needs you: ", (item.blocked_reason, "$text-warning")]
        self.query_one("#approval-meta", Static).update(Content.assemble(*meta))
        self._render_keys()

    def _render_keys(self) -> None:
        keys = self.query_one("#approval-keys", Static)
        item = self.current
        if self.mode == "remember" and item is not None:
            keys.update(
                Content.from_markup(
                    "Remember and approve without asking next time:  [b $accent]$scope[/]\n"
                    "[b]y[/]/[b]enter[/] save and approve · [b]n[/]/[b]esc[/] cancel",
                    scope=item.remember_scope,
                )
            )
        elif self.mode == "feedback":
            keys.update(
                Content.from_markup("Reject with feedback: type it below, [b]enter[/] sends.")
            )
        else:
            keys.update(Content.from_markup(CHOOSE_KEYS))

    def watch_mode(self, mode: Mode) -> None:
        self.set_class(mode == "feedback", "-feedback")
        if self.is_mounted and self.current is not None:
            self._render_keys()

    # --------------------------------------------------------------- answers

    def _answer(self, decision: p.ApprovalDecision) -> None:
        for batch in self.batches:
            if not batch.complete:
                batch.decisions.append(decision)
                if batch.complete:
                    self.post_message(self.Decided(p.Approval(decisions=list(batch.decisions))))
                break
        self._after_change()

    def action_approve(self) -> None:
        item = self.current
        if item is not None:
            self._answer(
                p.ApprovalDecision(
                    call_id=item.call_id, approved=True, remember=self.mode == "remember"
                )
            )

    def action_reject(self) -> None:
        if self.mode == "remember":
            self.mode = "choose"
            return
        item = self.current
        if item is not None:
            self._answer(p.ApprovalDecision(call_id=item.call_id, approved=False))

    def action_approve_all(self) -> None:
        for batch in list(self.batches):
            while not batch.complete:
                item = batch.items[len(batch.decisions)]
                self._answer(p.ApprovalDecision(call_id=item.call_id, approved=True))

    def action_feedback(self) -> None:
        self.mode = "feedback"
        feedback = self.query_one(Input)
        feedback.value = ""
        feedback.focus()

    def action_remember(self) -> None:
        self.mode = "remember"

    def action_confirm(self) -> None:
        if self.mode == "remember":
            self.action_approve()

    def action_back(self) -> None:
        if self.mode != "choose":
            self.mode = "choose"
            self.focus()
        else:
            self.post_message(self.Leave())

    def action_scroll(self, lines: int) -> None:
        body = self.query_one("#approval-body", VerticalScroll)
        body.scroll_relative(y=lines, animate=False)

    @on(Input.Submitted, "#approval-feedback")
    def _feedback_sent(self, event: Input.Submitted) -> None:
        event.stop()
        item = self.current
        text = event.value.strip()
        if item is None:
            return
        self.mode = "choose"
        self.focus()
        self._answer(
            p.ApprovalDecision(call_id=item.call_id, approved=False, feedback=text or None)
        )
