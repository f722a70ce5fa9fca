"""Slash commands: completion popup, ops they submit, pickers, and the palette."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel
from textual.command import CommandList, CommandPalette

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui import slash  # noqa: F401  (registers the built-ins)
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.commands import BUILTINS, SlashRegistry, parse
from ml_intern_tui.tui.screens.help import HelpScreen
from ml_intern_tui.tui.screens.permissions import PermissionsScreen
from ml_intern_tui.tui.screens.picker import PickerScreen
from ml_intern_tui.tui.screens.sessions import SessionsScreen
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime


def last_notice(app: MLInternApp) -> NoticeBlock | None:
    found = list(app.chat.query(NoticeBlock))
    return found[-1] if found else None


def test_parse_and_complete() -> None:
    assert parse("/model gpt-4o") == ("model", "gpt-4o")
    assert parse("/compact keep the eval numbers") == ("compact", "keep the eval numbers")
    assert parse("hello /model") is None
    assert parse("//not a command") is None
    registry = SlashRegistry(BUILTINS)
    assert [c.text for c in registry.complete("/co", lambda _: [])] == [
        "/compact",
        "/cost",
        "/copy",
    ]
    modes = registry.complete(
        "/mode y", lambda kind: ["ask", "auto", "yolo"] if kind == "modes" else []
    )
    assert [c.text for c in modes] == ["/mode yolo"]
    assert {c.name for c in registry.all()} >= {
        "help",
        "model",
        "mode",
        "budget",
        "compact",
        "undo",
        "new",
        "resume",
        "jobs",
        "permissions",
        "theme",
        "status",
        "cost",
        "export",
        "quit",
    }


async def test_popup_completes_with_tab_and_runs_with_enter(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test() as pilot:
        await pilot.press("slash", "c", "o", "m")
        popup = app.prompt_bar.popup
        await wait_for(pilot, lambda: popup.display and popup.option_count == 1)
        await pilot.press("tab")
        assert app.prompt.text == "/compact "
        await pilot.press(*"the eval numbers", "enter")
        await wait_for(pilot, lambda: runtime.ops_of(p.Compact))
        assert runtime.ops_of(p.Compact)[0].focus == "the eval numbers"
        assert not runtime.ops_of(p.UserInput)


async def test_partial_command_runs_the_highlighted_one(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test() as pilot:
        await pilot.press("slash", "u", "n", "enter")
        await wait_for(pilot, lambda: runtime.ops_of(p.Undo))


async def test_escape_closes_the_popup_without_interrupting(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test() as pilot:
        runtime.publish(p.TurnStarted(text="busy"))
        await wait_for(pilot, lambda: app.busy)
        await pilot.press("slash")
        await wait_for(pilot, lambda: app.prompt_bar.popup.display)
        await pilot.press("escape")
        assert not app.prompt_bar.popup.display
        assert not runtime.ops_of(p.Interrupt)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/mode auto", p.SetMode(mode="auto")),
        ("/model test/other", p.SetModel(model="test/other")),
        ("/budget 5", p.SetBudget(budget_usd=5.0)),
        ("/budget off", p.SetBudget(budget_usd=None)),
        ("/undo", p.Undo()),
        ("/new", p.New()),
        ("/resume 2024-abc", p.Resume(session_id="2024-abc")),
        ("/compact", p.Compact()),
    ],
)
async def test_commands_submit_ops(
    app: MLInternApp, runtime: FakeRuntime, typed: str, expected: BaseModel
) -> None:
    async with app.run_test() as pilot:
        app.prompt.set_text(typed)
        await pilot.press("escape", "enter")  # close the popup so Enter sends what is typed
        await wait_for(pilot, lambda: runtime.ops)
        assert runtime.ops == [expected]


async def test_bad_arguments_explain_themselves(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        app.run_slash("mode", "turbo")
        await wait_for(pilot, lambda: last_notice(app))
        assert "turbo" in last_notice(app).text  # type: ignore[union-attr]
        app.run_slash("budget", "lots")
        await wait_for(pilot, lambda: "lots" in last_notice(app).text)  # type: ignore[union-attr]
        app.run_slash("frobnicate")
        await wait_for(pilot, lambda: "frobnicate" in last_notice(app).text)  # type: ignore[union-attr]
        assert runtime.ops == []


async def test_model_picker(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        app.run_slash("model")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: runtime.ops_of(p.SetModel))
        assert runtime.ops_of(p.SetModel)[0].model == "test/other"


async def test_mode_picker_can_be_cancelled(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        app.run_slash("mode")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press(*"yo", "escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PickerScreen))
        assert runtime.ops == []


async def test_resume_picker_lists_saved_sessions(
    app: MLInternApp, runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_intern_tui.core import saved_sessions as journal

    info = journal.SessionInfo(
        session_id="20260101-abc",
        path=Path("x"),
        title="fine-tune on imdb",
        model="m",
        created=0.0,
        updated=0.0,
        messages=12,
        cost_usd=0.5,
    )
    monkeypatch.setattr(journal, "list_sessions", lambda directory: [info])
    async with app.run_test() as pilot:
        app.run_slash("resume")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen))
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        await wait_for(pilot, lambda: screen.table.row_count == 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: runtime.ops_of(p.Resume))
        assert runtime.ops_of(p.Resume)[0].session_id == "20260101-abc"


async def test_permissions_list_and_remove(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        app.run_slash("permissions")
        await wait_for(pilot, lambda: runtime.ops_of(p.ListPermissions))
        runtime.publish(p.Permissions(rules=["bash: python train.py*", "read: *"]))
        await wait_for(pilot, lambda: isinstance(app.screen, PermissionsScreen))
        await pilot.press("d")
        await wait_for(pilot, lambda: runtime.ops_of(p.RemovePermission))
        assert runtime.ops_of(p.RemovePermission)[0].rule == "bash: python train.py*"
        runtime.publish(p.Permissions(rules=["read: *"]))
        screen = app.screen
        assert isinstance(screen, PermissionsScreen)
        await wait_for(pilot, lambda: screen.rules == ["read: *"])
        await pilot.press("escape")


async def test_unrequested_permissions_event_opens_nothing(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test() as pilot:
        runtime.publish(p.Permissions(rules=["read: *"]), p.Notice(text="after"))
        await wait_for(pilot, lambda: last_notice(app))
        assert not isinstance(app.screen, PermissionsScreen)


async def test_theme_switches_and_saves(app: MLInternApp, runtime: FakeRuntime) -> None:
    from ml_intern_tui.paths import user_config_path

    async with app.run_test() as pilot:
        app.run_slash("theme", "ml-intern-light")
        await wait_for(pilot, lambda: app.theme == "ml-intern-light")
        path = user_config_path()
        await wait_for(pilot, lambda: path.exists())
        assert 'theme = "ml-intern-light"' in path.read_text()


async def test_status_cost_help_and_jobs(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        runtime.publish(p.Spend(llm_usd=0.25, jobs_usd=1.0, budget_usd=2.0))
        await wait_for(pilot, lambda: app.status.budget_usd == 2.0)
        app.run_slash("cost")
        await wait_for(pilot, lambda: last_notice(app) and "$1.25" in last_notice(app).text)  # type: ignore[union-attr]
        assert "$0.75 left" in last_notice(app).text  # type: ignore[union-attr]
        app.run_slash("status")
        await wait_for(pilot, lambda: "session s-test" in last_notice(app).text)  # type: ignore[union-attr]
        app.run_slash("jobs")
        await wait_for(pilot, lambda: app.focused is app.jobs.job_list)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")


async def test_export_writes_a_markdown_transcript(
    app: MLInternApp, runtime: FakeRuntime, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "session.md"
    async with app.run_test() as pilot:
        runtime.publish(
            p.TurnStarted(text="Inspect the data"),
            p.ToolCall(call_id="c", tool="bash", args={"command": "wc -l data.csv"}),
            p.ToolResultEvent(call_id="c", ok=True, summary="240 lines", output="240"),
            p.AssistantMessage(text="It has **240** rows."),
            p.TurnComplete(final_text="", iterations=1),
        )
        await wait_for(pilot, lambda: not app.busy and app.transcript.entries)
        app.run_slash("export", str(target))
        await wait_for(pilot, lambda: target.exists())
    text = target.read_text()
    assert "**You**\n\nInspect the data" in text
    assert "tool `bash` wc -l data.csv" in text and "ok: 240 lines" in text
    assert "It has **240** rows." in text


async def test_quit_command_shuts_the_core_down(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        app.run_slash("quit")
        await wait_for(pilot, lambda: not app.is_running)
        assert runtime.ops_of(p.Shutdown)


async def test_palette_offers_the_slash_commands(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"/undo")
        commands = app.screen.query_one(CommandList)
        await wait_for(
            pilot, lambda: commands.option_count > 0 and commands.highlighted is not None
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: runtime.ops_of(p.Undo))
