"""The sessions browser's first open is warm: the app summarises the saved sessions once in
the background after its start-up (the model's path first), so opening ``/sessions`` reads
only the journals written since."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.core import saved_sessions
from ml_intern_tui.paths import sessions_dir
from ml_intern_tui.runtime.agent import build_runtime
from ml_intern_tui.services import session_browser
from ml_intern_tui.tui.app import MLInternApp
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime
from tui.test_sessions_screen import save, three_sessions


@pytest.fixture
def summarised(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The journals read (summarised) from now on; the summary cache starts empty."""
    read: list[Path] = []
    real = saved_sessions._summarise

    def counting(path: Path, updated: float) -> saved_sessions.SessionInfo:
        read.append(path)
        return real(path, updated)

    saved_sessions._INFO_CACHE.clear()
    monkeypatch.setattr(saved_sessions, "_summarise", counting)
    return read


class WarmingRuntime(FakeRuntime):
    """A fake runtime that records the order of its warm-ups."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[str] = []

    async def warm_up(self) -> None:
        self.order.append("warm_up")
        await super().warm_up()

    async def warm_ui(self) -> None:
        self.order.append("warm_ui")


async def test_the_app_warms_the_ui_after_the_model_path() -> None:
    runtime = WarmingRuntime()
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: len(runtime.order) == 2)
        assert runtime.order == ["warm_up", "warm_ui"]


async def test_a_runtime_without_a_ui_warm_up_still_warms_the_model_path() -> None:
    runtime = FakeRuntime()  # no warm_ui: the app asks for it with getattr
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: runtime.warmed)


async def test_after_the_warm_up_a_listing_reads_only_new_journals(
    summarised: list[Path],
) -> None:
    three_sessions()
    runtime = build_runtime(AppConfig(), cwd=Path.cwd())
    await runtime.warm_ui()
    assert len(summarised) == 3  # every journal read once, in the warm-up
    summarised.clear()
    assert len(session_browser.listing(sessions_dir(), "")) == 3
    assert summarised == []  # the browser's first open reads nothing again
    new = save("20231118-100000-ffffff", "written after the warm-up", updated=fixed_clock())
    listed = session_browser.listing(sessions_dir(), "")
    assert len(listed) == 4 and listed[0].session_id == "20231118-100000-ffffff"
    assert summarised == [new]


def test_warming_a_missing_or_unreadable_directory_is_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert session_browser.warm_listing(tmp_path / "absent") == 0

    def unreadable(*args: Any, **kwargs: Any) -> list[saved_sessions.SessionInfo]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(saved_sessions, "list_sessions", unreadable)
    assert session_browser.warm_listing(tmp_path) == 0
