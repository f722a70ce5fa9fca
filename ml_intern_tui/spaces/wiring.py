"""How the app wires the remote sandbox: one manager per session, a background service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ml_intern_tui.core.protocol import EventBase
from ml_intern_tui.spaces.hub_spaces import SpaceHub
from ml_intern_tui.spaces.manager import SandboxManager, Timing


def sandbox_manager(
    settings: Any,
    *,
    jobs: Any,
    hub: Any,
    publish: Callable[[EventBase], None],
    spend: Any,
    budget_usd: Callable[[], float | None],
) -> SandboxManager:
    """The session's sandbox manager (nothing touches the Hub until a sandbox is asked for)."""
    space = settings.sandbox.space
    manager = SandboxManager(
        SpaceHub(hub),
        jobs,
        space,
        publish,
        spend=spend,
        budget_usd=budget_usd,
        timing=Timing.every(space.poll_s),
    )
    manager.autostart = space.hardware if space.at_start else None
    return manager


def space_sandbox_tools() -> list[Any]:
    """``sandbox_create`` (bash/read/write/edit reach the sandbox with ``target``)."""
    from ml_intern_tui.tools.sandbox_create import SandboxCreateTool

    return [SandboxCreateTool()]
