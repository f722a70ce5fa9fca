"""What the TUI needs from the agent runtime, and the settings it reads.

The TUI is typed against this protocol rather than ``ml_intern_tui.runtime.agent`` so it stays
light to import and can be driven by a fake runtime in tests. Settings are read with
defaults so the UI keeps working while the config schema grows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.safety.terminal import terminal_safe
from ml_intern_tui.tui.attention import NOTIFY_MODES, NotifyMode


class Runtime(Protocol):
    """The agent runtime as the UI sees it: a bus to read and a place to submit ops.

    Optional, read with ``getattr``: ``project_trust`` (a ``safety.trust_store.ProjectTrust``;
    when it ``asks``, the app shows the trust question before calling ``run``),
    ``async answer_trust(answer) -> (level, text)`` and ``warnings`` (lines to show).
    """

    bus: EventBus
    settings: Any

    def submit(self, op: BaseModel) -> None: ...

    async def run(self) -> None: ...

    async def warm_up(self) -> None: ...


DEFAULT_MAX_CHAT_BLOCKS = 400


@dataclass(frozen=True)
class UIPrefs:
    """The settings the TUI reads, with defaults for anything missing."""

    model: str = ""
    mode: str = "ask"
    budget_usd: float | None = None
    theme: str = "ml-intern-dark"
    show_reasoning: bool = True
    max_chat_blocks: int = DEFAULT_MAX_CHAT_BLOCKS
    notify: NotifyMode = "auto"
    keymap: dict[str, str] = field(default_factory=dict)
    suggested_models: list[str] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: Any) -> UIPrefs:
        ui = getattr(settings, "ui", None)
        keymap = getattr(settings, "keymap", None) or {}
        if isinstance(keymap, BaseModel):
            keymap = keymap.model_dump()
        max_blocks = getattr(ui, "max_chat_blocks", None) or DEFAULT_MAX_CHAT_BLOCKS
        # Config text is shown before any event: terminal-safe like everything drawn.
        return cls(
            model=terminal_safe(str(getattr(settings, "model", "") or "")),
            mode=str(getattr(settings, "mode", "ask") or "ask"),
            budget_usd=getattr(settings, "budget_usd", None),
            theme=str(getattr(ui, "theme", None) or cls.theme),
            show_reasoning=bool(getattr(ui, "show_reasoning", True)),
            max_chat_blocks=max(10, int(max_blocks)),
            notify=_notify_mode(getattr(ui, "notify", None)),
            keymap={str(k): str(v) for k, v in dict(keymap).items() if v},
            suggested_models=[
                terminal_safe(str(m)) for m in (getattr(settings, "suggested_models", None) or [])
            ],
        )


def _notify_mode(value: Any) -> NotifyMode:
    """``[ui] notify`` as one of its modes (the schema checked it; a fake may not have)."""
    for mode in NOTIFY_MODES:
        if value == mode:
            return mode
    return "auto"
