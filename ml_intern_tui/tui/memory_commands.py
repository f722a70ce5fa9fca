"""``/init`` (the agent drafts an AGENTS.md) and ``/memory`` (edit it in ``$EDITOR``)."""

from __future__ import annotations

import os
import shlex
import subprocess
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from ml_intern_tui.core import protocol as p

if TYPE_CHECKING:
    from ml_intern_tui.tui.app import MLInternApp

INIT_PROMPT = """\
Write an AGENTS.md at the root of this project for future sessions (or improve the one \
that exists). Look at the repository first: its layout, README, how to install, build, \
run and test it, the data and models it uses, conventions you can see in the code, and \
anything a newcomer would trip on. Keep it short (under about 120 lines of Markdown), \
factual and specific to this project: commands in backticks, no generic advice. Show me \
the file when it is written."""


def project_dir(app: MLInternApp) -> Path:
    """The session's working directory (``ready`` says it), else the app's."""
    cwd = app.session_view.cwd
    return Path(cwd) if cwd and Path(cwd).is_dir() else Path.cwd()


async def run_init(app: MLInternApp, arg: str) -> None:
    if app.busy:
        app.local_notice("The agent is working: /init when the turn ends.", "warning")
        return
    app.busy = True
    extra = f"\n\nAlso: {arg.strip()}" if arg.strip() else ""
    app.submit(p.UserInput(text=INIT_PROMPT + extra))


def editor_command() -> list[str]:
    """``$VISUAL`` or ``$EDITOR`` (with its arguments), else ``vi``."""
    raw = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        return shlex.split(raw) or ["vi"]
    except ValueError:
        return ["vi"]


def edit_suspended(app: MLInternApp, command: list[str]) -> int:
    """Run the editor with the terminal handed back to it (the app waits, as a shell does)."""
    suspended: AbstractContextManager[None] = app.suspend()
    with suspended:
        return subprocess.run(command, check=False).returncode


async def run_memory(app: MLInternApp, arg: str) -> None:
    """Open the project's memory file in the editor, the app suspended meanwhile."""
    from ml_intern_tui.core.project_memory import editable_path

    path = editable_path(project_dir(app))
    command = [*editor_command(), str(path)]
    try:
        returncode = edit_suspended(app, command)
    except Exception as exc:  # no terminal to give the editor (a test, a web driver)
        app.local_notice(
            f"Could not open an editor here: {exc or type(exc).__name__}.",
            "error",
            hint=f"Edit {path} yourself; it is read at the start of each session.",
        )
        return
    if returncode != 0:
        app.local_notice(f"The editor exited with status {returncode}.", "warning")
    elif path.exists():
        app.local_notice(
            f"Project memory: {path}. It goes into the prompt from the next session (/new).",
            "success",
        )
