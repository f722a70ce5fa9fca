"""``@`` completion in the prompt: the project's files (``.gitignore`` respected), fuzzy,
and the mentions sent with the message for the core to attach."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.mention_files import complete_mention, list_project_files, mentions_in
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text("x")
    (tmp_path / "src" / "eval.py").write_text("x")
    (tmp_path / "README.md").write_text("x")
    (tmp_path / "secret.log").write_text("x")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "dep.js").write_text("x")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_mentions_in_a_message() -> None:
    text = "compare @src/a.py and @b.md, not me@example.com (@c.txt)\n@d"
    assert mentions_in(text) == ["src/a.py", "b.md", "d"]
    assert mentions_in("no mentions here") == []


def test_listing_walks_without_git_and_respects_gitignore_with_it(project: Path) -> None:
    walked = list_project_files(project)
    assert "src/train.py" in walked and "node_modules/dep.js" not in walked
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (project / ".gitignore").write_text("*.log\n")
    listed = list_project_files(project)
    assert "src/train.py" in listed and "README.md" in listed
    assert "secret.log" not in listed


def test_a_hostile_fsmonitor_does_not_run(project: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    marker = project / "pwned"
    hook = project / "monitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    subprocess.run(["git", "config", "core.fsmonitor", str(hook)], cwd=project, check=True)
    assert "src/train.py" in list_project_files(project)
    assert not marker.exists()


def test_fuzzy_candidates_prefer_the_file_name() -> None:
    files = ["src/train.py", "src/eval.py", "docs/training-notes.md", "README.md"]
    got = [c.label for c in complete_mention("look at @trn", files)]
    assert got[0] == "@src/train.py" and "@docs/training-notes.md" in got
    assert "@src/eval.py" not in got
    assert complete_mention("look at @trn", files)[0].text == "look at @src/train.py "
    assert complete_mention("mail me@trn", files) == []
    assert complete_mention("@hf:org/na", files) == []


async def test_tab_takes_a_file_and_enter_sends_its_mention(
    project: Path, runtime: FakeRuntime
) -> None:
    runtime.at_start = [runtime.ready(cwd=str(project))]  # the session's directory
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.header.cwd == str(project))
        await pilot.press(*"check @trai")
        popup = app.prompt_bar.popup
        await wait_for(pilot, lambda: popup.display and popup.candidates)
        assert popup.candidates[0].label == "@src/train.py"
        await pilot.press("tab")
        await wait_for(pilot, lambda: app.prompt.text == "check @src/train.py ")
        await pilot.press(*"now")
        await wait_for(pilot, lambda: not popup.display)
        await pilot.press("enter")
        await wait_for(pilot, lambda: runtime.ops)
        assert runtime.ops == [
            p.UserInput(text="check @src/train.py now", mentions=["src/train.py"])
        ]


async def test_enter_over_a_candidate_takes_it_instead_of_sending(
    project: Path, runtime: FakeRuntime
) -> None:
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.prompt.has_focus)
        await pilot.press(*"@READ")
        await wait_for(pilot, lambda: app.prompt_bar.popup.candidates)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.prompt.text == "@README.md ")
        assert runtime.ops == []
