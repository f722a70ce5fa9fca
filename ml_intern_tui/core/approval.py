"""The approval policy: which tool calls run by themselves and which wait for a person.

Modes:

- ``ask``: every call that carries an ``ApprovalRequest`` waits for a person.
- ``auto``: ``local`` calls (contained: sandboxed commands, writes outside the project)
  run; calls that spend money, cannot be undone or must leave the sandbox ask.
- ``yolo``: everything runs except ``manual`` and ``protected`` calls; ``spend`` calls run
  only while the USD budget (when one is set) covers their worst-case estimate. Model
  calls without a known price make the budget uncheckable: until a person says to go on
  (``unpriced_accepted``), spend calls ask and the turn asks before more model calls.

``manual`` and ``protected`` calls always ask, in every mode and whatever was remembered.
A remembered rule (tool + operation + argument glob) lets any other matching call run in
any mode.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.protocol import ApprovalItem, ApprovalMode
from ml_intern_tui.core.tool import (
    ALWAYS_ASK_KINDS,
    ApprovalRequest,
    RememberRule,
    rules_cover,
)

_GLOB_SPECIAL = str.maketrans({"*": "[*]", "?": "[?]", "[": "[[]"})


@dataclass
class Verdict:
    """The policy's answer for one call."""

    action: Literal["run", "ask"]
    reason: str | None = None
    """One line: why the mode could not approve the call by itself (the drawer shows it)."""
    reservation: str | None = None
    """Key of the budget reservation made for this call; release it when the call ends."""


def rule_for(tool: str, request: ApprovalRequest) -> RememberRule:
    """The rule a "remember" answer to ``request`` would store."""
    if request.scope_pattern:
        pattern = request.scope_pattern
    elif request.scope_value:
        pattern = request.scope_value.translate(_GLOB_SPECIAL)
    else:
        pattern = "*"
    return RememberRule(tool=tool, operation=request.operation or "*", pattern=pattern)


def to_item(
    call_id: str, tool: str, request: ApprovalRequest, verdict: Verdict | None = None
) -> ApprovalItem:
    """The ``approval_required`` item for one call.

    ``remember_scope`` is empty for ``manual`` and ``protected`` calls: they can never be
    remembered.
    """
    return ApprovalItem(
        call_id=call_id,
        tool=tool,
        title=request.title,
        details=request.details,
        risk=request.risk,
        cost_estimate_usd=request.cost_estimate_usd,
        remember_scope=""
        if request.kind in ALWAYS_ASK_KINDS
        else rule_for(tool, request).describe(),
        blocked_reason=verdict.reason if verdict is not None else None,
        kind=request.kind,
    )


def _usd(value: float) -> str:
    return f"${value:,.2f}"


