"""Snapshots of the first-run and daily states issue #14 added last: the demo's intro with
its one-key goal, the credential banner, the ``/login`` field, a custom command in the
completion popup and ``/copy``'s confirmation — at 120×40 and 80×24 (the footer's key
hints must fit at 80)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.custom_commands import CustomCommand
from ml_intern_tui.demo.workspace import DEMO_GOAL, DEMO_INTRO, DEMO_SEND_KEY
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.screens.login import LoginScreen
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from ml_intern_tui.tui.widgets.credential_banner import CredentialBanner
from tui import scenes
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime
from tui.test_snapshots import SnapCompare, before, make, settled_answer

SIZES = [(120, 40), (80, 24)]
MISSING = (
    "no Hugging Face token for moonshotai/Kimi-K2-Instruct (it runs on the HF router): "
    "set HF_TOKEN, run `hf auth login`, or use /login in the app"
)


class DemoRuntime(FakeRuntime):
    demo_offer = (DEMO_INTRO, DEMO_GOAL, DEMO_SEND_KEY)


@pytest.mark.parametrize("size", SIZES)
def test_demo_intro(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: app.chat.query(NoticeBlock))

    runtime = DemoRuntime()
    app = MLInternApp(runtime, clock=fixed_clock)
    assert snap_compare(app, terminal_size=size, run_before=before(runtime, app, scene))


@pytest.mark.parametrize("size", SIZES)
def test_credential_banner(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        runtime.publish(p.CredentialStatus(model="moonshotai/Kimi-K2-Instruct", missing=[MISSING]))
        await wait_for(pilot, lambda: app.query_one(CredentialBanner).display)

    runtime, app = make()
    assert snap_compare(app, terminal_size=size, run_before=before(runtime, app, scene))


@pytest.mark.parametrize("size", SIZES)
def test_login_field(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        app.prompt.set_text("/login")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen))
        await pilot.press(*"hf_abcdefgh")

    runtime, app = make()
    assert snap_compare(app, terminal_size=size, run_before=before(runtime, app, scene))


@pytest.mark.parametrize("size", SIZES)
def test_custom_command_in_completion(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    command = CustomCommand(
        name="eval",
        template="Evaluate $ARGUMENTS on the test split.",
        source="project",
        description="Evaluate a checkpoint",
        argument_hint="CHECKPOINT",
    )

    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        runtime.publish(p.SlashCommands(commands=[command]))
        await wait_for(pilot, lambda: "eval" in app.commands)
        await pilot.press("slash", "e")
        popup = app.prompt_bar.popup
        await wait_for(pilot, lambda: popup.display and popup.option_count >= 1)

    runtime, app = make()
    assert snap_compare(app, terminal_size=size, run_before=before(runtime, app, scene))


@pytest.mark.parametrize("size", SIZES)
def test_copy_confirmation(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        scenes.conversation(runtime)
        await settled_answer(app, pilot, scenes.ANSWER)
        runtime.publish(p.TurnComplete(final_text=scenes.ANSWER, iterations=1, ts=scenes.at(1)))
        await wait_for(pilot, lambda: not app.busy)
        app.prompt.set_text("/copy code")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app._notifications)

    runtime, app = make()
    assert snap_compare(app, terminal_size=size, run_before=before(runtime, app, scene))
