"""The approval matrix (mode × kind), remembered rules, the yolo budget and drawer items."""

from __future__ import annotations

import pytest

from ml_intern_tui.core.approval import ApprovalPolicy, Verdict, rule_for, to_item
from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.protocol import ApprovalMode
from ml_intern_tui.core.tool import ApprovalKind, ApprovalRequest, RememberRule


def req(
    kind: ApprovalKind = "local",
    *,
    operation: str = "run",
    value: str = "python train.py",
    pattern: str = "python train.py*",
    cost: float | None = None,
) -> ApprovalRequest:
    return ApprovalRequest(
        kind=kind,
        title=f"{operation}: {value}",
        details="details",
        operation=operation,
        scope_value=value,
        scope_pattern=pattern,
        cost_estimate_usd=cost,
    )


def policy(
    mode: ApprovalMode = "ask", budget: float | None = None, **kwargs: object
) -> ApprovalPolicy:
    return ApprovalPolicy(mode, budget_usd=budget, spend=SpendTracker(), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mode", "kind", "action"),
    [
        ("ask", "local", "ask"),
        ("ask", "spend", "ask"),
        ("ask", "irreversible", "ask"),
        ("ask", "manual", "ask"),
        ("auto", "local", "run"),
        ("auto", "spend", "ask"),
        ("auto", "irreversible", "ask"),
        ("auto", "manual", "ask"),
        ("yolo", "local", "run"),
        ("yolo", "spend", "run"),  # no budget set
        ("yolo", "irreversible", "run"),
        ("yolo", "manual", "ask"),
        ("ask", "unsandboxed", "ask"),
        ("auto", "unsandboxed", "ask"),
        ("yolo", "unsandboxed", "run"),
        ("ask", "protected", "ask"),
        ("auto", "protected", "ask"),
        ("yolo", "protected", "ask"),
    ],
)
def test_matrix(mode: ApprovalMode, kind: ApprovalKind, action: str) -> None:
    verdict = policy(mode).decide("hf_jobs", req(kind, cost=1.0))
    assert verdict.action == action


def test_no_request_always_runs() -> None:
    for mode in ("ask", "auto", "yolo"):
        assert policy(mode).decide("read", None) == Verdict("run")


def test_manual_reason_says_a_person_is_always_needed() -> None:
    verdict = policy("yolo").decide("hf_jobs", req("manual", operation="scheduled run"))
    assert verdict.action == "ask"
    assert verdict.reason is not None and "always needs a person" in verdict.reason
    assert "\n" not in verdict.reason


def test_auto_mode_explains_why_it_asks() -> None:
    verdict = policy("auto").decide("hf_repo_files", req("irreversible", operation="delete"))
    assert verdict.reason is not None and "cannot be undone" in verdict.reason
    assert policy("ask").decide("bash", req()).reason is None


def test_remembered_rule_matches_glob_in_any_mode() -> None:
    p = policy(
        "ask", rules=[RememberRule(tool="bash", operation="run", pattern="python train.py*")]
    )
    assert p.decide("bash", req(value="python train.py --epochs 3")).action == "run"
    assert p.decide("bash", req(value="rm -rf /")).action == "ask"
    assert p.decide("write", req(value="python train.py")).action == "ask"
    assert p.decide("bash", req(operation="background", value="python train.py")).action == "ask"


def test_remembered_rule_never_approves_manual() -> None:
    p = policy("yolo", rules=[RememberRule(tool="hf_jobs", operation="*", pattern="*")])
    assert p.decide("hf_jobs", req("manual", operation="scheduled run")).action == "ask"
    assert p.decide("hf_jobs", req("spend")).action == "run"


def test_remember_stores_rule_once_and_reports_it() -> None:
    seen: list[RememberRule] = []
    p = policy("ask", on_remember=seen.append)
    request = req(value="python train.py --lr 1e-4")
    rule = p.remember("bash", request)
    assert rule == RememberRule(tool="bash", operation="run", pattern="python train.py*")
    assert p.remember("bash", request) == rule
    assert p.rules == [rule] and seen == [rule]
    assert p.decide("bash", req(value="python train.py")).action == "run"


def test_remember_without_pattern_uses_exact_value() -> None:
    p = policy("ask")
    rule = p.remember("write", req(value="notes[1]*.md", pattern=""))
    assert p.decide("write", req(value="notes[1]*.md", pattern="")).action == "run"
    assert p.decide("write", req(value="notes1-other.md", pattern="")).action == "ask"
    assert rule.describe() == "write run: notes[[]1][*].md"


def test_remember_never_stores_manual() -> None:
    seen: list[RememberRule] = []
    p = policy("yolo", on_remember=seen.append)
    request = req("manual", operation="scheduled run")
    p.remember("hf_jobs", request)
    assert p.rules == [] and seen == []
    assert p.decide("hf_jobs", request).action == "ask"


