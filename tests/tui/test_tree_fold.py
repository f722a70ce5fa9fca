"""A resumed session's tool tree, folded from its history in one go, is the tree its live
events build: same turns, calls, nesting, labels, failure reasons and folding."""

from __future__ import annotations

import random
from typing import Any

from textual.widgets.tree import TreeNode

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime
from tui.test_resume_history import random_session


def shape(node: TreeNode[Any]) -> tuple[Any, ...]:
    children = tuple(shape(child) for child in node.children)
    return (node.label.plain, node.is_expanded, node.allow_expand, children)


def with_failures(events: list[p.EventBase], rng: random.Random) -> list[p.EventBase]:
    """Some results failed or rejected, with reasons (a failed call grows a leaf)."""
    for event in events:
        if isinstance(event, p.ToolResultEvent) and rng.random() < 0.4:
            event.ok = False
            event.summary = rng.choice(["exit 1", "", "No such file: data.csv"])
            event.output = "Traceback: boom"
            if rng.random() < 0.3:
                event.status = "rejected"
    return events


async def test_the_tree_folded_from_a_history_is_the_tree_of_its_live_events() -> None:
    runtime = FakeRuntime()
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        for seed in range(6):
            live_id, resumed_id = f"live-{seed}", f"resumed-{seed}"
            live = with_failures(random_session(random.Random(seed), 80), random.Random(seed))
            runtime.publish(runtime.ready(session_id=live_id))
            for event in live:
                event.session_id = live_id
                runtime.publish(event)
            runtime.publish(p.Notice(text=f"end of {live_id}", session_id=live_id))
            await wait_for(pilot, lambda sid=live_id: f"end of {sid}" in _last(app))
            built = shape(app.tools.root)
            calls = sum(isinstance(e, p.ToolCall) for e in live)
            assert len(app.tools.records) == calls > 0, seed

            events = with_failures(random_session(random.Random(seed), 80), random.Random(seed))
            history = p.History(session_id=resumed_id, events=events)
            runtime.publish(runtime.ready(resumed=True, session_id=resumed_id), history)
            runtime.publish(p.Notice(text=f"end of {resumed_id}", session_id=resumed_id))
            await wait_for(pilot, lambda sid=resumed_id: f"end of {sid}" in _last(app))
            assert shape(app.tools.root) == built, seed
            assert set(app.tools.nodes) == {e.call_id for e in live if isinstance(e, p.ToolCall)}


def _last(app: MLInternApp) -> str:
    blocks = app.chat.blocks
    return str(getattr(blocks[-1], "text", "")) if blocks else ""
