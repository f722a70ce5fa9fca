"""A resumed session's history is made terminal-safe in a worker thread, and its older
chat blocks are mounted later, on demand: neither lets a hostile journal's escapes reach
the screen, and nothing live overtakes the history."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime, make_config

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.core.resume import session_history
from ml_intern_tui.safety.terminal import is_terminal_safe, safe_event
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.bridge import EventBridge
from ml_intern_tui.tui.widgets.blocks.assistant import AssistantBlock
from ml_intern_tui.tui.widgets.blocks.user import UserBlock

ESC = "\x1b"
ATTACK = f"{ESC}]52;c;cHduZWQ=\x07{ESC}[2J{ESC}]0;pwned\x07"


def hostile_events(turns: int) -> list[p.EventBase]:
    """A journal whose every user message, answer and tool call carries escapes."""
    events: list[p.EventBase] = []
    for i in range(turns):
        events += [
            p.TurnStarted(text=f"ask {i} {ATTACK}"),
            p.ToolCall(call_id=f"c{i}", tool="bash", args={"command": f"x {ATTACK}"}),
            p.AssistantMessage(text=f"answer {i} {ATTACK}"),
            p.TurnComplete(final_text=f"answer {i}", iterations=1),
        ]
    for seq, event in enumerate(events, 1):
        event.seq = seq
    return events


async def test_the_bridge_prepares_a_history_off_the_loop_and_keeps_the_order() -> None:
    bus = EventBus()
    delivered: list[p.EventBase] = []
    threads: list[str] = []

    def prepare(event: p.EventBase) -> p.EventBase:
        threads.append(threading.current_thread().name)
        return safe_event(event)

    bridge = EventBridge(bus.subscribe(), delivered.append, prepare=prepare)
    task = asyncio.create_task(bridge.run())
    history = session_history(hostile_events(50), chat_blocks=200)
    for event in (p.Notice(text=f"before {ATTACK}"), history, p.Notice(text=f"after {ATTACK}")):
        bus.publish(event)
    bus.close()
    await asyncio.wait_for(task, 10)
    assert [getattr(e, "type", "") for e in delivered] == ["notice", "history", "notice"]
    # Only the history went to a worker thread; everything delivered is the safe copy.
    assert threads[0] == threads[2] == threading.current_thread().name != threads[1]
    shown = delivered[1]
    assert isinstance(shown, p.History) and shown is not history
    for event in shown.events:
        for value in event.model_dump().values():
            assert not isinstance(value, str) or is_terminal_safe(value)
    assert history.events[0].text.endswith(ATTACK)  # type: ignore[attr-defined]  # untouched


async def test_older_blocks_mounted_on_demand_are_terminal_safe_too() -> None:
    runtime = FakeRuntime(make_config(ui={"max_chat_blocks": 200}))
    app = MLInternApp(runtime, clock=fixed_clock)
    history = session_history(hostile_events(60), chat_blocks=200)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        history = history.model_copy(update={"session_id": "hostile"})
        runtime.publish(runtime.ready(resumed=True, session_id="hostile"), history)
        runtime.publish(p.Notice(text="live after the history"))
        await wait_for(pilot, lambda: app.chat.waiting > 0)
        await wait_for(pilot, lambda: "live after" in str(getattr(app.chat.blocks[-1], "text", "")))
        for _ in range(100):  # scroll up until every older block is mounted
            if not app.chat.waiting:
                break
            app.chat.scroller.scroll_to(y=0, animate=False, immediate=True)
            await pilot.pause(0.01)
        assert app.chat.waiting == 0
        blocks = app.chat.blocks
        users = [b.text for b in blocks if isinstance(b, UserBlock)]
        answers = [b.source for b in blocks if isinstance(b, AssistantBlock)]
        assert users[0].startswith("ask 0 ") and len(users) == 60
        texts: list[Any] = [*users, *answers, app.transcript.to_markdown()]
        assert all(is_terminal_safe(t) for t in texts)
        assert "␛]52;c;cHduZWQ=␇" in users[0]
        # Nothing live overtook the history: the notice is the last block.
        assert str(getattr(blocks[-1], "text", "")) == "live after the history"
