"""A resumed session reaches the panes as a ``history`` event: no file is read by the UI,
and the chat folded from ``chat_from`` shows what folding every event would."""

from __future__ import annotations

import builtins
import io
import os
import random
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.widget import Widget

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.journal import load
from ml_intern_tui.core.resume import session_history
from ml_intern_tui.paths import data_dir, sessions_dir
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets.blocks.reasoning import ReasoningBlock
from ml_intern_tui.tui.widgets.blocks.tools import ToolMention
from ml_intern_tui.tui.widgets.plan import PlanPanel
from ml_intern_tui.tui.widgets.tool_tree import ToolTree
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime, make_config
from tui.test_session_replay import resumed_chat, rich_session

SESSION = "20231114-100000-dddddd"


@contextmanager
def no_reads_under(root: Path, *, by_core: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """Record every file opened under ``root`` (any thread, any API that opens one).

    ``by_core``: source files of the core's services (the fake runtime runs them in this
    process); an open with one of them on its call stack is theirs, not the UI's.
    """
    root = root.resolve()
    opened: list[str] = []
    real_open, real_io_open, real_os_open = builtins.open, io.open, os.open
    core_files = {str(Path(f).resolve()) for f in by_core}

    def by_the_core() -> bool:
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename in core_files:
                return True
            frame = frame.f_back  # type: ignore[assignment]
        return False

    def note(file: Any) -> None:
        if isinstance(file, int):
            return
        path = Path(os.fsdecode(file)).resolve()
        if (path == root or root in path.parents) and not by_the_core():
            opened.append(str(path))

    def open_(file: Any, *args: Any, **kwargs: Any) -> Any:
        note(file)
        return real_open(file, *args, **kwargs)

    def io_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        note(file)
        return real_io_open(file, *args, **kwargs)

    def os_open(path: Any, *args: Any, **kwargs: Any) -> int:
        note(path)
        return real_os_open(path, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(builtins, "open", open_)
        patch.setattr(io, "open", io_open)
        patch.setattr(os, "open", os_open)
        yield opened


def test_the_guard_catches_a_journal_read_even_from_a_thread() -> None:
    """The check below is worth something: a UI reading the journal (as ``tui/replay.py``
    did, in a thread) or a job log is caught."""
    journal = Path(rich_session()).resolve()
    log = (data_dir() / "jobs" / "job-1a2b3c.log").resolve()
    with no_reads_under(data_dir()) as opened, ThreadPoolExecutor(1) as pool:
        pool.submit(load, journal).result()
        pool.submit(log.read_text).result()
    assert opened == [str(journal), str(log)]


async def test_the_ui_reads_no_journal_nor_job_log_to_show_a_resumed_session(
    app: MLInternApp, runtime: FakeRuntime, tmp_path: Path
) -> None:
    rich_session()
    events = runtime.resumed(SESSION)  # the core's part: it reads the journal and the logs
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        with no_reads_under(data_dir()) as opened:
            app.run_slash("resume", SESSION)
            await wait_for(pilot, lambda: runtime.ops_of(p.Resume))
            runtime.session_id = SESSION
            runtime.publish(*events)
            await wait_for(pilot, lambda: resumed_chat(app) and len(app.jobs.jobs) == 2)
            await wait_for(pilot, lambda: app.jobs.log_view.line_count == 4)
            plan = app.main_screen.query_one(PlanPanel)
            await wait_for(pilot, lambda: len(plan.items) == 2 and "c4" in app.tools.nodes)
            exported = tmp_path / "resumed.md"
            app.run_slash("export", str(exported))  # from the UI's own state
            await wait_for(pilot, exported.exists)
            # a trace comes from the journal: the trace service reads it, never the UI
            app.run_slash("export", f"--format trace {tmp_path / 'trace.jsonl'}")
            app.run_slash("share-traces")
            await wait_for(
                pilot, lambda: runtime.ops_of(p.ExportTrace) and runtime.ops_of(p.ShareTraces)
            )
        assert opened == []
        assert app.jobs.jobs["job-1a2b3c"].lines[0] == "epoch 1/3"  # the core read it


# ------------------------------------------------------------- chat_from


def last_text(app: MLInternApp) -> str:
    blocks = app.chat.blocks
    return str(getattr(blocks[-1], "text", "")) if blocks else ""


def random_session(rng: random.Random, length: int) -> list[p.EventBase]:
    """A conversation with everything the chat folds: runs of calls, sub-agents, undo..."""
    events: list[p.EventBase] = []
    calls = 0
    makers: list[Callable[[], p.EventBase]] = [
        lambda: p.TurnStarted(text=f"user {len(events)}"),
        lambda: p.TurnStarted(text=""),
        lambda: p.ReasoningDelta(text=f"think {len(events)}"),
        lambda: p.AssistantMessage(text=f"answer {len(events)}"),
        lambda: p.AssistantMessage(text=""),
        lambda: p.AssistantMessage(text="sub", parent_id="c0"),
        lambda: p.ToolCall(call_id=f"c{calls}", tool=rng.choice(["read", "bash"]), args={}),
        lambda: p.ToolCall(call_id=f"c{calls}", tool="grep", args={}, parent_id="c0"),
        lambda: p.ToolResultEvent(call_id=f"c{max(calls - 1, 0)}", ok=True, summary="", output=""),
        lambda: p.Notice(text=f"notice {len(events)}"),
        lambda: p.Error(kind="llm", message="503"),
        lambda: p.LoopWarning(kind="repeat", detail="same call"),
        lambda: p.Compacted(before=9_000, after=3_000),
        lambda: p.Interrupted(),
        lambda: p.TurnComplete(final_text="", iterations=1),
        lambda: p.TurnComplete(final_text="", iterations=300, reason="iteration_cap"),
        lambda: p.Undone(what="turn"),
        lambda: p.Undone(what=rng.choice(["compaction", "nothing"])),
    ]
    weights = [6, 1, 3, 5, 1, 1, 8, 2, 3, 2, 1, 1, 1, 1, 3, 1, 2, 1]
    while len(events) < length:
        event = rng.choices(makers, weights)[0]()
        calls += isinstance(event, p.ToolCall)
        event.seq, event.ts = len(events) + 1, 1_000.0 + len(events)
        events.append(event)
    return events


def described(blocks: list[Widget]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for block in blocks:
        if isinstance(block, ToolMention):
            text = " · ".join(block.tools)
        elif isinstance(block, ReasoningBlock):
            text = "".join(block._fragments)
        else:
            text = str(getattr(block, "text", ""))
        out.append((type(block).__name__, text))
    return out


async def test_the_chat_from_chat_from_is_the_chat_from_everything() -> None:
    """Folding from ``chat_from`` gives the chat's last blocks exactly as folding every
    event does: the core's block count matches the chat (undo, runs of calls, sub-agents)."""
    runtime = FakeRuntime(make_config(ui={"max_chat_blocks": 10}))
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        for seed in range(12):
            events = random_session(random.Random(seed), 90)
            bounded = session_history(events, chat_blocks=10)
            assert bounded.chat_from > 0, seed  # the test must exercise the bound
            shown = []
            for number, history in enumerate(
                (bounded.model_copy(update={"chat_from": 0}), bounded)
            ):
                session_id = f"seed-{seed}-{number}"
                history.session_id = session_id
                runtime.publish(runtime.ready(resumed=True, session_id=session_id), history)
                runtime.publish(p.Notice(text=f"end of {session_id}"))
                await wait_for(  # the live notice, and the oldest block pruned for it
                    pilot,
                    lambda sid=session_id: (
                        f"end of {sid}" in last_text(app) and len(app.chat.blocks) == 10
                    ),
                )
                shown.append(described(app.chat.blocks))
            assert shown[0][:-1] == shown[1][:-1], seed
            assert len(shown[1]) == 10  # the last 9 of the history, then the live notice


async def test_a_pane_that_fails_to_fold_says_so_and_the_app_goes_on(
    app: MLInternApp, runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Any, event: p.ToolCall) -> None:
        raise RuntimeError("a bug in the tree")

    monkeypatch.setattr(ToolTree, "_on_tool_call", broken)
    history = p.History(
        session_id="broken",
        events=[p.TurnStarted(text="fine"), p.ToolCall(call_id="c1", tool="read", args={})],
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        runtime.publish(runtime.ready(resumed=True, session_id="broken"), history)
        runtime.publish(p.Notice(text="still alive"))

        def texts() -> list[str]:
            return [str(getattr(b, "text", "")) for b in app.chat.blocks]

        failed = "Part of the session could not be shown again: RuntimeError: a bug in the tree"
        await wait_for(pilot, lambda: "still alive" in texts() and failed in texts())
        assert texts()[0] == "fine"  # the chat folded its part
        assert app.is_running


def test_history_of_a_saved_session_is_read_by_the_core() -> None:
    """The fake runtime's resume is the core's own code on the real files."""
    rich_session()
    runtime = FakeRuntime()
    ready, history, usage, spend, notice = runtime.resumed(SESSION)
    assert isinstance(ready, p.Ready) and ready.resumed
    assert isinstance(history, p.History) and history.session_id == SESSION
    assert isinstance(spend, p.Spend) and (spend.llm_usd, spend.jobs_usd) == (0.25, 1.5)
    assert isinstance(usage, p.ContextUsage) and isinstance(notice, p.Notice)
    assert (sessions_dir() / f"{SESSION}.jsonl").exists()


async def test_a_resumed_reasoning_opens_with_its_text(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    """Collapsed reasoning from a history makes its Markdown only when opened."""
    from textual.widgets import Markdown

    history = p.History(
        session_id="old",
        events=[p.TurnStarted(text="why?"), p.ReasoningDelta(text="Because **this**.")],
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        runtime.publish(runtime.ready(resumed=True, session_id="old"), history)
        await wait_for(pilot, lambda: app.chat.query(ReasoningBlock))
        block = app.chat.query_one(ReasoningBlock)
        assert block.collapsed and not block.query(Markdown)  # nothing built yet
        block.collapsed = False  # what a click on its title or Enter on it does
        await wait_for(pilot, lambda: bool(block.query(Markdown)))
        assert block.query_one(Markdown).source == "Because **this**."
        block.collapsed = True
        block.collapsed = False
        await pilot.pause()
        assert len(block.query(Markdown)) == 1  # made once
