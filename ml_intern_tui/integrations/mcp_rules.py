"""What counts as what for MCP connections: where the HF token may go, which errors mean
"reconnect", which mean "give up", and how a failure reads in one line.

Kept apart from the manager (``mcp.py``) so these rules can be read and tested alone.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from ml_intern_tui.core.redact import redact_text

if TYPE_CHECKING:
    from ml_intern_tui.config.schema import McpServerConfig

HF_HOST = "huggingface.co"
TASK_ONLY_NOTE = (
    'runs only as an MCP task (execution.taskSupport = "required"), which ml-intern '
    "does not support yet: not offered to the model"
)
"""Why a task-only tool is missing, for ``/mcp`` (a plain call would be refused)."""


class PermanentError(Exception):
    """A failure that retrying cannot fix (missing command, refused credentials)."""


class HttpError(Exception):
    """The server answered with an HTTP error status (the MCP SDK hides the code)."""

    HINTS: ClassVar[dict[int, str]] = {
        401: "check the server's headers or token",
        403: "check the server's headers or token",
        404: "check the url",
    }

    def __init__(self, status: int, reason: str) -> None:
        hint = self.HINTS.get(status)
        super().__init__(f"HTTP {status} {reason}".strip() + (f"; {hint}" if hint else ""))
        self.status = status


def may_send_hf_token(url: str, hub_endpoint: str) -> bool:
    """True when ``url`` is on huggingface.co (https), a subdomain, or the Hub endpoint."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme == "https" and (host == HF_HOST or host.endswith("." + HF_HOST)):
        return True
    hub = urlsplit(hub_endpoint)
    if not hub.hostname or not host:
        return False
    default = {"http": 80, "https": 443}
    try:
        ours = (parts.scheme, host, parts.port or default.get(parts.scheme))
        theirs = (hub.scheme, hub.hostname.lower(), hub.port or default.get(hub.scheme))
    except ValueError:  # a port that is not a number
        return False
    return ours == theirs


def withheld_note(remote: Any) -> str:
    """Why the model is not offered ``remote`` (an MCP ``Tool``), or "" when it is.

    MCP 2025-11-25 servers mark tools that must be called as tasks (call, then poll for
    the result) with ``execution.taskSupport = "required"`` and refuse a plain call; we
    make plain calls only. "optional" tools take a plain call and are offered. The
    2026-07-28 protocol has no such field (tasks became an extension we do not declare).
    """
    support = getattr(getattr(remote, "execution", None), "task_support", None)
    return TASK_ONLY_NOTE if support == "required" else ""


def describe_target(cfg: McpServerConfig) -> str:
    """What the server is, for the status line: the URL without its query, or the command."""
    if cfg.url is not None:
        parts = urlsplit(cfg.url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"
    text = shlex.join([cfg.command or "", *cfg.args])
    return redact_text(text if len(text) <= 120 else text[:119] + "…")


def describe_error(exc: BaseException) -> str:
    """One line a person can act on, from whatever a connection attempt raised."""
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return str(exc) or "timed out"
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    message = str(exc).strip() or type(exc).__name__
    message = message.removeprefix("Client failed to connect: ")
    cause = exc.__cause__
    if message == "Failed to initialize server session" and cause is not None:
        message = f"{message}: {describe_error(cause)}"
    line = " ".join(message.split())
    return redact_text(line if len(line) <= 300 else line[:299] + "…")


def is_timeout(exc: BaseException) -> bool:
    code = getattr(getattr(exc, "error", None), "code", None)
    return code == -32001 or isinstance(exc, asyncio.TimeoutError | TimeoutError)


def is_connection_error(exc: BaseException) -> bool:
    """The session is gone (closed, refused, reset, HTTP session lost): reconnect."""
    import anyio
    import httpx2

    code = getattr(getattr(exc, "error", None), "code", None)
    if code == -32000:  # CONNECTION_CLOSED
        return True
    if isinstance(exc, httpx2.TransportError | httpx2.HTTPStatusError):
        return True
    if isinstance(exc, anyio.ClosedResourceError | anyio.BrokenResourceError | OSError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and any(
        words in text for words in ("failed to connect", "unexpectedly", "not connected")
    )


def is_permanent(exc: BaseException) -> bool:
    import httpx2

    if isinstance(exc, PermanentError):
        return True
    if isinstance(exc, HttpError):
        return exc.status in HttpError.HINTS
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, httpx2.HTTPStatusError):
            return cause.response.status_code in (401, 403, 404)
        if isinstance(cause, FileNotFoundError | PermissionError):
            return True
        cause = cause.__cause__
    return False


def resolve_command(command: str, cwd: Path, path: str | None) -> str:
    """The executable ``command`` names, or ``PermanentError`` saying it is missing."""
    if os.sep in command:
        candidate = Path(command).expanduser()
        candidate = candidate if candidate.is_absolute() else cwd / candidate
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    else:
        found = shutil.which(command, path=path)
        if found:
            return found
    raise PermanentError(f"command not found: {command}")
