"""Snapshots of the daily-driver states: a ``!`` command's output, the ``@`` popup, the
Ctrl+R history search — at 120×40 and 80×24 (the footer's key hints must fit at 80)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.user_shell import USER_SHELL_PREFIX
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.screens.history_search import HistorySearch
from ml_intern_tui.tui.widgets.blocks.shell import ShellBlock
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime
from tui.test_snapshots import SnapCompare, before, make

SIZES = [(120, 40), (80, 24)]


@pytest.mark.parametrize("size", SIZES)
def test_shell_output_in_the_chat(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        call = f"{USER_SHELL_PREFIX}1"
        runtime.publish(
            p.ToolCall(call_id=call, tool="bash", args={"command": "ls data"}),
            p.ToolResultEvent(
                call_id=call,
                ok=True,
                summary="exit 0 · 2 lines · 0.0s",
                output="reviews.csv\nsplits.json\n[ran in the sandbox · no network]",
            ),
            p.TurnComplete(final_text="", iterations=0),
        )
        await wait_for(
            pilot, lambda: app.chat.query(ShellBlock) and app.chat.query_one(ShellBlock).output
        )

    runtime, app = make()
    assert snap_compare(app, terminal_size=size, run_before=before(runtime, app, scene))


@pytest.mark.parametrize("size", SIZES)
def test_mention_popup(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        app.prompt_bar.files = ["data/reviews.csv", "train.py", "README.md", "src/eval.py"]
        app.prompt_bar._files_at = float("inf")  # the list is fresh: no listing in the test
        app.prompt.set_text("compare @tr")
        await wait_for(pilot, lambda: app.prompt_bar.popup.candidates)

    runtime, app = make()
    assert snap_compare(app, terminal_size=size, run_before=before(runtime, app, scene))


@pytest.mark.parametrize("size", SIZES)
def test_history_search(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        app.prompt.sent_history[:] = [
            "train a sentiment baseline on data/reviews.csv",
            "/cost",
            "plot the eval loss\nand the learning rate",
            "train a bigger model on the GPU",
        ]
        await pilot.press("ctrl+r", *"train")
        await wait_for(pilot, lambda: isinstance(app.screen, HistorySearch))
        screen = app.screen
        assert isinstance(screen, HistorySearch)
        await wait_for(pilot, lambda: len(screen.shown) == 2)

    runtime, app = make()
    assert snap_compare(app, terminal_size=size, run_before=before(runtime, app, scene))
