"""A harness that runs the real runtime (loop, tools, journal) and records its events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI

from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.core.protocol import EventBase, Shutdown
from ml_intern_tui.runtime.agent import AgentRuntime, build_runtime

Predicate = Callable[[EventBase], bool]


class Harness:
    """Runs a runtime in the test's event loop and lets tests wait on events."""

    def __init__(self, runtime: AgentRuntime) -> None:
        self.runtime = runtime
        self.events: list[EventBase] = []
        self._changed = asyncio.Event()
        runtime.bus.add_listener(self._on_event)
        self.task: asyncio.Task[None] | None = None

    def _on_event(self, event: EventBase) -> None:
        self.events.append(event)
        self._changed.set()

    async def start(self) -> Harness:
        self.task = asyncio.create_task(self.runtime.run())
        await self.wait_for("ready")
        return self

    def submit(self, op: Any) -> None:
        self.runtime.submit(op)

    def of(self, kind: str) -> list[Any]:
        return [e for e in self.events if getattr(e, "type", None) == kind]

    async def wait_for(
        self, kind: str, where: Predicate | None = None, *, after: int = 0, timeout: float = 20.0
    ) -> Any:
        """The first event of ``kind`` (matching ``where``) at index >= ``after``."""

        async def scan() -> Any:
            while True:
                for event in self.events[after:]:
                    if getattr(event, "type", None) == kind and (where is None or where(event)):
                        return event
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(scan(), timeout)

    def mark(self) -> int:
        return len(self.events)

    @property
    def messages(self) -> list[dict[str, Any]]:
        session = self.runtime.loop.session
        assert session is not None
        return session.context.messages

    async def close(self) -> None:
        if self.task is None:
            return
        self.runtime.submit(Shutdown())
        try:
            await asyncio.wait_for(self.task, 15)
        finally:
            self.task = None


def make_settings(model: str, **overrides: Any) -> AppConfig:
    data: dict[str, Any] = {"model": model}
    data.update(overrides)
    return AppConfig.model_validate(data)


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        monkeypatch.setenv("VLLM_BASE_URL", fake.base_url)
        monkeypatch.setenv("VLLM_API_KEY", "sk-fake")
        yield fake


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
async def harness_factory(workspace: Path) -> AsyncIterator[Callable[..., Any]]:
    made: list[Harness] = []

    async def make(model: str = "vllm/fake", **overrides: Any) -> Harness:
        overrides.setdefault(
            "llm", {"max_retries": 2, "retry_base_delay_s": 0.01, "retry_max_delay_s": 0.05}
        )
        settings = make_settings(model, **overrides)
        harness = Harness(build_runtime(settings, cwd=workspace))
        made.append(harness)
        return await harness.start()

    yield make
    for harness in made:
        await harness.close()
