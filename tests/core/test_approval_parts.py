"""Remembered rules against shell chains: every command must be covered."""

from __future__ import annotations

from ml_intern_tui.core.approval import ApprovalPolicy
from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.tool import ApprovalRequest, RememberRule


def policy(*patterns: str) -> ApprovalPolicy:
    rules = [RememberRule(tool="bash", operation="run", pattern=p) for p in patterns]
    return ApprovalPolicy("ask", budget_usd=None, spend=SpendTracker(), rules=rules)


def request(command: str, parts: list[str] | None) -> ApprovalRequest:
    return ApprovalRequest(title=command, operation="run", scope_value=command, scope_parts=parts)


def test_a_prefix_rule_does_not_approve_a_chained_command() -> None:
    p = policy("python train.py*")
    assert (
        p.decide("bash", request("python train.py -e 2", ["python train.py -e 2"])).action == "run"
    )
    chained = request("python train.py; rm -rf ~", ["python train.py", "rm -rf ~"])
    assert p.decide("bash", chained).action == "ask"


def test_every_part_covered_runs() -> None:
    p = policy("python train.py*", "tee log*")
    assert (
        p.decide(
            "bash", request("python train.py | tee log", ["python train.py", "tee log"])
        ).action
        == "run"
    )


def test_empty_parts_never_match_a_rule() -> None:
    p = policy("*")
    assert p.decide("bash", request("echo $(cat ~/.netrc)", [])).action == "ask"


def test_requests_without_parts_match_on_the_value() -> None:
    p = policy("python train.py*")
    assert p.decide("bash", request("python train.py; rm -rf ~", None)).action == "run"
