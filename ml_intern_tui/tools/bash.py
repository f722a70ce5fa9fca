"""``bash``: run a shell command on this machine, in the foreground or as a background job.

Unlike the retired CLI (blocking ``subprocess.run``, no approvals), the command runs as
an asyncio subprocess in its own process group: a timeout or an interrupt kills the
whole group, children included. Commands run in the OS sandbox when there is one
(``bash_sandbox``), with the environment minus its secrets. Commands the shell analysis
(``safety.shell_analysis``, on the tree-sitter bash grammar) shows to only read run
without asking; everything else needs a ``local`` approval, leaving the sandbox
(network, writes elsewhere, no sandbox on this machine) an ``unsandboxed`` one, and what
cannot be undone (``rm -rf`` outside the project, ``git push --force``…) an
``irreversible`` one, which ``auto`` never grants by itself.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ml_intern_tui.core.protocol import Risk
from ml_intern_tui.core.tool import (
    ApprovalKind,
    ApprovalRequest,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
    require,
)
from ml_intern_tui.jobs.local import (
    DEFAULT_KILL_GRACE_S,
    Launch,
    LineSplitter,
    OutputCollector,
    kill_on_cancel,
    kill_process_group,
    spawn_shell,
    wait_exit,
)
from ml_intern_tui.safety import shell_analysis
from ml_intern_tui.safety.git_arming import Snapshot
from ml_intern_tui.safety.sandbox import Placement
from ml_intern_tui.safety.shell_analysis import (
    DEFAULT_READONLY_ALLOWLIST as DEFAULT_READONLY_ALLOWLIST,
)
from ml_intern_tui.safety.shell_analysis import CommandAnalysis, analyse_command
from ml_intern_tui.tools.bash_sandbox import (
    disarm_git_traps,
    git_snapshot,
    how_it_ran,
    launch_for,
    placement_for,
    sandbox_hint,
)
from ml_intern_tui.tools.files import plural

_ASSIGNMENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def classify_command(
    command: str, allowlist: tuple[str, ...] | list[str], *, cwd: Path | None = None
) -> str | None:
    """``None`` when the command only reads; otherwise why it needs approval."""
    where = Path.cwd() if cwd is None else cwd
    return analyse_command(command, cwd=where, allowlist=allowlist).read_only_reason


def command_parts(command: str) -> list[str]:
    """The simple commands of a shell chain (``a && b | c`` → three) as canonical text, for
    matching remembered approvals one by one; empty (nothing can match) when the script
    hides what it runs (substitutions, subshells, functions, here-documents, …)."""
    return shell_analysis.command_parts(command)


def command_risk(command: str) -> Risk:
    """``high`` for commands that delete, destroy or cannot be undone, else ``medium``."""
    return shell_analysis.command_risk(command, cwd=Path.cwd())


def scope_pattern(command: str) -> str:
    """The glob a remembered approval stores: leading assignments, program, subcommand
    (of the command's canonical text, which is what remembered rules are matched with)."""
    parts = command_parts(command)
    words = (parts[0] if len(parts) == 1 else command).split()
    if not words:
        return command
    i = 0
    while i < len(words) - 1 and _ASSIGNMENT_RE.match(words[i]):
        i += 1
    keep = words[: i + 1]
    if i + 1 < len(words) and not words[i + 1].startswith("-"):
        return " ".join([*keep, words[i + 1]]) + "*"
    return " ".join(keep) + (" *" if len(words) > len(keep) else "")


def one_line(text: str, limit: int = 100) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    if len(first) > limit or "\n" in text.strip():
        return first[: limit - 1].rstrip() + "…"
    return first


_process_files: Path | None = None


def process_files_dir() -> Path:
    """A private directory (mode 0700, unguessable name) removed when the process exits:
    where spilled output goes for a session that is not journaled."""
    global _process_files
    if _process_files is None or not _process_files.is_dir():
        _process_files = Path(tempfile.mkdtemp(prefix="ml-intern-tui-"))
        atexit.register(shutil.rmtree, _process_files, ignore_errors=True)
    return _process_files


class BashArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str = Field(min_length=1, description="The shell command to run (bash syntax).")
    description: str | None = Field(
        None, description="What the command does, in 5-10 words (shown to the user)."
    )
    timeout: int | None = Field(
        None,
        ge=1,
        description="Seconds before the command is killed. Ignored when background=true.",
    )
    work_dir: str | None = Field(
        None, description="Directory to run in, relative to the project directory (default: it)."
    )
    background: bool = Field(
        False,
        description=(
            "Run as a background job and return at once with its job id; follow it with the "
            "jobs tool. Use it for training, long downloads, servers."
        ),
    )
    network: bool = Field(
        False,
        description=(
            "True when the command needs the network: pip install, git clone, downloads. "
            "It may need the user's approval."
        ),
    )
    outside_sandbox: bool = Field(
        False,
        description=(
            "True only when the command must write outside the project and its tmp; it "
            "then needs the user's approval."
        ),
    )
    target: Literal["local", "sandbox"] = Field(
        "local",
        description='"sandbox": in the remote sandbox Space made by sandbox_create '
        "(paths relative to /app there); default: this machine.",
    )


class BashTool(Tool):
    """Run shell commands; read-only ones without approval."""

    name = "bash"
    description = (
        "Run a shell command on the user's machine. stdout and stderr are merged; the "
        "output is cut when long (the full text is saved to a file you can read). Use "
        "background=true for anything that may run longer than a few minutes, then the "
        "jobs tool to follow it. Prefer the read/write/edit tools for files. Commands may "
        "run in an OS sandbox (each result says how it ran): there they can write only the "
        "project and /tmp, and have no network unless you set network=true."
    )
    Args = BashArgs

    def __init__(
        self,
        *,
        timeout_s: int = 120,
        max_timeout_s: int = 3600,
        readonly_allowlist: list[str] | None = None,
        spill_dir: Path | None = None,
        kill_grace_s: float = DEFAULT_KILL_GRACE_S,
        progress_interval_s: float = 0.5,
        pass_env: list[str] | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self.max_timeout_s = max_timeout_s
        self.allowlist = tuple(
            DEFAULT_READONLY_ALLOWLIST if readonly_allowlist is None else readonly_allowlist
        )
        self.spill_dir = spill_dir
        self.kill_grace_s = kill_grace_s
        self.progress_interval_s = progress_interval_s
        self.pass_env = tuple(pass_env or ())
        self._decided: dict[str, tuple[str, Path, Placement]] = {}

    def spec(self) -> dict[str, Any]:
        spec = super().spec()
        props = spec["function"]["parameters"]["properties"]
        props["timeout"]["description"] = (
            f"Seconds before the command is killed (default {self.timeout_s}, max "
            f"{self.max_timeout_s}). Ignored when background=true."
        )
        return spec

    # ------------------------------------------------------------ approval

    def approval(self, args: BashArgs, ctx: ToolContext) -> ApprovalRequest | None:
        if args.target == "sandbox":
            from ml_intern_tui.spaces import remote

            return remote.bash_approval(args, ctx, self.allowlist)
        work_dir = self._work_dir(args, ctx, check=False)
        analysis = self._analyse(args, ctx, work_dir)
        place = self._placement(args, ctx, analysis)
        self._remember_placement(ctx.call_id, args, work_dir, place)
        if place.refused:
            return None  # run() refuses it without running anything
        reason = analysis.read_only_reason
        if reason is None and not place.asks:
            return None
        # What cannot be undone asks in auto whatever the sandbox could contain; leaving
        # the sandbox asks too (both run in yolo). A protected path written, or a
        # credential read, outside the sandbox (whose mounts keep the first read-only
        # and hide the second) asks in every mode, yolo included.
        protected = None if place.sandboxed else (analysis.protected or analysis.credential_read)
        kind: ApprovalKind = (
            "protected" if protected else "irreversible" if analysis.irreversible else place.kind
        )
        # A rule remembered for contained work never approves what cannot be undone:
        # 'rm build/tmp.txt*' must not cover 'rm build/tmp.txt -rf ~'.
        operation = f"{place.operation}_irreversible" if analysis.irreversible else place.operation
        irreversible = analysis.irreversible if analysis.irreversible and not protected else ""
        # The policy words the kind ("this call cannot be undone (…)"); the details say it.
        needs = "; ".join(part for part in (protected or "", irreversible, place.reason) if part)
        said = f"cannot be undone: {irreversible}" if irreversible else ""
        explained = "; ".join(part for part in (protected or "", said, place.reason) if part)
        how = (
            "background job (no timeout; follow it with the jobs tool)"
            if args.background
            else f"timeout {args.timeout or self.timeout_s}s"
        )
        where = f"\nruns {place.label}" if place.label else ""
        why = "; ".join(part for part in (reason, explained) if part)
        details = f"$ {args.command}\n\nin {work_dir}\n{how}{where}\nneeds approval: {why}"
        if args.description:
            details = f"{args.description}\n\n{details}"
        return ApprovalRequest(
            kind=kind,
            title=f"Run: {one_line(args.command)}",
            details=details,
            risk=analysis.risk,
            reason=needs,
            operation=operation,
            scope_value=args.command,
            scope_pattern=scope_pattern(args.command),
            scope_parts=analysis.parts,
        )

    # ----------------------------------------------------------------- run

    async def run(self, args: BashArgs, ctx: ToolContext) -> ToolResult:
        if args.target == "sandbox":
            from ml_intern_tui.spaces import remote

            return await remote.bash(args, ctx, self.timeout_s, self.max_timeout_s)
        work_dir = self._work_dir(args, ctx, check=True)
        place = self._decided_placement(ctx.call_id, args, work_dir)
        if place is None:
            place = self._placement(args, ctx, self._analyse(args, ctx, work_dir))
        if place.refused:
            raise ToolError(place.refused)
        launch = launch_for(ctx, place, cwd=work_dir, pass_env=self.pass_env)
        timeout = args.timeout or self.timeout_s
        if not args.background and timeout > self.max_timeout_s:
            raise ToolError(
                f"timeout {timeout}s is above the limit of {self.max_timeout_s}s; "
                "run long work with background=true"
            )
        before = await git_snapshot(ctx, place)
        if args.background:
            return await self._start_background(args, ctx, work_dir, launch, place, before)
        result = await self._run_foreground(args.command, work_dir, timeout, ctx, launch)
        hint = sandbox_hint(result.output, place, ctx) if not result.ok else ""
        disarmed = await disarm_git_traps(ctx, before)
        ran = how_it_ran(place)
        result.output += "".join(f"\n\n{line}" for line in (hint, disarmed, ran) if line)
        if not place.sandboxed and place.label:
            result.summary += " · OUTSIDE the sandbox"
        return result

    def _remember_placement(
        self, call_id: str, args: BashArgs, work_dir: Path, place: Placement
    ) -> None:
        """Keep what approval decided, so the run uses that and nothing a concurrent job
        changed in between (and the analysis, with its git calls, runs once)."""
        self._decided[call_id] = (args.command, work_dir, place)
        while len(self._decided) > 256:
            self._decided.pop(next(iter(self._decided)))

    def _decided_placement(self, call_id: str, args: BashArgs, work_dir: Path) -> Placement | None:
        decided = self._decided.pop(call_id, None)
        if decided is None or decided[:2] != (args.command, work_dir):
            return None
        return decided[2]

    def _analyse(self, args: BashArgs, ctx: ToolContext, work_dir: Path) -> CommandAnalysis:
        return analyse_command(
            args.command, cwd=work_dir, allowlist=self.allowlist, project=ctx.cwd
        )

    def _placement(self, args: BashArgs, ctx: ToolContext, analysis: CommandAnalysis) -> Placement:
        # A command the analysis sees using the network (curl, pip install, git clone)
        # gets it, and asks for it, as if the model had set network=true.
        wants_network = args.network or analysis.network
        return placement_for(ctx, network=wants_network, outside=args.outside_sandbox)

    def _work_dir(self, args: BashArgs, ctx: ToolContext, *, check: bool) -> Path:
        if not args.work_dir:
            return ctx.cwd
        path = Path(args.work_dir).expanduser()
        path = (path if path.is_absolute() else ctx.cwd / path).resolve()
        if check and not path.is_dir():
            raise ToolError(f"work_dir {args.work_dir} is not a directory ({path})")
        return path

    async def _start_background(
        self,
        args: BashArgs,
        ctx: ToolContext,
        work_dir: Path,
        launch: Launch,
        place: Placement,
        before: Snapshot | None,
    ) -> ToolResult:
        jobs = require(ctx.services.jobs, "jobs")
        title = args.description or one_line(args.command, 60)

        async def after_job(record: Any, code: int) -> list[str]:
            # What the foreground path adds to a result, at the end of the job's log.
            tail = "\n".join(getattr(record, "tail", ()))
            hint = sandbox_hint(tail, place, ctx) if code != 0 else ""
            disarmed = await disarm_git_traps(ctx, before)
            return [line for text in (hint, disarmed) if text for line in text.splitlines()]

        try:
            record = await jobs.start_local(
                args.command, work_dir, title, launch=launch, on_exit=after_job
            )
        except OSError as exc:
            raise ToolError(f"could not start the job: {exc}") from exc
        where = f", {place.label}" if place.label else ""
        output = (
            f"Started background job {record.id} (pid {record.pid}) in {work_dir}{where}.\n"
            f"Full log: {record.log_path}\n"
            f'Follow it with the jobs tool: jobs(operation="logs", job_id="{record.id}") for '
            f'the latest lines, operation="wait" to wait for it, operation="cancel" to stop it.'
        )
        return ToolResult(
            summary=f"started {record.id}",
            output=output,
            data={"job_id": record.id, "log_path": str(record.log_path)},
        )

    def _spill_path(self, ctx: ToolContext) -> Path:
        """A new file for a long output: in the session's own directory next to its
        journal (deleted with the session), else in a private temporary directory that
        goes when the process exits. The text written there is redacted."""
        base = ctx.services.spill_dir or self.spill_dir or ctx.files_dir
        directory = Path(base) if base is not None else process_files_dir()
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, name = tempfile.mkstemp(prefix="bash-output-", suffix=".txt", dir=directory)
        os.close(handle)
        return Path(name)

    async def _run_foreground(
        self, command: str, work_dir: Path, timeout: int, ctx: ToolContext, launch: Launch
    ) -> ToolResult:
        started = time.monotonic()
        spawning = asyncio.ensure_future(spawn_shell(command, work_dir, launch=launch))
        try:
            proc = await asyncio.shield(spawning)
        except asyncio.CancelledError:
            # The shell may already run while asyncio still wires its pipes: finish the
            # spawn so the group can be killed instead of orphaned.
            with contextlib.suppress(OSError):
                await kill_on_cancel(await spawning, self.kill_grace_s)
            raise
        except OSError as exc:
            raise ToolError(f"could not start the command: {exc}") from exc
        splitter = LineSplitter()
        collector = OutputCollector(ctx.output_budget, lambda: self._spill_path(ctx))
        last_progress = 0.0

        async def pump() -> None:
            nonlocal last_progress
            assert proc.stdout is not None
            while chunk := await proc.stdout.read(65536):
                collector.add(splitter.feed(chunk))
                now = time.monotonic()
                if collector.last_line and now - last_progress >= self.progress_interval_s:
                    last_progress = now
                    ctx.progress(one_line(collector.last_line, 200))
            collector.add(splitter.finish())

        reader = asyncio.create_task(pump())
        lingering = False
        try:
            exited = await wait_exit(proc, timeout)
            if not exited:
                await kill_process_group(proc, self.kill_grace_s)
            try:
                # A backgrounded grandchild ("cmd &") may hold the pipe open forever.
                await asyncio.wait_for(asyncio.shield(reader), 1.0)
            except TimeoutError:
                lingering = True
                reader.cancel()
                collector.add(splitter.finish())
                # Stop reading: close our end of the pipe (asyncio offers no public way).
                transport = getattr(proc, "_transport", None)
                if transport is not None:
                    transport.close()
        except asyncio.CancelledError:
            reader.cancel()
            await kill_on_cancel(proc, self.kill_grace_s)
            collector.close()
            raise
        elapsed = time.monotonic() - started
        code = proc.returncode
        hint = ""
        text, truncated = collector.text(
            hint=f"the command has finished; full output ({collector.lines} lines) saved to "
            f"{collector.spill_path} - read it with the read tool (offset/limit)"
        )
        if not text.strip():
            text = "(no output)"
        if not exited:
            hint = (
                f"\n\n[timed out after {timeout}s: the command and its child processes were "
                "stopped. For long-running work use background=true and follow it with the "
                "jobs tool.]"
            )
            summary = f"timed out after {timeout}s · {plural(collector.lines, 'line')}"
            return ToolResult(
                ok=False, summary=summary, output=text + hint, truncated=truncated, data=None
            )
        if lingering:
            hint += (
                "\n\n[a background process started by the command still holds its output; it "
                "was left running, unread. Start long-running processes with background=true.]"
            )
        if code != 0:
            hint += f"\n\n[exit code {code}]"
        summary = f"exit {code} · {plural(collector.lines, 'line')} · {elapsed:.1f}s"
        data = {"exit_code": code, "spill_path": str(collector.spill_path)} if truncated else None
        return ToolResult(
            ok=code == 0, summary=summary, output=text + hint, truncated=truncated, data=data
        )
