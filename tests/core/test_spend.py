"""The spend tracker with unpriced calls, and the yolo budget when spend cannot be priced."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_intern_tui.core.approval import ApprovalPolicy
from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.pricing import CallUsage, TokenPrices, cost_of
from ml_intern_tui.core.protocol import Spend, event_from_json, event_to_json
from ml_intern_tui.core.tool import ApprovalRequest

PRICES = TokenPrices(1.0, 2.0, 0.1, 1.25, provider="novita", basis="served")
JOB = ApprovalRequest(kind="spend", title="HF job", cost_estimate_usd=0.5, operation="run")


def test_calls_priced_unpriced_and_estimated_are_counted_apart() -> None:
    spend = SpendTracker()
    spend.add_call(cost_of(CallUsage(1_000_000, 0, cached=500_000), PRICES))
    spend.add_call(cost_of(CallUsage(2_000, 100), None, "no price"))
    estimate = TokenPrices(1.0, 2.0, 1.0, 1.0, basis="cheapest")
    spend.add_call(cost_of(CallUsage(1_000_000, 0), estimate))
    assert spend.llm_usd == pytest.approx(0.55 + 1.0)
    assert (spend.llm_calls, spend.unpriced_calls, spend.estimated_calls) == (3, 1, 1)
    assert spend.prompt_tokens == 2_002_000 and spend.cached_tokens == 500_000
    assert spend.cache_saved_usd == pytest.approx(0.45) and spend.unpriced
    event = spend.event(budget_usd=5.0)
    assert event.unpriced_calls == 1 and event.budget_usd == 5.0

    resumed = SpendTracker()
    resumed.restore(event)
    assert resumed.event(5.0).model_dump(exclude={"ts"}) == event.model_dump(exclude={"ts"})


def test_an_old_journal_spend_event_still_reads() -> None:
    old = '{"session_id":"s","seq":3,"ts":1.0,"type":"spend","llm_usd":0.5,"jobs_usd":0.0,"budget_usd":null}'
    event = event_from_json(old)
    assert isinstance(event, Spend) and event.unpriced_calls == 0 and event.cached_tokens == 0
    assert event_from_json(event_to_json(event)) == event


def test_yolo_asks_for_jobs_and_model_calls_once_spend_is_unpriced() -> None:
    spend = SpendTracker()
    policy = ApprovalPolicy("yolo", budget_usd=5.0, spend=spend)
    assert policy.decide("hf_jobs", JOB, call_id="a").action == "run"
    spend.release("a")
    spend.add_call(cost_of(CallUsage(10, 1), None))
    verdict = policy.decide("hf_jobs", JOB, call_id="b")
    assert verdict.action == "ask" and "cannot check the $5.00 budget" in (verdict.reason or "")
    assert policy.must_ask_unpriced(model_unpriced=False)
    policy.unpriced_accepted = True  # a person said to go on
    assert policy.decide("hf_jobs", JOB, call_id="c").action == "run"
    assert not policy.must_ask_unpriced(model_unpriced=True)


def test_only_yolo_with_a_budget_stops_for_unpriced_models() -> None:
    spend = SpendTracker()
    assert not ApprovalPolicy("yolo", budget_usd=None, spend=spend).must_ask_unpriced(True)
    assert not ApprovalPolicy("auto", budget_usd=5.0, spend=spend).must_ask_unpriced(True)
    assert ApprovalPolicy("yolo", budget_usd=5.0, spend=spend).must_ask_unpriced(True)
    assert not ApprovalPolicy("yolo", budget_usd=5.0, spend=spend).must_ask_unpriced(False)


def test_a_saved_session_with_unpriced_calls_never_lists_as_free(tmp_path: Path) -> None:
    from ml_intern_tui.core.journal import Journal
    from ml_intern_tui.core.saved_sessions import session_info

    journal = Journal.create(tmp_path, "s1", {"model": "a/b"})
    journal.append({"kind": "message", "message": {"role": "user", "content": "hi"}})
    journal.record_event(Spend(llm_usd=0.0, jobs_usd=0.0, unpriced_calls=3))
    journal.close()
    info = session_info(journal.path)
    assert info.unpriced_calls == 3 and not info.cost_usd
