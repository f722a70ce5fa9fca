"""Where a ``bash`` call runs: in the OS sandbox or outside, with or without the network.

The ``sandbox`` service (``safety.sandbox.Sandbox``) decides the placement from the
call's ``network`` / ``outside_sandbox`` requests and the ``[sandbox]`` settings; this
module turns it into a ``Launch`` for ``jobs.local`` and into the lines the model reads
afterwards: how the command ran, why it likely failed when the sandbox blocked it, and
the git traps it left that were disarmed (``safety.git_arming``).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from ml_intern_tui.core.protocol import Notice
from ml_intern_tui.core.tool import ToolContext
from ml_intern_tui.jobs.local import Launch
from ml_intern_tui.safety import git_arming
from ml_intern_tui.safety.git_arming import Snapshot
from ml_intern_tui.safety.sandbox import Placement, Sandbox

UNSANDBOXED = Placement(sandboxed=False, network=True)
"""No sandbox service in this context (tests, embedders): run as before, unconfined."""

_READ_ONLY_RE = re.compile(r"Read-only file system|EROFS", re.IGNORECASE)
_NETWORK_RE = re.compile(
    r"Network is unreachable|Temporary failure in name resolution|Could not resolve host"
    r"|Name or service not known|No address associated with hostname|getaddrinfo failed"
    r"|nodename nor servname|Failed to establish a new connection|Connection refused"
    r"|ENETUNREACH|EAI_AGAIN|ConnectionError|Could not fetch URL|NewConnectionError"
    r"|unable to access '.*': Could not|Failed to connect to",
    re.IGNORECASE,
)
_BWRAP_ERROR_RE = re.compile(r"^bwrap: ", re.MULTILINE)


def sandbox_of(ctx: ToolContext) -> Sandbox | None:
    """The session's sandbox service, when one is wired."""
    service = ctx.services.sandbox
    return service if isinstance(service, Sandbox) else None


def placement_for(ctx: ToolContext, *, network: bool, outside: bool) -> Placement:
    """Where a command with these requests runs in this session."""
    sandbox = sandbox_of(ctx)
    if sandbox is None:
        return UNSANDBOXED
    return sandbox.placement(network=network, outside=outside)


def launch_for(
    ctx: ToolContext, placement: Placement, *, cwd: Path, pass_env: tuple[str, ...]
) -> Launch:
    """The ``Launch`` that runs a command where ``placement`` says."""
    sandbox = sandbox_of(ctx)
    if sandbox is None or not placement.sandboxed:
        return Launch(pass_env=pass_env)
    wrapper = sandbox.wrapper(
        project=ctx.cwd, cwd=cwd, session_id=ctx.session_id, network=placement.network
    )
    return Launch(
        env=sandbox.environment(),
        pass_env=pass_env,
        wrapper=tuple(wrapper),
        seccomp=sandbox.seccomp_program(),
        preexec=sandbox.preexec(network=placement.network),
    )


def how_it_ran(placement: Placement) -> str:
    """The line added to a result (empty when there is no sandbox to speak of)."""
    return f"[ran {placement.label}]" if placement.label else ""


def sandbox_hint(output: str, placement: Placement, ctx: ToolContext) -> str:
    """One line explaining a failure the sandbox probably caused, or ``""``."""
    if not placement.sandboxed:
        return ""
    if _BWRAP_ERROR_RE.search(output):
        return (
            "[the sandbox could not start this command (the bwrap line above says why); "
            "tell the user, or set outside_sandbox=true to ask them to run it outside]"
        )
    blocked_write = bool(_READ_ONLY_RE.search(output))
    blocked_net = not placement.network and bool(_NETWORK_RE.search(output))
    if not (blocked_write or blocked_net):
        return ""
    sandbox = sandbox_of(ctx)
    if sandbox is not None and sandbox.network == "deny":
        return (
            "[ran in the sandbox: writes outside the project and its /tmp are blocked, and "
            "the user's settings deny the network; set outside_sandbox=true to ask the user "
            "to run it outside]"
        )
    return (
        "[ran in the sandbox: writes outside the project and its /tmp, and the network, are "
        "blocked; set network=true (downloads, pip install, git clone) or "
        "outside_sandbox=true (writes elsewhere) to ask the user]"
    )


async def git_snapshot(ctx: ToolContext, placement: Placement) -> Snapshot | None:
    """Before a sandboxed command: the git control files it could arm (see
    ``safety.git_arming``); ``None`` outside the sandbox (a person approved that)."""
    sandbox = sandbox_of(ctx)
    if sandbox is None or not placement.sandboxed:
        return None
    roots = [ctx.cwd, *(p for p in sandbox.writable_paths if p.exists())]
    return await asyncio.to_thread(Snapshot.take, roots)


async def disarm_git_traps(ctx: ToolContext, before: Snapshot | None) -> str:
    """After a sandboxed command: disarm the git traps it left, tell the user (a warning
    notice) and return the lines for the model (empty when there were none)."""
    if before is None:
        return ""
    traps = await asyncio.to_thread(git_arming.disarm, before)
    if not traps:
        return ""
    names = ", ".join(str(trap.path) for trap in traps)
    ctx.publish(
        Notice(
            level="warning",
            text=f"A sandboxed command left git settings that would run a program when you "
            f"use git here; disarmed: {names}",
        )
    )
    return git_arming.report(traps)
