"""What ``web_search`` and ``web_fetch`` share: their settings and how sizes are shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ml_intern_tui.core.tool import ToolContext

if TYPE_CHECKING:
    from ml_intern_tui.config.schema import WebConfig


def web_config(explicit: WebConfig | None, ctx: ToolContext) -> WebConfig:
    """The ``[web]`` settings: given to the tool, else the session's, else the defaults."""
    from ml_intern_tui.config.schema import WebConfig

    if explicit is not None:
        return explicit
    found = getattr(ctx.services.settings, "web", None)
    return found if isinstance(found, WebConfig) else WebConfig()


def size_text(n: int) -> str:
    """``2.1 MB``, ``340 kB``, ``512 bytes``."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1000:
        return f"{n / 1000:.0f} kB"
    return f"{n} bytes"
