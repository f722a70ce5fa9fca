"""A runtime for UI tests: a real EventBus, scripted events in, submitted ops recorded."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel

from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.paths import configured_sessions_dir
from ml_intern_tui.services.session_browser import SessionBrowser

T0 = 1_700_000_000.0
"""A fixed timestamp so elapsed times on screen are deterministic."""


TEST_SETTINGS: dict[str, Any] = {
    "model": "test/model",
    "suggested_models": ["test/model", "test/other"],
}
"""What UI tests run with unless they say otherwise (every other setting: its default)."""


def make_config(**overrides: Any) -> AppConfig:
    """A real, validated ``AppConfig``: the test settings with ``overrides`` on top.

    Tables merge key by key: ``make_config(ui={"theme": "midnight"})`` keeps the other
    ``[ui]`` settings at their defaults.
    """
    values: dict[str, Any] = {**TEST_SETTINGS}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            value = {**values[key], **value}
        values[key] = value
    return AppConfig.model_validate(values)


class FakeRuntime:
    """Publishes what a test scripts; answers by itself only Ready, Shutdown and the
    sessions browser's ops (with the core's own service, on the configured directory)."""

    def __init__(self, settings: AppConfig | None = None, *, session_id: str = "s-test") -> None:
        self.bus = EventBus()
        self.settings = settings or make_config()
        self.session_id = session_id
        self.ops: list[BaseModel] = []
        self.warmed = False
        self._stop = asyncio.Event()
        self.running = False
        self.at_start: list[p.EventBase] = []
        """What ``run`` publishes first instead of a fresh ``ready`` (``--resume``)."""
        self.sessions = SessionBrowser(
            lambda: configured_sessions_dir(self.settings),
            current=lambda: self.session_id,
            cwd=lambda: "/work/project",
            publish=self.publish,
        )

    def submit(self, op: BaseModel) -> None:
        self.ops.append(op)
        if self.sessions.handle_op(op):
            return
        if isinstance(op, p.Shutdown):
            self._stop.set()

    def publish(self, *events: p.EventBase) -> None:
        for event in events:
            if not event.session_id:
                event.session_id = self.session_id
            if event.ts == 0 or event.ts > T0 + 10_000:
                event.ts = T0
            self.bus.publish(event)

    def ready(self, **kw: Any) -> p.Ready:
        values: dict[str, Any] = {
            "model": self.settings.model,
            "mode": self.settings.mode,
            "tools": ["bash", "read"],
            "cwd": "/work/project",
            "context_limit": 128_000,
        }
        values.update(kw)
        return p.Ready(**values)

    async def run(self) -> None:
        self.running = True
        self.publish(*(self.at_start or [self.ready()]))
        await self._stop.wait()
        self.publish(p.ShutdownEvent())
        self.bus.close()
        self.running = False

    async def warm_up(self) -> None:
        self.warmed = True

    def resumed(
        self,
        session_id: str,
        *,
        ts: float = T0,
        context: tuple[int, int, int] = (500, 1_000, 900),
        chat_blocks: int | None = None,
    ) -> list[p.EventBase]:
        """What the core publishes when it resumes ``session_id``, made by the core's code.

        The journal and the jobs' log files are read here, as the core reads them (the
        UI must not: it only gets these events). Publish them with ``publish``.
        """
        from ml_intern_tui.core.cost import SpendTracker
        from ml_intern_tui.core.journal import load
        from ml_intern_tui.core.resume import restore_spend, session_history
        from ml_intern_tui.core.saved_sessions import find_session
        from ml_intern_tui.jobs.registry import JobRegistry
        from ml_intern_tui.paths import data_dir, sessions_dir

        loaded = load(find_session(sessions_dir(), session_id))
        jobs = JobRegistry(lambda _event: None, log_dir=data_dir() / "jobs")
        blocks = chat_blocks if chat_blocks is not None else self.settings.ui.max_chat_blocks
        history = session_history(loaded.events, chat_blocks=blocks, log_tail=jobs.saved_log_tail)
        history.session_id = session_id
        spend = SpendTracker()
        restore_spend(spend, loaded.events)
        messages = sum(1 for r in loaded.records if r.get("kind") == "message")
        used, limit, threshold = context
        return [
            self.ready(resumed=True, messages=messages, session_id=session_id, ts=ts),
            history,
            p.ContextUsage(used=used, limit=limit, threshold=threshold, ts=ts),
            spend.event(None).model_copy(update={"ts": ts}),
            p.Notice(
                text=f"Resumed session {session_id} ({messages} messages, openai/gpt-4o).", ts=ts
            ),
        ]

    def ops_of(self, kind: type[BaseModel]) -> list[Any]:
        return [op for op in self.ops if isinstance(op, kind)]
