"""The demo cleans up after itself: its temporary workspace goes at exit (unless
``--keep``), and its sessions stay out of the session lists unless asked for."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ml_intern_tui.core.journal import Journal
from ml_intern_tui.core.saved_sessions import find_session, list_sessions
from ml_intern_tui.demo.workspace import (
    DEMO_GOAL,
    DEMO_INTRO,
    DEMO_PREFIX,
    is_demo_workspace,
    remove_demo_workspace,
)
from ml_intern_tui.paths import sessions_dir


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ml_intern_tui", *args],
        cwd=cwd,
        env={**os.environ, "ML_INTERN_SCRIPTED_DELAY": "0"},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_headless_demo_removes_its_workspace_and_keep_keeps_it(tmp_path: Path) -> None:
    proc = cli(["--demo", "--mode", "auto", "--json", "-p", "go"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    ready = next(e for e in map(json.loads, proc.stdout.splitlines()) if e["type"] == "ready")
    workspace = Path(ready["cwd"])
    assert workspace.name.startswith(DEMO_PREFIX)
    assert not workspace.exists()  # removed at exit
    kept = cli(["--demo", "--keep", "-p", "go", "--mode", "ask"], tmp_path)
    assert kept.returncode == 3, kept.stderr[-2000:]
    match = re.search(r"kept in (\S+)", kept.stderr)
    assert match, kept.stderr
    workspace = Path(match.group(1))
    try:
        assert workspace.name.startswith(DEMO_PREFIX)
        assert (workspace / "data" / "reviews.csv").is_file()
    finally:
        remove_demo_workspace(workspace)


def test_demo_sessions_are_hidden_from_the_list_unless_asked(tmp_path: Path) -> None:
    proc = cli(["--demo", "--mode", "auto", "-p", "go"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    [demo] = list_sessions(sessions_dir(), include_demo=True)
    assert demo.demo
    listed = cli(["--list-sessions"], tmp_path)
    assert listed.returncode == 0 and demo.session_id not in listed.stdout
    assert "No sessions" in listed.stdout
    every = cli(["--list-sessions", "--all"], tmp_path)
    assert demo.session_id in every.stdout
    assert find_session(sessions_dir(), "last") == demo.path  # what you last did


def test_real_sessions_stay_listed_next_to_hidden_demo_ones() -> None:
    for sid, meta in (
        ("20240101-000000-aaaaaa", {"model": "vllm/m"}),
        ("20240102-000000-bbbbbb", {"model": "scripted/demo", "demo": True}),
        ("20240103-000000-cccccc", {"model": "scripted/demo"}),  # written before the mark
        ("20240104-000000-dddddd", {"model": "scripted/echo"}),  # a scripted model, no demo
    ):
        journal = Journal.create(sessions_dir(), sid, {**meta, "cwd": "/w"})
        journal.append({"kind": "message", "message": {"role": "user", "content": "hi"}})
        journal.close()
    assert [s.session_id for s in list_sessions(sessions_dir())] == [
        "20240104-000000-dddddd",
        "20240101-000000-aaaaaa",
    ]
    assert len(list_sessions(sessions_dir(), include_demo=True)) == 4


def test_only_a_demo_folder_can_be_removed(tmp_path: Path) -> None:
    victim = tmp_path / f"{DEMO_PREFIX}not-in-temp"
    victim.mkdir()
    assert not is_demo_workspace(victim) and not remove_demo_workspace(victim)
    assert victim.is_dir()
    real = Path(tempfile.mkdtemp(prefix=DEMO_PREFIX))
    link = Path(tempfile.gettempdir()) / f"{DEMO_PREFIX}link-{real.name}"
    link.symlink_to(tmp_path, target_is_directory=True)
    try:
        assert not remove_demo_workspace(link) and tmp_path.is_dir()
        assert remove_demo_workspace(real) and not real.exists()
    finally:
        link.unlink()


@pytest.mark.parametrize("text", [DEMO_GOAL, DEMO_INTRO])
def test_demo_intro_data_is_plain_text(text: str) -> None:
    assert text.isprintable() and len(text) < 400
