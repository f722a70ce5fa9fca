"""A model call refused over a reasoning setting is healed once, and the turn goes on.

The turn asks ``before_call`` for the level to send (the ``effort`` service decides, see
``effort_control.py``) and hands every failed call to ``heal``. What heals what, each at
most once per model call (a second refusal of the same kind ends the turn as an error):

- the provider refused the effort level (or any effort): the level is lowered — to the
  next level it takes, found by a quick probe — or dropped, for this model from now on;
- it refused a stored thinking signature (or thinking blocks with thinking off): the
  stored thinking blocks are dropped from the history (journaled) and the call retried;
- it wants a thinking block the tool loop's assistant message does not have: this one
  call goes without thinking.

Each heal is said in a warning notice (the chat shows it; headless prints it on stderr).
"""

from __future__ import annotations

from typing import Any

from ml_intern_tui.core import thinking
from ml_intern_tui.core.effort import (
    EFFORT_NOTICE,
    THINKING_NOTICE,
    Level,
    LevelBook,
    choose,
    parse_level,
)
from ml_intern_tui.core.effort_probe import learn_refusal
from ml_intern_tui.core.protocol import Notice
from ml_intern_tui.core.reasoning_errors import ReasoningProblem, classify_error

_UNSET = object()


class ReasoningHeal:
    """The heals of one turn runner; ``after_call`` starts a new call's allowance."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self._restore: Any = _UNSET

    async def before_call(self, session: Any, control: Any) -> None:
        """Set the effort the session's next call sends."""
        if control is not None:
            session.llm.reasoning_effort = await control.level_for_call(session)
        if "thinking_required" in self.used and session.llm.reasoning_effort is not None:
            self._restore = session.llm.reasoning_effort
            session.llm.reasoning_effort = None  # this call only: see after_call

    def after_call(self, session: Any) -> None:
        """A call succeeded: the next one may heal again, with its usual effort."""
        self.used.clear()
        if self._restore is not _UNSET:
            session.llm.reasoning_effort = self._restore
            self._restore = _UNSET

    async def heal(self, session: Any, error: BaseException, control: Any) -> bool:
        """Fix what ``error`` says is wrong with the reasoning settings; False when it is
        not such an error, or this kind was already healed for this call."""
        problem = classify_error(error)
        if problem is None or problem.kind in self.used:
            return False
        llm = session.llm
        _, sent = thinking.wire(llm.route, session.context.for_llm(), llm.effort_to_send())
        kind = problem.kind
        if kind in ("effort_level", "effort_param", "thinking_required") and not sent:
            return False  # nothing of ours was sent: not a problem we made
        if kind in ("thinking_signature", "thinking_forbidden"):
            if not thinking.has_thinking(session.context.messages):
                return False
            count = session.context.drop_thinking()
            text = (
                f"{THINKING_NOTICE} the provider refused the stored ones ({error}); dropped "
                f"them from {count} message{'s' if count != 1 else ''}, retrying once."
            )
        elif kind == "thinking_required":
            text = (
                f"{THINKING_NOTICE} the provider wants the tool loop's block, which this "
                "history does not have; this call goes without thinking."
            )
        else:
            text = await self._lower(session, problem, str(sent), control) + "; retrying."
        self.used.add(kind)
        session.publish(Notice(level="warning", text=text))
        return True

    async def _lower(self, session: Any, problem: ReasoningProblem, sent: str, control: Any) -> str:
        if control is not None:
            text: str = await control.heal(session, problem, sent)
            return text
        # No effort service (a bare loop): lower within this client only.
        book = LevelBook()
        learn_refusal(book, sent, problem)
        level: Level | None = choose(parse_level(sent), book)
        session.llm.reasoning_effort = level
        then = f"using '{level}'" if level else "sending no effort"
        return f"{EFFORT_NOTICE} {session.model} refused '{sent}'; {then}"
