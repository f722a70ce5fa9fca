"""First run in the app: the credential banner, ``/login`` in a hidden field, and the
demo's intro with its one-key goal (a fake runtime records the ops)."""

from __future__ import annotations

import os
from pathlib import Path

from textual.widgets import Input

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.screens.login import LoginScreen
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from ml_intern_tui.tui.widgets.credential_banner import LOGIN_HINT, CredentialBanner
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime

TOKEN = "hf_" + "SeCrEtToKeN" * 3
MISSING = (
    "no Hugging Face token for org/model (it runs on the HF router): set HF_TOKEN, "
    "run `hf auth login`, or use /login in the app"
)
INTRO, GOAL = "This is the offline demo (scripted).", "Train a classifier on data/x.csv."


class DemoRuntime(FakeRuntime):
    demo_offer = (INTRO, GOAL, "enter")


def files_containing(needle: str, *roots: str | None) -> list[Path]:
    found = []
    for root in filter(None, roots):
        for path in Path(root).rglob("*"):
            if path.is_file() and needle.encode() in path.read_bytes():
                found.append(path)
    return found


async def test_banner_names_the_missing_credential_and_goes_when_fixed(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        banner = app.query_one(CredentialBanner)
        assert not banner.display
        runtime.publish(p.CredentialStatus(model="org/model", missing=[MISSING + "\x1b[2J"]))
        await wait_for(pilot, lambda: banner.display)
        text = str(banner.render())
        assert "no Hugging Face token for org/model" in text and LOGIN_HINT in text
        assert "\x1b" not in text  # the app made the event terminal-safe first
        runtime.publish(p.CredentialStatus(model="org/model", missing=[]))
        await wait_for(pilot, lambda: not banner.display)


async def test_login_takes_the_token_in_a_hidden_field_and_never_shows_it(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        app.prompt.set_text("/login")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen))
        field = app.screen.query_one(Input)
        assert field.password and field.has_focus
        await pilot.press(*TOKEN)
        await wait_for(pilot, lambda: field.value == TOKEN)
        assert TOKEN not in app.export_screenshot()  # dots on screen, not the token
        await pilot.press("enter")
        await wait_for(pilot, lambda: runtime.ops_of(p.Login))
        (op,) = runtime.ops_of(p.Login)
        assert op.token.get_secret_value() == TOKEN
        assert TOKEN not in repr(op) and TOKEN not in op.model_dump_json()
        runtime.publish(
            p.Notice(level="success", text="Logged in to the Hugging Face Hub as tester")
        )
        await wait_for(pilot, lambda: "as tester" in str(app.transcript.entries))
        assert TOKEN not in app.transcript.markdown_so_far()
        assert TOKEN not in app.export_screenshot()
        assert all(TOKEN not in line for line in app.prompt.sent_history)
    assert not files_containing(
        TOKEN, os.environ.get("XDG_DATA_HOME"), os.environ.get("XDG_CONFIG_HOME")
    )


async def test_login_with_the_token_in_the_prompt_is_refused_and_not_kept(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        app.prompt.set_text(f"/login {TOKEN}")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: any(
                "Type /login alone" in str(b.render()) for b in app.chat.query(NoticeBlock)
            ),
        )
        assert not runtime.ops_of(p.Login)
        assert all(TOKEN not in line for line in app.prompt.sent_history)
        assert not isinstance(app.screen, LoginScreen)
    assert not files_containing(
        TOKEN, os.environ.get("XDG_DATA_HOME"), os.environ.get("XDG_CONFIG_HOME")
    )


async def test_esc_cancels_the_login(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        app.prompt.set_text("/login")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen))
        await pilot.press("h", "f", "escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, LoginScreen))
        await pilot.pause()
        assert not runtime.ops_of(p.Login)


async def test_demo_intro_and_enter_on_the_empty_prompt_sends_the_goal() -> None:
    runtime = DemoRuntime()
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.chat.query(NoticeBlock))
        shown = " ".join(str(b.render()) for b in app.chat.query(NoticeBlock))
        assert INTRO in shown and GOAL in shown and "Press Enter on the empty prompt" in shown
        await pilot.press("enter")
        await wait_for(pilot, lambda: runtime.ops_of(p.UserInput))
        assert [op.text for op in runtime.ops_of(p.UserInput)] == [GOAL]
        runtime.publish(p.TurnComplete(final_text="done", iterations=1))
        await wait_for(pilot, lambda: not app.busy)
        await pilot.press("enter")  # once the goal went, an empty Enter is nothing again
        await pilot.pause()
        assert len(runtime.ops_of(p.UserInput)) == 1


async def test_a_typed_message_first_disarms_the_goal() -> None:
    runtime = DemoRuntime()
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        app.prompt.set_text("my own goal")
        await pilot.press("enter")
        await wait_for(pilot, lambda: runtime.ops_of(p.UserInput))
        runtime.publish(p.TurnComplete(final_text="done", iterations=1))
        await wait_for(pilot, lambda: not app.busy)
        await pilot.press("enter")
        await pilot.pause()
        assert [op.text for op in runtime.ops_of(p.UserInput)] == ["my own goal"]


async def test_outside_the_demo_an_empty_enter_sends_nothing(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert not runtime.ops_of(p.UserInput)
        assert not any("demo" in str(b.render()) for b in app.chat.query(NoticeBlock))
