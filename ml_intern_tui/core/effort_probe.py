"""The effort probe: the highest level of a preference's cascade a model accepts.

Two questions per level, cheapest first:

1. Can litellm send it to this model at all? With ``drop_params`` on, litellm silently
   drops a level a model's map entry refuses (``xhigh`` for gpt-5, everything for
   gpt-4o or Claude 3.5): the call would succeed and think at the model's default. A
   dry run of litellm's own parameter mapping (``unsendable``) tells, without a call.
2. Does the provider accept it? One tiny call (a one-word answer) with that level; a
   refusal worded as in ``reasoning_errors.py`` moves down the cascade (straight past
   the values the provider says it does not take), an answer settles it. A transient
   failure (timeout, 5xx, rate limit) or any other error leaves it unsettled: the
   preference is then sent as is and a refusal at run time heals instead.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

from ml_intern_tui.core.effort import LEVELS, Level, LevelBook, choose, first_unknown
from ml_intern_tui.core.llm import LLMClient, LLMError, LLMResponse, RetryPolicy, ensure_litellm
from ml_intern_tui.core.models import ModelRoute
from ml_intern_tui.core.reasoning_errors import ReasoningProblem, classify_error

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 15.0
PROBE_ANSWER_TOKENS = 64
PROBE_MESSAGES = [{"role": "user", "content": "Reply with the single word: ok"}]
_EFFORT_KEYS = ("reasoning_effort", "thinking", "output_config", "reasoning")


@dataclass
class ProbeOutcome:
    """What a probe found for one model."""

    level: Level | None
    """The level to send (``None``: the model takes none, or the preference is off)."""
    settled: bool
    """False when a call failed for another reason (the preference is then sent as is)."""
    note: str = ""
    """Why it is not settled (one line)."""
    responses: list[LLMResponse] = field(default_factory=list)
    """The probe calls that got an answer (they cost money)."""
    unsendable: frozenset[str] = frozenset()


def dry_run_params(litellm: Any, route: ModelRoute, level: str | None) -> dict[str, Any]:
    """What litellm would send for ``level`` (its own parameter mapping, no call)."""
    from litellm.utils import get_optional_params

    model, provider, _, _ = litellm.get_llm_provider(route.litellm_model, api_base=route.api_base)
    # The mapping builds pydantic schemas that warn on stderr (over the UI): keep quiet.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = get_optional_params(
            model=model,
            custom_llm_provider=provider,
            reasoning_effort=level,
            messages=[{"role": "user", "content": "x"}],
        )
    return dict(params)


def unsendable(litellm: Any, route: ModelRoute) -> frozenset[str]:
    """The levels litellm would drop for this route (a dry run, no call)."""
    if not route.send_effort:
        return frozenset(LEVELS)
    try:
        base = dry_run_params(litellm, route, None)
    except Exception:  # litellm cannot map this model here: let the provider judge
        log.debug("effort dry run failed for %s", route.model_id, exc_info=True)
        return frozenset()
    dropped: set[str] = set()
    for level in LEVELS:
        try:
            params = dry_run_params(litellm, route, level)
        except Exception:  # refused by litellm's own gate: a call would be refused too
            dropped.add(level)
            continue
        if not any(params.get(key) != base.get(key) for key in _EFFORT_KEYS):
            dropped.add(level)
    return frozenset(dropped)


def thinking_budget(litellm: Any, route: ModelRoute, level: str) -> int | None:
    """The thinking budget litellm asks for at ``level`` (Claude before 4.6), if any."""
    try:
        thinking = dry_run_params(litellm, route, level).get("thinking")
    except Exception:
        return None
    budget = thinking.get("budget_tokens") if isinstance(thinking, dict) else None
    return budget if isinstance(budget, int) else None


def learn_refusal(book: LevelBook, level: str, problem: ReasoningProblem) -> None:
    """Record what a refusal of ``level`` says about the model."""
    if problem.kind == "effort_param":
        book.refuse_all()
        return
    book.refuse(level)
    if problem.allowed is not None:  # the provider listed what it takes
        for other in LEVELS:
            if other not in problem.allowed:
                book.refuse(other)


def _trial(client: LLMClient, level: str, budget: int | None, timeout_s: float) -> LLMClient:
    trial = copy.copy(client)
    trial.reasoning_effort = level
    trial.retry = RetryPolicy(max_retries=0)
    trial.timeout_s = timeout_s
    trial.prompt_caching = False
    # Anthropic wants max_tokens above the thinking budget; the user's own cap is kept so
    # a level whose budget does not fit it is refused here rather than mid-session.
    trial.max_output_tokens = client.max_output_tokens or (
        budget + PROBE_ANSWER_TOKENS if budget else PROBE_ANSWER_TOKENS
    )
    return trial


async def probe(
    client: LLMClient,
    preference: Level | None,
    book: LevelBook,
    *,
    timeout_s: float = PROBE_TIMEOUT_S,
) -> ProbeOutcome:
    """Find the level to send for ``preference``; ``book`` learns what the calls said."""
    litellm = await ensure_litellm()
    skip = await asyncio.to_thread(unsendable, litellm, client.route)
    responses: list[LLMResponse] = []
    while (level := first_unknown(preference, book, skip)) is not None:
        budget = thinking_budget(litellm, client.route, level)
        trial = _trial(client, level, budget, timeout_s)
        try:
            response = await asyncio.wait_for(
                trial.complete(PROBE_MESSAGES, None, stream=False), timeout_s + 5
            )
        except (LLMError, TimeoutError) as exc:
            problem = classify_error(exc)
            if problem is None or problem.kind not in ("effort_level", "effort_param"):
                why = "no answer in time" if isinstance(exc, TimeoutError) else str(exc)
                return ProbeOutcome(preference, False, why, responses, skip)
            learn_refusal(book, level, problem)
            continue
        responses.append(response)
        book.accept(level)
    return ProbeOutcome(choose(preference, book, skip), True, "", responses, skip)
