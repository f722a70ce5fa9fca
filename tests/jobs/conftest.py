"""Fixtures for job tests: a registry whose events are recorded, and process/wait helpers."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from ml_intern_tui.core.protocol import EventBase
from ml_intern_tui.jobs.registry import JobRegistry


def pid_gone(pid: int) -> bool:
    """True when the process no longer exists (a zombie awaiting its reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state == "Z"


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.02)


@pytest.fixture(name="pid_gone")
def _pid_gone_fixture() -> Callable[[int], bool]:
    return pid_gone


@pytest.fixture(name="wait_until")
def _wait_until_fixture() -> Callable[..., Awaitable[None]]:
    return wait_until


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
