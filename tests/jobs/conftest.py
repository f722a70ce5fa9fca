"""Fixtures for job tests: a registry whose events are recorded, and process/wait helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ml_intern_tui.core.protocol import EventBase
from ml_intern_tui.jobs.registry import JobRegistry


@pytest.fixture
def events() -> list[EventBase]:
    return []


@pytest.fixture
async def registry(tmp_path: Path, events: list[EventBase]) -> AsyncIterator[JobRegistry]:
    reg = JobRegistry(
        events.append, tmp_path / "logs", batch_interval_s=0.05, kill_grace_s=1.0, session_id="s1"
    )
    yield reg
    await reg.shutdown()
