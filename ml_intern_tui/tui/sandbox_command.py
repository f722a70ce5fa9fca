"""``/sandbox``: how the remote sandbox Space is doing, and ``/sandbox stop`` to delete it.

The screen never calls the sandbox service: it submits ``space_sandbox_status``
or ``space_sandbox_stop`` and the manager answers with a notice (hardware, Hub stage, $/h, cost so
far, lifetime left; or what the stop deleted).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ml_intern_tui.core.space_ops import SpaceSandboxStatus, SpaceSandboxStop

USAGE = "/sandbox shows the sandbox; /sandbox stop deletes its Space"


def run_sandbox_command(
    arg: str, submit: Callable[[Any], None], notice: Callable[..., None]
) -> None:
    """Submit the op ``/sandbox ARG`` asks for, or say (one line) how it is used."""
    word = arg.strip().lower()
    if word in ("", "status"):
        submit(SpaceSandboxStatus())
    elif word in ("stop", "delete"):
        submit(SpaceSandboxStop())
    else:
        notice(f"Unknown /sandbox argument {arg.strip()!r}.", "error", hint=USAGE)
