"""A fake Hub with Spaces, a job registry and a sandbox manager wired together (tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakes.http_server import FakeHTTPServer
from fakes.hub_spaces import FAST, FakeSpaces, install_spaces

from ml_intern_tui.config.space_schema import SpaceSandboxConfig
from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.protocol import EventBase
from ml_intern_tui.integrations.hub import HubClient
from ml_intern_tui.jobs.registry import JobRegistry
from ml_intern_tui.spaces.hub_spaces import SpaceHub
from ml_intern_tui.spaces.manager import SandboxManager


@dataclass
class SpaceRig:
    server: FakeHTTPServer
    spaces: FakeSpaces
    hub: HubClient
    jobs: JobRegistry
    manager: SandboxManager
    events: list[EventBase]
    spend: SpendTracker


def make_rig(
    server: FakeHTTPServer, tmp_path: Path, *, budget: float | None = None, **options: Any
) -> SpaceRig:
    config = options.pop("config", SpaceSandboxConfig())
    timing = options.pop("timing", FAST)
    spaces = install_spaces(server, **options)
    hub = HubClient(server.base_url, token="hf_fake")
    events: list[EventBase] = []
    spend = SpendTracker()

    def publish(event: EventBase) -> None:
        events.append(event)
        if getattr(event, "type", "") == "job_updated":
            spend.set_job_cost(event.job_id, event.cost_usd)  # type: ignore[attr-defined]

    jobs = JobRegistry(publish, tmp_path / "logs", batch_interval_s=0.02, session_id="s1")
    manager = SandboxManager(
        SpaceHub(hub), jobs, config, publish, spend=spend, budget_usd=lambda: budget, timing=timing
    )
    return SpaceRig(server, spaces, hub, jobs, manager, events, spend)
