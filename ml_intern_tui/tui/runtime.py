"""What the TUI needs from the agent runtime: a bus, a place for ops, and the settings.

The TUI is typed against this protocol rather than ``ml_intern_tui.runtime.agent`` so it stays
light to import and can be driven by a fake runtime in tests. The settings are the
validated ``AppConfig`` (tests build real ones): the UI reads its fields, with no
defaults of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel

from ml_intern_tui.core.bus import EventBus

if TYPE_CHECKING:
    from ml_intern_tui.config.schema import AppConfig


class Runtime(Protocol):
    """The agent runtime as the UI sees it: a bus to read and a place to submit ops.

    Optional, read with ``getattr``: ``project_trust`` (a ``safety.trust_store.ProjectTrust``;
    when it ``asks``, the app shows the trust question before calling ``run``),
    ``async answer_trust(answer) -> (level, text)`` and ``warnings`` (lines to show).
    """

    bus: EventBus
    settings: AppConfig

    def submit(self, op: BaseModel) -> None: ...

    async def run(self) -> None: ...

    async def warm_up(self) -> None: ...
