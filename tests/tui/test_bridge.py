"""The bridge: coalesces high-rate events without losing or reordering anything."""

from __future__ import annotations

import asyncio

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.tui.bridge import EventBridge, coalesce


def test_consecutive_deltas_merge_and_keep_order() -> None:
    batch: list[p.EventBase] = [
        p.ReasoningDelta(text="think "),
        p.ReasoningDelta(text="more"),
        p.AssistantDelta(text="Hel"),
        p.AssistantDelta(text="lo"),
        p.ToolCall(call_id="c1", tool="bash", args={}),
        p.AssistantDelta(text="after"),
    ]
    out = coalesce(batch)
    assert [getattr(e, "type", "") for e in out] == [
        "reasoning_delta",
        "assistant_delta",
        "tool_call",
        "assistant_delta",
    ]
    assert out[0].text == "think more"  # type: ignore[attr-defined]
    assert out[1].text == "Hello"  # type: ignore[attr-defined]
    assert out[3].text == "after"  # type: ignore[attr-defined]


def test_deltas_of_different_parents_stay_apart() -> None:
    out = coalesce([p.AssistantDelta(text="a"), p.AssistantDelta(text="b", parent_id="r1")])
    assert len(out) == 2


def test_job_logs_merge_per_job_across_deltas_but_not_across_other_events() -> None:
    batch: list[p.EventBase] = [
        p.JobLog(job_id="j1", lines=["1"]),
        p.AssistantDelta(text="x"),
        p.JobLog(job_id="j2", lines=["a"]),
        p.JobLog(job_id="j1", lines=["2", "3"]),
        p.JobUpdated(job_id="j1", kind="local", status="completed"),
        p.JobLog(job_id="j1", lines=["4"]),
    ]
    out = coalesce(batch)
    kinds = [(getattr(e, "type", ""), getattr(e, "job_id", None)) for e in out]
    assert kinds == [
        ("job_log", "j1"),
        ("assistant_delta", None),
        ("job_log", "j2"),
        ("job_updated", "j1"),
        ("job_log", "j1"),
    ]
    assert out[0].lines == ["1", "2", "3"]  # type: ignore[attr-defined]


def test_coalesce_does_not_mutate_shared_events() -> None:
    first = p.AssistantDelta(text="a")
    coalesce([first, p.AssistantDelta(text="b")])
    assert first.text == "a"


async def test_bridge_delivers_everything_in_order_then_closes() -> None:
    bus = EventBus()
    delivered: list[p.EventBase] = []
    closed = asyncio.Event()
    bridge = EventBridge(bus.subscribe(), delivered.append, on_close=closed.set)
    task = asyncio.create_task(bridge.run())
    for i in range(500):
        bus.publish(p.AssistantDelta(text=str(i % 10)))
        if i % 100 == 0:
            bus.publish(p.Notice(text=f"n{i}"))
    bus.publish(p.JobLog(job_id="j", lines=[f"l{i}" for i in range(1000)]))
    bus.close()
    await asyncio.wait_for(closed.wait(), 5)
    await task
    text = "".join(e.text for e in delivered if isinstance(e, p.AssistantDelta))
    assert text == "".join(str(i % 10) for i in range(500))
    notices = [e.text for e in delivered if isinstance(e, p.Notice)]
    assert notices == [f"n{i}" for i in range(0, 500, 100)]
    lines = [line for e in delivered if isinstance(e, p.JobLog) for line in e.lines]
    assert len(lines) == 1000
    # Seq order is preserved for the events that were not merged away.
    seqs = [e.seq for e in delivered]
    assert seqs == sorted(seqs)
    assert bridge.delivered < bridge.received


async def test_bridge_flushes_at_about_thirty_hertz() -> None:
    bus = EventBus()
    delivered: list[p.EventBase] = []
    bridge = EventBridge(bus.subscribe(), delivered.append)
    task = asyncio.create_task(bridge.run())
    loop = asyncio.get_running_loop()
    start = loop.time()
    while loop.time() - start < 0.5:
        bus.publish(p.AssistantDelta(text="x"))
        await asyncio.sleep(0.001)
    bus.close()
    await task
    # ~0.5 s of a ~1 kHz stream arrives in roughly 15 batches, not hundreds.
    assert len(delivered) <= 30
    assert sum(len(e.text) for e in delivered if isinstance(e, p.AssistantDelta)) == bridge.received
