"""The turn's money checks: counting each model call, and asking before unpriced spend.

- Every call goes into the spend tracker, priced or not. Said once per session: that a
  call was unpriced while a budget is set (the budget counts priced spend only), and
  that router calls are estimated (the router did not name the provider).
- In ``yolo`` with a budget, a model whose calls cannot be priced makes the budget
  uncheckable: before the next model call the turn stops on a synthetic approval
  (tool ``model``, never rememberable). Yes goes on for this model; no ends the turn.
  The question is not a tool call of the model, so it never becomes a tool message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ml_intern_tui.core.approval import Verdict
from ml_intern_tui.core.protocol import Notice
from ml_intern_tui.core.session import PendingCall, Session
from ml_intern_tui.core.tool import ApprovalRequest

if TYPE_CHECKING:
    from ml_intern_tui.core.llm import LLMResponse

UNPRICED_TOOL = "model"
"""Tool name of the synthetic approval "go on with a model whose calls have no price"."""

Decisions = dict[str, tuple[bool, str | None, bool]]


class SpendGuard:
    """Money bookkeeping and the unpriced-model question for one session's turns."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.warned: set[str] = set()
        """Notices already given in this session (``unpriced``, ``estimate``)."""
        self.declined = False
        """A person said no to the unpriced-model question: the turn ends."""

    def count_call(self, response: LLMResponse) -> None:
        """Add a model call to the spend and say once what its price cannot tell."""
        self.s.spend.add_call(response.cost, response.cost_usd)
        cost = response.cost
        if cost is None:
            return
        budget = self.s.policy.budget_usd
        if not cost.priced and budget is not None and "unpriced" not in self.warned:
            self.warned.add("unpriced")
            text = (
                f"This {self.s.model} call is unpriced ({cost.reason}): the ${budget:,.2f} "
                "budget counts priced spend only."
            )
            self.s.publish(Notice(level="warning", text=text))
        if cost.estimate and cost.prices is not None and "estimate" not in self.warned:
            self.warned.add("estimate")
            prices = cost.prices
            text = (
                f"The router did not say which provider served {self.s.model}: its calls are "
                f"estimated at the cheapest live provider ({prices.provider}, "
                f"${prices.input:g}/${prices.output:g} per M tokens)."
            )
            self.s.publish(Notice(text=text))

    async def question(self) -> tuple[PendingCall, Verdict] | None:
        """The unpriced-model question to ask before the next model call, if any."""
        llm, policy = self.s.llm, self.s.policy
        if not policy.must_ask_unpriced(model_unpriced=True):
            return None  # not yolo with a budget, or already agreed
        await llm.pricer.settle(llm.route)  # a catalog still loading decides first
        if not policy.must_ask_unpriced(llm.pricer.status(llm.route) == "unpriced"):
            return None
        budget = policy.budget_usd or 0.0
        reason = (
            f"{self.s.model} has no known price, so yolo cannot check the ${budget:,.2f} budget"
        )
        request = ApprovalRequest(
            kind="manual",
            title=f"Go on with {self.s.model}, whose calls have no price",
            details=(
                f"{reason}.\nApprove to keep going: the budget then counts priced spend only "
                "(jobs, priced models). Reject to stop here; /model switches to a priced model."
            ),
            operation="unpriced model calls",
            reason=reason,
        )
        call_id = f"budget-unpriced-{self.s.spend.llm_calls}"
        return PendingCall(call_id, UNPRICED_TOOL, None, request), Verdict("ask", reason)

    def answer(self, pending: list[PendingCall], decisions: Decisions) -> list[PendingCall]:
        """Take the answer to the question; the real pending calls are returned."""
        for call in pending:
            if call.tool != UNPRICED_TOOL:
                continue
            if decisions.get(call.call_id, (False, None, False))[0]:
                self.s.policy.unpriced_accepted = True
                self.s.publish(
                    Notice(text=f"Going on with {self.s.model}: its calls stay unpriced.")
                )
            else:
                self.declined = True
        return without_question(pending)

    def take_declined(self) -> bool:
        """True once after a no: the turn ends (with a notice said here)."""
        if not self.declined:
            return False
        self.declined = False
        text = "Stopped: the budget cannot be checked on an unpriced model."
        self.s.publish(Notice(level="warning", text=text))
        return True


def without_question(pending: list[PendingCall]) -> list[PendingCall]:
    """``pending`` without the synthetic question (it has no tool message to close)."""
    return [call for call in pending if call.tool != UNPRICED_TOOL]
