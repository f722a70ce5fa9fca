"""The sessions browser (list, search, open, fork, delete, export) and resume into the panes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.context import rebuild
from ml_intern_tui.core.journal import Journal, load
from ml_intern_tui.paths import sessions_dir
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.screens.confirm import ConfirmScreen
from ml_intern_tui.tui.screens.sessions import SessionsScreen, relative_time
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime

NOW = fixed_clock()
HF_SECRET = "hf_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3f"
SnapCompare = Callable[..., bool]


def message(role: str, content: str) -> dict[str, Any]:
    return {"kind": "message", "message": {"role": role, "content": content}}


def save(
    session_id: str,
    title: str,
    *,
    model: str = "openai/gpt-4o",
    answer: str = "Done.",
    updated: float = NOW - 3600,
    cost: float | None = None,
    cwd: str = "/work/project",
    turns: int = 1,
) -> Path:
    """A saved session written the way the core writes it (journal + context records)."""
    j = Journal.create(sessions_dir(), session_id, {"model": model, "cwd": cwd})
    j.append(message("system", "You are ml-intern."))
    j.record_event(
        p.Ready(
            session_id=session_id,
            model=model,
            mode="ask",
            tools=["bash"],
            cwd=cwd,
            context_limit=128_000,
        )
    )
    for turn in range(turns):
        text = title if turn == 0 else f"{title} (again {turn})"
        j.record_event(p.TurnStarted(session_id=session_id, text=text))
        j.append(message("user", text), durable=False)  # no fsync: keeps long ones quick
        j.append(message("assistant", answer), durable=False)
        j.record_event(p.AssistantMessage(session_id=session_id, text=answer))
        j.record_event(p.TurnComplete(session_id=session_id, final_text=answer, iterations=1))
    if cost is not None:
        j.record_event(p.Spend(session_id=session_id, llm_usd=cost, jobs_usd=0.0))
    j.close()
    os.utime(j.path, (updated, updated))
    return j.path


def three_sessions() -> list[Path]:
    return [
        save("20231114-180000-aaaaaa", "inspect the imdb dataset", updated=NOW - 3 * 86_400),
        save(
            "20231116-090000-bbbbbb",
            "fine-tune distilbert on imdb and push it to the hub",
            model="anthropic/claude-sonnet-4",
            answer="Pushed **my-org/distilbert-imdb** (accuracy 0.91).",
            updated=NOW - 3 * 3600,
            cost=0.42,
            turns=3,
        ),
        save("20231115-120000-cccccc", "plot the training loss", updated=NOW - 86_400 - 60),
    ]


async def open_browser(app: MLInternApp, pilot: Pilot[Any], rows: int) -> SessionsScreen:
    await wait_for(pilot, lambda: app.header.session_id == "s-test")
    app.run_slash("sessions")
    await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen))
    screen = app.screen
    assert isinstance(screen, SessionsScreen)
    await wait_for(pilot, lambda: screen.sessions is not None and screen.table.row_count == rows)
    return screen


def column(screen: SessionsScreen, key: str) -> list[str]:
    return [str(cell) for cell in screen.table.get_column(key)]


def status_text(screen: SessionsScreen) -> str:
    return str(screen.query_one("#sessions-status").render())


# ------------------------------------------------------------------- listing


def test_relative_time() -> None:
    assert relative_time(NOW - 5, NOW) == "just now"
    assert relative_time(NOW - 300, NOW) == "5 min ago"
    assert relative_time(NOW - 3 * 3600 - 5, NOW) == "3 h ago"
    assert relative_time(NOW - 30 * 3600, NOW) == "yesterday"
    assert relative_time(NOW - 4 * 86_400, NOW) == "4 days ago"
    then = NOW - 40 * 86_400
    assert relative_time(then, NOW) == time.strftime("%Y-%m-%d", time.localtime(then))


async def test_lists_sessions_newest_first_with_their_details(app: MLInternApp) -> None:
    three_sessions()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_browser(app, pilot, 3)
        assert column(screen, "id") == ["bbbbbb", "cccccc", "aaaaaa"]
        assert column(screen, "title")[0].startswith("fine-tune distilbert on imdb")
        assert column(screen, "when") == ["3 h ago", "yesterday", "3 days ago"]
        assert column(screen, "messages") == ["6", "2", "2"]
        assert column(screen, "cost") == ["$0.42", "–", "–"]
        assert column(screen, "model")[0] == "anthropic/claude-sonnet-4"
        assert "3 sessions, newest first" in status_text(screen)
        preview = str(screen.query_one("#sessions-preview").render())
        assert "Pushed **my-org/distilbert-imdb**" in preview
        assert "/work/project" in preview and "20231116-090000-bbbbbb" in preview
        await pilot.press("down")
        await wait_for(
            pilot,
            lambda: "plot the training loss" in str(screen.query_one("#sessions-preview").render()),
        )


async def test_search_filters_as_you_type(app: MLInternApp) -> None:
    three_sessions()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_browser(app, pilot, 3)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"imdb")
        await wait_for(pilot, lambda: screen.table.row_count == 2)
        assert column(screen, "id") == ["bbbbbb", "aaaaaa"]
        assert "2 of 3 sessions" in status_text(screen)
        await pilot.press(*" claude")  # every word must match: title and model
        await wait_for(pilot, lambda: screen.table.row_count == 1)
        screen.search.value = "cccccc"  # by id
        await wait_for(pilot, lambda: column(screen, "id") == ["cccccc"])
        screen.search.value = "nothing like this"
        await wait_for(pilot, lambda: screen.table.row_count == 0)
        assert "No session matches 'nothing like this'" in status_text(screen)
        screen.search.value = ""
        await wait_for(pilot, lambda: screen.table.row_count == 3)
        await pilot.press("escape")  # from the search box back to the list
        assert app.focused is screen.table
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SessionsScreen))


async def test_sessions_with_an_argument_starts_searched(app: MLInternApp) -> None:
    three_sessions()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        app.run_slash("sessions", "imdb")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen))
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        await wait_for(pilot, lambda: screen.sessions is not None and screen.table.row_count == 2)
        assert screen.search.value == "imdb"


async def test_enter_in_the_search_box_opens_the_match(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    three_sessions()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_browser(app, pilot, 3)
        await pilot.press("slash", *"loss", "enter")
        await wait_for(pilot, lambda: runtime.ops_of(p.Resume))
        assert runtime.ops_of(p.Resume)[0].session_id == "20231115-120000-cccccc"


async def test_empty_state(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_browser(app, pilot, 0)
        assert "No saved sessions yet" in status_text(screen)
        assert runtime.ops == [p.ListSessions()]  # the browser asks the core for the list
        await pilot.press("enter", "f", "d", "e")  # nothing to act on: nothing happens
        assert isinstance(app.screen, SessionsScreen) and runtime.ops == [p.ListSessions()]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SessionsScreen))
        assert runtime.ops == [p.ListSessions()]


# ------------------------------------------------------------------- actions


async def test_resume_without_argument_opens_the_browser_and_enter_resumes(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    three_sessions()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        app.run_slash("resume")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen))
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        await wait_for(pilot, lambda: screen.table.row_count == 3)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: runtime.ops_of(p.Resume))
        assert runtime.ops_of(p.Resume)[0].session_id == "20231115-120000-cccccc"
        assert not isinstance(app.screen, SessionsScreen)


async def test_fork_copies_the_session_and_resumes_the_copy(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    three_sessions()
    original = sessions_dir() / "20231116-090000-bbbbbb.jsonl"
    async with app.run_test(size=(120, 36)) as pilot:
        await open_browser(app, pilot, 3)
        await pilot.press("f")
        await wait_for(pilot, lambda: runtime.ops_of(p.Resume))
        new_id = runtime.ops_of(p.Resume)[0].session_id
    assert new_id != "20231116-090000-bbbbbb"
    fork = load(sessions_dir() / f"{new_id}.jsonl")
    assert fork.meta["forked_from"] == "20231116-090000-bbbbbb"
    assert rebuild(fork.records) == rebuild(load(original).records)
    assert len(rebuild(fork.records)) == 7  # system + 3 × (user, assistant)


async def test_delete_asks_first_and_removes_the_journal(app: MLInternApp) -> None:
    paths = three_sessions()
    newest = paths[1]
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_browser(app, pilot, 3)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen)
        assert newest.exists() and screen.table.row_count == 3
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.table.row_count == 2)
        assert not newest.exists()
        assert column(screen, "id") == ["cccccc", "aaaaaa"]
        assert "Deleted session 20231116-090000-bbbbbb" in status_text(screen)


async def test_the_open_session_cannot_be_deleted_or_reopened(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    current = save("s-test", "what we are doing right now", updated=NOW - 10)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_browser(app, pilot, 1)
        assert column(screen, "title")[0].startswith("● ")
        await pilot.press("d")
        await wait_for(pilot, lambda: "cannot be deleted" in status_text(screen))
        assert not isinstance(app.screen, ConfirmScreen)
        assert current.exists()
        await pilot.press("enter")  # already open: closes without resuming it again
        await wait_for(pilot, lambda: not isinstance(app.screen, SessionsScreen))
        assert runtime.ops_of(p.Resume) == []


async def test_export_writes_markdown_into_the_sessions_directory(
    app: MLInternApp, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    save(
        "20231116-090000-bbbbbb",
        "push the model",
        answer=f"I used the token {HF_SECRET} to push.",
        cwd=str(project),
    )
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_browser(app, pilot, 1)
        await pilot.press("e")
        await wait_for(pilot, lambda: "Exported to" in status_text(screen))
        [written] = list(project.glob("ml-intern-20231116-090000-bbbbbb-*.md"))
        assert written.name in status_text(screen)
    text = written.read_text()
    assert "# ml-intern session 20231116-090000-bbbbbb" in text
    assert "**You**\n\npush the model" in text
    assert "I used the token" in text and HF_SECRET not in text


async def test_export_falls_back_when_the_session_directory_is_gone(
    app: MLInternApp, tmp_path: Path, monkeypatch: Any
) -> None:
    save("20231116-090000-bbbbbb", "push the model", cwd=str(tmp_path / "gone"))
    monkeypatch.chdir(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_browser(app, pilot, 1)
        await pilot.press("e")
        await wait_for(pilot, lambda: "Exported to" in status_text(screen))
        assert str(tmp_path) in status_text(screen)
    assert len(list(tmp_path.glob("ml-intern-20231116-*.md"))) == 1  # noqa: ASYNC240


async def test_the_palette_opens_the_browser(app: MLInternApp) -> None:
    from textual.command import CommandList, CommandPalette

    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"/sessions")
        commands = app.screen.query_one(CommandList)
        await wait_for(
            pilot, lambda: commands.option_count > 0 and commands.highlighted is not None
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen))


# ------------------------------------------------------------------ snapshot


def test_sessions_screen_snapshot(snap_compare: SnapCompare) -> None:
    """The browser with a few sessions: newest first, the current one marked, a preview."""
    three_sessions()
    save("s-test", "what we are doing right now", updated=NOW - 30, cost=0.05)
    runtime = FakeRuntime()
    app = MLInternApp(runtime, clock=fixed_clock)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.prompt.cursor_blink = False
        screen = await open_browser(app, pilot, 4)
        screen.search.cursor_blink = False
        await pilot.press("down")
        await wait_for(pilot, lambda: screen.highlighted == "20231116-090000-bbbbbb")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 30), run_before=run_before)
