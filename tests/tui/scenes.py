"""Scripted event sequences for the TUI tests and snapshots (fixed timestamps)."""

from __future__ import annotations

from ml_intern_tui.core import protocol as p
from tui.fake_runtime import T0, FakeRuntime

ANSWER = (
    "I'll start by looking at the data.\n\n"
    "## Plan\n\n"
    "1. Inspect `data/reviews.csv`\n"
    "2. Train a **baseline**\n\n"
    "```python\nimport csv\nrows = list(csv.DictReader(open('data/reviews.csv')))\n```\n"
)

DIFF = """--- a/train.py
+++ b/train.py
@@ -1,4 +1,5 @@
 import csv
-EPOCHS = 3
+EPOCHS = 12
+LR = 0.5
 def main():
     pass
"""


def at(seconds: float) -> float:
    return T0 + seconds


def conversation(rt: FakeRuntime) -> None:
    """A user turn, reasoning and a streamed answer."""
    rt.publish(
        p.TurnStarted(text="Train a sentiment baseline on data/reviews.csv", ts=at(0)),
        p.ReasoningDelta(text="The user wants a baseline. ", ts=at(0.1)),
        p.ReasoningDelta(text="Look at the data first.", ts=at(0.2)),
    )
    for i in range(0, len(ANSWER), 7):
        rt.publish(p.AssistantDelta(text=ANSWER[i : i + 7], ts=at(0.3)))


def usage(rt: FakeRuntime, used: int = 79_000) -> None:
    rt.publish(
        p.ContextUsage(used=used, limit=128_000, threshold=115_200, ts=at(1)),
        p.Spend(llm_usd=0.42, jobs_usd=1.10, budget_usd=5.0, ts=at(1)),
    )


def plan(rt: FakeRuntime) -> None:
    rt.publish(
        p.PlanUpdated(
            items=[
                p.PlanItem(id="1", content="Inspect the dataset", status="completed"),
                p.PlanItem(id="2", content="Write a baseline script", status="in_progress"),
                p.PlanItem(id="3", content="Train in the background", status="pending"),
                p.PlanItem(id="4", content="Report accuracy", status="pending"),
            ],
            ts=at(1),
        )
    )


def nested_tools(rt: FakeRuntime) -> None:
    """A research call with nested calls, an ok call, a failure and a running one."""
    rt.publish(
        p.ToolCall(
            call_id="c1", tool="bash", args={"command": "head -5 data/reviews.csv"}, ts=at(0)
        ),
        p.ToolResultEvent(
            call_id="c1", ok=True, summary="5 lines", output="text,label\n...", ts=at(0.4)
        ),
        p.ToolCall(
            call_id="c2", tool="research", args={"query": "best small sentiment models"}, ts=at(1)
        ),
        p.ToolCall(
            call_id="c2a",
            tool="hf_papers",
            args={"query": "sentiment distilbert"},
            parent_id="c2",
            ts=at(1.5),
        ),
        p.ToolResultEvent(
            call_id="c2a", ok=True, summary="7 papers", output="...", parent_id="c2", ts=at(2.5)
        ),
        p.ToolCall(
            call_id="c2b",
            tool="github_find_examples",
            args={"query": "imdb finetune"},
            parent_id="c2",
            ts=at(2.6),
        ),
        p.ToolCall(call_id="c3", tool="edit", args={"path": "train.py"}, ts=at(3)),
        p.ToolResultEvent(
            call_id="c3",
            ok=True,
            summary="train.py: +2 -1",
            output=DIFF,
            data={"diff": DIFF},
            ts=at(3.2),
        ),
        p.ToolCall(call_id="c4", tool="read", args={"path": "missing.txt"}, ts=at(3.3)),
        p.ToolResultEvent(
            call_id="c4",
            ok=False,
            status="failed",
            summary="No such file: missing.txt",
            output="FileNotFoundError: missing.txt",
            ts=at(3.4),
        ),
    )


def approval(rt: FakeRuntime, *, two: bool = False) -> None:
    items = [
        p.ApprovalItem(
            call_id="a1",
            tool="bash",
            title="Run the training script in the background",
            details="python train.py --epochs 12 --lr 0.5",
            risk="medium",
            cost_estimate_usd=0.0,
            remember_scope="bash: python train.py*",
        )
    ]
    if two:
        items.append(
            p.ApprovalItem(
                call_id="a2",
                tool="hf_jobs",
                title="Launch a GPU job on a10g-small",
                details="flavor: a10g-small\ntimeout: 2h\nscript: train.py",
                risk="high",
                cost_estimate_usd=2.0,
                remember_scope="hf_jobs run: flavor=a10g-small",
                blocked_reason="always-manual: paid hardware",
            )
        )
    for item in items:
        rt.publish(
            p.ToolCall(
                call_id=item.call_id, tool=item.tool, args={"command": item.details}, ts=at(4)
            )
        )
    rt.publish(p.ApprovalRequired(items=items, ts=at(4)))


def job(rt: FakeRuntime, lines: int = 30) -> None:
    rt.publish(
        p.JobUpdated(
            job_id="job-1a2b",
            kind="local",
            status="running",
            title="train.py",
            started_at=at(0),
            ts=at(0),
        ),
        p.JobUpdated(
            job_id="hf-77",
            kind="hf",
            status="completed",
            title="eval",
            flavor="a10g-small",
            cost_usd=1.1,
            started_at=at(-600),
            ended_at=at(-100),
            ts=at(0),
        ),
    )
    rt.publish(
        p.JobLog(
            job_id="job-1a2b",
            lines=[
                f"\x1b[32mepoch {i}/30\x1b[0m loss={1 / (i + 1):.4f} val_acc={0.5 + i / 80:.3f}"
                for i in range(1, lines + 1)
            ],
            ts=at(1),
        )
    )