class ApprovalPolicy:
    """Decides, per call, whether it runs now or waits for a person."""

    def __init__(
        self,
        mode: ApprovalMode,
        *,
        budget_usd: float | None,
        spend: SpendTracker,
        rules: list[RememberRule] | None = None,
        on_remember: Callable[[RememberRule], None] | None = None,
        on_forget: Callable[[RememberRule], None] | None = None,
        sources: dict[str, str] | None = None,
        fixed: dict[str, str] | None = None,
        remembered_source: str = "your answer in this session",
    ) -> None:
        self.mode: ApprovalMode = mode
        self.budget_usd = budget_usd
        self.spend = spend
        self._rules: list[RememberRule] = list(rules or [])
        self._on_remember = on_remember
        self._on_forget = on_forget
        self.sources: dict[str, str] = dict(sources or {})
        """``rule.describe()`` → where the rule comes from (``/permissions`` shows it)."""
        self.fixed: dict[str, str] = dict(fixed or {})
        """``rule.describe()`` → how to remove a rule ``forget`` may not remove (a project
        file's or an environment variable's); ``/permissions`` says it."""
        self._remembered_source = remembered_source
        self._reservation_ids = itertools.count(1)
        self.unpriced_accepted = False
        """A person said to go on although model spend cannot be priced (this model)."""

    # ------------------------------------------------------------------ settings

    @property
    def rules(self) -> list[RememberRule]:
        """The remembered rules (a copy)."""
        return list(self._rules)

    def set_mode(self, mode: ApprovalMode) -> None:
        self.mode = mode

    def set_budget(self, budget_usd: float | None) -> None:
        self.budget_usd = budget_usd

    def over_budget(self) -> bool:
        """True when a budget is set and the money spent has reached it."""
        return self.budget_usd is not None and self.spend.total() >= self.budget_usd

    def must_ask_unpriced(self, model_unpriced: bool) -> bool:
        """yolo with a budget cannot check it on unpriced model calls: ask a person first."""
        return (
            self.mode == "yolo"
            and self.budget_usd is not None
            and not self.unpriced_accepted
            and (model_unpriced or self.spend.unpriced)
        )

    # ------------------------------------------------------------------ decisions

    def decide(
        self, tool: str, request: ApprovalRequest | None, *, call_id: str | None = None
    ) -> Verdict:
        """Run or ask for one call. A yolo spend approval reserves its estimate.

        ``call_id`` names the reservation (a generated key otherwise); the verdict
        carries it so the caller can ``spend.release`` it when the call ends.
        """
        if request is None:
            return Verdict("run")
        if request.kind == "manual":
            return Verdict(
                "ask",
                request.reason
                or f"{tool} {request.operation} always needs a person to approve it, in every mode",
            )
        if request.kind == "protected":
            what = request.reason or f"{tool} {request.operation} touches a protected path"
            return Verdict("ask", f"{what}; protected paths always need a person, in every mode")
        if rules_cover(self._rules, tool, request):
            return Verdict("run")
        if self.mode == "ask":
            return Verdict("ask")
        if self.mode == "auto":
            if request.kind == "local":
                return Verdict("run")
            what = {
                "spend": "this call spends money",
                "irreversible": "this call cannot be undone",
                "unsandboxed": "this command must run outside the sandbox",
            }[request.kind]
            if request.reason:
                what += f" ({request.reason})"
            return Verdict("ask", f"auto mode approves contained local work only; {what}")
        # yolo
        if request.kind != "spend":
            return Verdict("run")
        return self._decide_spend(tool, request, call_id)

    def _decide_spend(self, tool: str, request: ApprovalRequest, call_id: str | None) -> Verdict:
        budget = self.budget_usd
        if budget is None:
            return Verdict("run")
        if self.spend.unpriced and not self.unpriced_accepted:
            calls = self.spend.unpriced_calls
            noun = "call has" if calls == 1 else "calls have"
            return Verdict(
                "ask",
                f"{calls} model {noun} no known price, so yolo cannot check the "
                f"{_usd(budget)} budget",
            )
        estimate = request.cost_estimate_usd
        if estimate is None:
            return Verdict(
                "ask",
                f"no price known for {tool} {request.operation} ({request.title}); "
                f"yolo's {_usd(budget)} budget needs one to approve it",
            )
        spent = self.spend.total()
        reserved = self.spend.reserved()
        remaining = budget - spent - reserved
        if estimate > remaining + 1e-9:
            return Verdict(
                "ask",
                f"estimated {_usd(estimate)} exceeds the {_usd(max(remaining, 0.0))} left of the "
                f"{_usd(budget)} budget (spent {_usd(spent)}, reserved {_usd(reserved)})",
            )
        key = call_id or f"{tool}-{next(self._reservation_ids)}"
        self.spend.reserve(key, estimate)
        return Verdict("run", reservation=key)

    # ------------------------------------------------------------------ remembering

    def remember(self, tool: str, request: ApprovalRequest) -> RememberRule:
        """Store the rule for ``request`` (once) and report it to ``on_remember``.

        ``manual`` and ``protected`` calls always need a person: their rule is returned but
        never stored, so a "remember" answer to one changes nothing.
        """
        rule = rule_for(tool, request)
        if request.kind in ALWAYS_ASK_KINDS or rule in self._rules:
            return rule
        self._rules.append(rule)
        self.sources.setdefault(rule.describe(), self._remembered_source)
        if self._on_remember is not None:
            self._on_remember(rule)
        return rule

    def forget(self, described: str) -> bool:
        """Remove the rule whose ``describe()`` is ``described``; False when none is, or
        when it lives where only the user removes it (``fixed``)."""
        wanted = described.strip()
        if wanted in self.fixed:
            return False
        for rule in self._rules:
            if rule.describe() == wanted:
                self._rules.remove(rule)
                self.sources.pop(wanted, None)
                if self._on_forget is not None:
                    self._on_forget(rule)
                return True
        return False
