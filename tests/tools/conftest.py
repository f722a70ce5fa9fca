"""Fixtures for tool tests: a project directory, a ToolContext that records what tools publish."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ml_intern_tui.core.protocol import EventBase
from ml_intern_tui.core.services import Services
from ml_intern_tui.core.tool import SessionState, ToolContext
from ml_intern_tui.jobs.registry import JobRegistry


class Recorder:
    """Collects the events and progress lines a tool produces."""

    def __init__(self) -> None:
        self.events: list[EventBase] = []
        self.progress: list[str] = []


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root.resolve()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def registry(tmp_path: Path, recorder: Recorder) -> AsyncIterator[JobRegistry]:
    reg = JobRegistry(
        recorder.events.append, tmp_path / "logs", batch_interval_s=0.05, kill_grace_s=1.0
    )
    yield reg
    await reg.shutdown()


@pytest.fixture
def ctx(project: Path, recorder: Recorder, tmp_path: Path) -> ToolContext:
    return ToolContext(
        call_id="call-1",
        session_id="sess-1",
        cwd=project,
        state=SessionState(),
        publish=recorder.events.append,
        progress=recorder.progress.append,
        services=Services(spill_dir=tmp_path / "spill"),
    )