def test_forget_by_description() -> None:
    forgotten: list[RememberRule] = []
    p = policy("ask", on_forget=forgotten.append)
    rule = p.remember("bash", req())
    assert rule.describe() == "bash run: python train.py*"
    assert not p.forget("bash run: something else")
    assert p.forget(" bash run: python train.py* ")
    assert p.rules == [] and forgotten == [rule]
    assert p.decide("bash", req()).action == "ask"


def test_yolo_budget_reserves_within_a_batch() -> None:
    p = policy("yolo", budget=5.0)
    first = p.decide("hf_jobs", req("spend", cost=3.0), call_id="c1")
    assert first == Verdict("run", reservation="c1")
    assert p.spend.reserved() == pytest.approx(3.0)
    second = p.decide("hf_jobs", req("spend", cost=2.5), call_id="c2")
    assert second.action == "ask"
    assert second.reason is not None
    assert "exceeds" in second.reason and "$2.50" in second.reason and "$2.00" in second.reason
    assert "$5.00" in second.reason
    third = p.decide("hf_jobs", req("spend", cost=2.0), call_id="c3")
    assert third.action == "run"
    p.spend.release("c1")
    assert p.decide("hf_jobs", req("spend", cost=2.5)).action == "run"


def test_yolo_budget_counts_money_already_spent() -> None:
    p = policy("yolo", budget=2.0)
    p.spend.add_llm(1.5)
    verdict = p.decide("hf_jobs", req("spend", cost=1.0))
    assert verdict.action == "ask" and "exceeds" in (verdict.reason or "")
    assert not p.over_budget()
    p.spend.set_job_cost("j1", 0.5)
    assert p.over_budget()


def test_yolo_unknown_price_with_budget_asks() -> None:
    verdict = policy("yolo", budget=5.0).decide("hf_jobs", req("spend", cost=None))
    assert verdict.action == "ask"
    assert verdict.reason is not None and verdict.reason.startswith("no price known for")


def test_yolo_without_budget_runs_unknown_price() -> None:
    p = policy("yolo")
    assert p.decide("hf_jobs", req("spend", cost=None)).action == "run"
    assert p.spend.reserved() == 0.0
    assert not p.over_budget()


def test_generated_reservation_keys_are_distinct() -> None:
    p = policy("yolo", budget=10.0)
    a = p.decide("hf_jobs", req("spend", cost=1.0))
    b = p.decide("hf_jobs", req("spend", cost=1.0))
    assert a.reservation and b.reservation and a.reservation != b.reservation
    assert p.spend.reserved() == pytest.approx(2.0)


def test_set_mode_and_budget() -> None:
    p = policy("ask")
    p.set_mode("yolo")
    p.set_budget(1.0)
    assert p.decide("hf_jobs", req("spend", cost=2.0)).action == "ask"
    p.set_budget(None)
    assert p.decide("hf_jobs", req("spend", cost=2.0)).action == "run"


def test_to_item_fields() -> None:
    request = req("spend", cost=4.0)
    request.risk = "high"
    verdict = Verdict("ask", "estimated $4.00 exceeds the $1.00 left")
    item = to_item("call-7", "hf_jobs", request, verdict)
    assert item.call_id == "call-7" and item.tool == "hf_jobs"
    assert item.title == "run: python train.py" and item.details == "details"
    assert item.risk == "high" and item.cost_estimate_usd == 4.0
    assert item.remember_scope == "hf_jobs run: python train.py*"
    assert item.remember_scope == rule_for("hf_jobs", request).describe()
    assert item.blocked_reason == verdict.reason


def test_to_item_manual_has_no_remember_scope() -> None:
    item = to_item("c", "hf_jobs", req("manual", operation="scheduled run"), Verdict("ask", "x"))
    assert item.remember_scope == ""


def test_protected_calls_are_never_remembered_nor_covered_by_rules() -> None:
    request = req("protected", operation="write")
    request.reason = "writes .ml-intern/config.toml"
    rules = [RememberRule(tool="write", operation="*", pattern="*")]
    p = policy("yolo", rules=rules)
    verdict = p.decide("write", request)
    assert verdict.action == "ask"
    assert verdict.reason is not None and ".ml-intern/config.toml" in verdict.reason
    p.remember("write", request)
    assert p.rules == rules
    assert to_item("c", "write", request, verdict).remember_scope == ""


def test_auto_names_why_a_command_leaves_the_sandbox() -> None:
    request = req("unsandboxed")
    request.reason = "needs the network"
    verdict = policy("auto").decide("bash", request)
    assert verdict.action == "ask"
    assert verdict.reason is not None
    assert "outside the sandbox" in verdict.reason and "needs the network" in verdict.reason
