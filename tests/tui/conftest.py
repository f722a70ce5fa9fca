"""Fixtures for the TUI tests: a fake runtime, the app on it, and condition waits."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from ml_intern_tui.tui.app import MLInternApp
from tui.fake_runtime import T0, FakeRuntime

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


def fixed_clock() -> float:
    return T0 + 5.0


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime()


@pytest.fixture
def app(runtime: FakeRuntime) -> MLInternApp:
    return MLInternApp(runtime, clock=fixed_clock)


async def wait_for(
    pilot: Pilot[Any], condition: Callable[[], object], *, tries: int = 1000
) -> None:
    """Let the app work until ``condition()`` is truthy (fails after ``tries`` short pauses)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition not met")
