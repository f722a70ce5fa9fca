"""While it works: elapsed time, tokens so far and the running tool in the status line; the
bell / OSC 9 when the turn ends or an approval waits (through ``app.attention``)."""

from __future__ import annotations

import pytest

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.work_status import WorkStatus
from tui.conftest import wait_for
from tui.fake_runtime import T0, FakeRuntime


def line(app: MLInternApp) -> str:
    return app.status.render().plain


def test_parts_shrink_with_detail() -> None:
    work = WorkStatus()
    asked: list[tuple[str, bool]] = []
    work.fold(p.TurnStarted(text="go", ts=T0), lambda t, u: asked.append((t, u)))
    work.fold(p.AssistantDelta(text="x" * 4_800), lambda t, u: None)
    work.fold(p.ToolCall(call_id="a", tool="bash", args={}), lambda t, u: None)
    work.fold(p.ToolCall(call_id="b", tool="read", args={}), lambda t, u: None)
    assert work.parts(T0 + 75, 2) == ["1m15s", "~1.2k tok", "bash +1"]
    assert work.parts(T0 + 75, 0) == ["1m15s"]
    work.fold(p.ToolResultEvent(call_id="a", ok=True, summary="", output=""), lambda t, u: None)
    assert work.parts(T0 + 75, 2)[-1] == "read"
    assert asked == []


async def test_status_line_shows_the_work_and_asks_for_attention(
    app: MLInternApp, runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, bool]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        monkeypatch.setattr(
            app.attention, "request", lambda text, urgent=False: asked.append((text, urgent))
        )
        runtime.publish(
            p.TurnStarted(text="train", ts=T0),
            p.AssistantDelta(text="y" * 400),
            p.ToolCall(call_id="c1", tool="hf_jobs", args={}),
        )
        await wait_for(pilot, lambda: "hf_jobs" in line(app))
        assert "● working 5.0s ~100 tok hf_jobs" in line(app)  # the fixed clock: T0 + 5
        item = p.ApprovalItem(
            call_id="c1", tool="hf_jobs", title="Run", details="", remember_scope="hf_jobs"
        )
        runtime.publish(
            p.ApprovalRequired(items=[item]),
            p.TurnComplete(final_text="", iterations=1, reason="approval_pending"),
        )
        await wait_for(pilot, lambda: asked)
        assert asked == [("Approval needed: hf_jobs", True)]
        await wait_for(pilot, lambda: "working" not in line(app))
        runtime.publish(
            p.TurnStarted(text="", ts=T0),
            p.TurnComplete(final_text="done", iterations=2, reason="done"),
        )
        await wait_for(pilot, lambda: len(asked) == 2)
        assert asked[1] == ("The agent finished its turn.", False)


async def test_at_80_columns_only_the_elapsed_time_stays(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        runtime.publish(
            p.TurnStarted(text="go", ts=T0),
            p.AssistantDelta(text="z" * 4000),
            p.ToolCall(call_id="c1", tool="bash", args={}),
            p.ContextUsage(used=79_000, limit=128_000, threshold=115_200),
            p.Spend(llm_usd=0.42, jobs_usd=1.10, budget_usd=5.0),
        )
        await wait_for(pilot, lambda: "62%" in line(app))
        assert "● working 5.0s" in line(app)
        assert len(line(app)) <= 78
