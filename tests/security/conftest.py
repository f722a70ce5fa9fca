"""Fixtures for the attack tests: a project, a tool context, and the real runtime on a fake model.

The integration harness (real loop, fake OpenAI server) is shared from
``tests/integration/conftest.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI
from integration.conftest import fake_openai, harness_factory, workspace

from ml_intern_tui.core.protocol import EventBase, Shutdown
from ml_intern_tui.core.tool import SessionState, ToolContext


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake home directory (``~`` and ``Path.home()`` point here)."""
    path = (tmp_path / "home").resolve()
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = (tmp_path / "proj").resolve()
    (path / ".git" / "hooks").mkdir(parents=True)
    (path / ".git" / "config").write_text("[core]\n\tbare = false\n")
    (path / "src").mkdir()
    return path


@pytest.fixture
def ctx(project: Path) -> ToolContext:
    return ToolContext(
        call_id="call-1",
        session_id="s-1",
        cwd=project,
        state=SessionState(),
        publish=lambda _event: None,
    )


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """A fake OpenAI-compatible server that ``vllm/fake`` talks to."""
    with FakeOpenAI() as fake:
        monkeypatch.setenv("VLLM_BASE_URL", fake.base_url)
        monkeypatch.setenv("VLLM_API_KEY", "sk-fake")
        yield fake


class Run:
    """The real runtime serving in the test's loop, its events recorded."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.events: list[EventBase] = []
        self.changed = asyncio.Event()
        runtime.bus.add_listener(self._record)
        self.task = asyncio.create_task(runtime.run())

    def _record(self, event: EventBase) -> None:
        self.events.append(event)
        self.changed.set()

    def of(self, kind: str) -> list[Any]:
        return [e for e in self.events if getattr(e, "type", None) == kind]

    async def wait_for(self, kind: str, timeout: float = 20.0) -> Any:
        async def scan() -> Any:
            while True:
                found = self.of(kind)
                if found:
                    return found[0]
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(scan(), timeout)

    async def close(self) -> None:
        self.runtime.submit(Shutdown())
        await asyncio.wait_for(self.task, 15)


@pytest.fixture
async def start_runtime() -> AsyncIterator[Callable[[Any], Any]]:
    runs: list[Run] = []

    async def start(runtime: Any) -> Run:
        run = Run(runtime)
        runs.append(run)
        await run.wait_for("ready")
        return run

    yield start
    for run in runs:
        await run.close()


__all__ = ["fake_openai", "harness_factory", "workspace"]
