"""The app's exit on signals: SIGTERM quits cleanly; SIGHUP (terminal or SSH connection
gone) also stops drawing, because nobody is there to see it.

Without this the process dies at once: the session's last events are not journaled, and
local jobs and MCP servers (each in its own process group, so the hangup does not reach
them) live on with no one to stop them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ml_intern_tui.tui.app import MLInternApp

HANGUP_GRACE_S = 12.0
"""After a hang-up, how long the core may take to stop servers before the process leaves."""


def install(app: MLInternApp) -> None:
    """Route SIGHUP and SIGTERM to the app's clean exit."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGHUP, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, _on_signal, app, sig)


def _on_signal(app: MLInternApp, sig: int) -> None:
    app._exit_code = 128 + sig
    if sig == signal.SIGHUP:
        hang_up(app)
    app.action_quit_app()


def hang_up(app: MLInternApp) -> None:
    """The terminal is gone: stop drawing, let the core shut down, then leave at once.

    Textual's own exit restores the terminal by writing to it, and with the terminal gone
    those writes can block the loop for good: the core's shutdown (journal, jobs, MCP
    servers) would never finish. So nothing is drawn any more, and the process exits as
    soon as the runtime has stopped (or after the grace period).
    """
    app._hung_up = True
    driver = app._driver
    if driver is not None:
        driver.write = lambda data: None  # type: ignore[method-assign]
    # No one waits at a dead terminal: the core may take its time to stop servers.
    app.set_timer(HANGUP_GRACE_S, lambda: os._exit(app._exit_code))
    if not app._serving:
        os._exit(app._exit_code)
