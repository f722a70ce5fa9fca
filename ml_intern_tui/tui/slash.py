"""What each slash command does: submit an op, open a picker, or answer from UI state."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.commands import BY_NAME
from ml_intern_tui.tui.formatting import format_tokens, format_usd
from ml_intern_tui.tui.money import cost_report, spend_figure
from ml_intern_tui.tui.screens.picker import PickerScreen

if TYPE_CHECKING:
    from ml_intern_tui.tui.app import MLInternApp

MODES: tuple[str, ...] = ("ask", "auto", "yolo")
MODE_HELP = {
    "ask": "ask before anything that costs money or changes files",
    "auto": "approve local work the rules allow; ask for the rest",
    "yolo": "approve everything within the budget, except always-manual operations",
}


def sessions_directory(settings: Any) -> Path:
    configured = getattr(getattr(settings, "sessions", None), "dir", None)
    if configured:
        return Path(configured)
    from ml_intern_tui.paths import sessions_dir

    return sessions_dir()


EXPORT_FORMATS = {"md": "md", "markdown": "md", "trace": "trace", "jsonl": "trace"}
_FORMAT_FLAG = r"(?:--format|-f)(?:=|\s+)(?P<fmt>\S+)"


def parse_export_args(arg: str) -> tuple[str | None, str]:
    """``--format trace out.jsonl`` → ``("trace", "out.jsonl")``; Markdown by default.

    The flag may come before or after the path; an unknown format gives ``None``.
    """
    rest, fmt = arg.strip(), "md"
    match = re.match(rf"^{_FORMAT_FLAG}(?:\s+(?P<rest>.*))?$", rest, re.S) or re.match(
        rf"^(?P<rest>.*?)\s+{_FORMAT_FLAG}$", rest, re.S
    )
    if match:
        fmt, rest = match.group("fmt"), match.group("rest") or ""
    return EXPORT_FORMATS.get(fmt.lower()), rest.strip()


def export_path(arg: str, cwd: str, session_id: str, suffix: str = ".md") -> Path:
    """Where ``/export [path]`` writes: relative paths are under the session's cwd."""
    base = Path(cwd or ".")
    if not arg:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return base / f"ml-intern-{session_id or 'session'}-{stamp}{suffix}"
    path = Path(arg).expanduser()
    return path if path.is_absolute() else base / path


class SlashRunner:
    """Runs ``/name arg`` against the app."""

    def __init__(self, app: MLInternApp) -> None:
        self.app = app

    async def run(self, name: str, arg: str) -> None:
        if name not in BY_NAME:
            self.app.local_notice(
                f"Unknown command /{name}.",
                "error",
                hint="Type / to see the commands, F1 for help.",
            )
            return
        handler = getattr(self, f"cmd_{name.replace('-', '_')}")
        await handler(arg)

    # ------------------------------------------------------------------ helpers

    def _submit(self, op: Any) -> None:
        self.app.submit(op)

    async def _pick(
        self, title: str, values: list[tuple[str, str]], current: str | None
    ) -> str | None:
        return await self.app.push_screen_wait(PickerScreen(title, values, current=current))

    # ----------------------------------------------------------------- commands

    async def cmd_help(self, arg: str) -> None:
        self.app.action_help()

    async def cmd_model(self, arg: str) -> None:
        if not arg:
            arg = await self._pick_model() or ""
        if arg:
            self._submit(p.SetModel(model=arg))

    async def _pick_model(self) -> str | None:
        """The model picker: ids at once, catalog facts (providers, $/M, window, tools)
        filled in when the ``model_catalog`` answer arrives."""
        app = self.app
        current = app.header.model
        models = [m for m in dict.fromkeys([current, *app.prefs.suggested_models]) if m]
        picker = PickerScreen("Model", [(m, m) for m in models], current=current)
        picker.footnote = "checking the router catalog…"
        app.model_picker = picker
        self._submit(p.ListModels())
        try:
            return await app.push_screen_wait(picker)
        finally:
            app.model_picker = None

    async def cmd_mode(self, arg: str) -> None:
        arg = arg.lower()
        if not arg:
            values = [(m, f"{m}  —  {MODE_HELP[m]}") for m in MODES]
            arg = await self._pick("Approval mode", values, self.app.header.mode) or ""
            if not arg:
                return
        if arg not in MODES:
            self.app.local_notice(f"Unknown mode {arg!r}.", "error", hint="Use ask, auto or yolo.")
            return
        self._submit(p.SetMode(mode=arg))  # type: ignore[arg-type]

    async def cmd_effort(self, arg: str) -> None:
        from ml_intern_tui.core.effort import parse_level
        from ml_intern_tui.tui.widgets.header import effort_report

        if not arg:
            self.app.local_notice(
                effort_report(self.app.header.effort),
                hint="/effort minimal|low|medium|high|xhigh|max|off",
            )
            return
        try:
            level = parse_level(arg)
        except ValueError as exc:
            self.app.local_notice(
                f"{exc}.", "error", hint="/effort minimal|low|medium|high|xhigh|max|off"
            )
            return
        self._submit(p.SetEffort(level=level))

    async def cmd_budget(self, arg: str) -> None:
        status = self.app.status
        if not arg:
            budget = "none" if status.budget_usd is None else format_usd(status.budget_usd)
            spent = spend_figure(status.spend)
            self.app.local_notice(
                f"Budget {budget}; spent {spent}.", hint="/budget USD or /budget off"
            )
            return
        if arg.lower() in {"off", "none", "0"}:
            self._submit(p.SetBudget(budget_usd=None))
            return
        try:
            amount = float(arg.lstrip("$").replace(",", ""))
        except ValueError:
            amount = -1.0
        if amount <= 0:
            self.app.local_notice(
                f"Not a budget: {arg!r}.",
                "error",
                hint="e.g. /budget 5 (US dollars) or /budget off",
            )
            return
        self._submit(p.SetBudget(budget_usd=amount))

    async def cmd_compact(self, arg: str) -> None:
        self._submit(p.Compact(focus=arg or None))

    async def cmd_undo(self, arg: str) -> None:
        self._submit(p.Undo())

    async def cmd_new(self, arg: str) -> None:
        self._submit(p.New())

    async def cmd_resume(self, arg: str) -> None:
        if not arg:
            arg = await self._browse_sessions() or ""
        if arg:
            self._submit(p.Resume(session_id=arg))

    async def cmd_sessions(self, arg: str) -> None:
        resume = await self._browse_sessions(search=arg)
        if resume:
            self._submit(p.Resume(session_id=resume))

    async def _browse_sessions(self, search: str = "") -> str | None:
        """Open the sessions browser; the id of the session to resume, if one was chosen."""
        from ml_intern_tui.tui.screens.sessions import SessionsScreen

        app = self.app
        screen = SessionsScreen(
            sessions_directory(app.runtime.settings),
            current=app.header.session_id,
            clock=app.clock,
            search=search,
            export_dir=app.header.cwd,
        )
        return await app.push_screen_wait(screen)

    async def cmd_jobs(self, arg: str) -> None:
        self.app.show_side(True)
        self.app.jobs.job_list.focus()

    async def cmd_permissions(self, arg: str) -> None:
        self.app.permissions_requested = True
        self._submit(p.ListPermissions())

    async def cmd_mcp(self, arg: str) -> None:
        from ml_intern_tui.tui.screens.mcp import McpScreen

        if not isinstance(self.app.screen, McpScreen):
            reconnect = lambda name: self._submit(p.McpReconnect(server=name))  # noqa: E731
            await self.app.push_screen(McpScreen(self.app.mcp_board, reconnect))

    async def cmd_theme(self, arg: str) -> None:
        app = self.app
        names = sorted(app.available_themes)
        if not arg:
            arg = await self._pick("Theme", [(n, n) for n in names], app.theme) or ""
            if not arg:
                return
        if arg not in app.available_themes:
            app.local_notice(f"No theme {arg!r}.", "error", hint="Pick one with /theme.")
            return
        app.theme = arg
        await app.save_setting("ui.theme", arg, f"Theme {arg}")

    async def cmd_status(self, arg: str) -> None:
        from ml_intern_tui.tui.widgets.header import effort_report

        app, status = self.app, self.app.status
        lines = [
            f"Model {app.header.model} · mode {app.header.mode} · session {app.header.session_id}",
            effort_report(app.header.effort),
            f"Context {format_tokens(status.used)}/{format_tokens(status.limit)} tokens"
            + (f" (compacts at {format_tokens(status.threshold)})" if status.threshold else ""),
            f"Spend {spend_figure(status.spend)}"
            + (f" of {format_usd(status.budget_usd)}" if status.budget_usd is not None else ""),
            f"Jobs: {app.jobs.running_count} running of {len(app.jobs.jobs)}",
            f"Sandbox: {app.sandbox_summary}",
            f"Working directory {app.header.cwd}",
        ]
        trust = getattr(app.runtime, "project_trust", None)
        if trust is not None:
            lines.append(trust.status())
        from ml_intern_tui.project_memory import memory_status
        from ml_intern_tui.tui.memory_commands import project_dir

        lines.append(await asyncio.to_thread(memory_status, project_dir(app)))
        app.local_notice("\n".join(lines))

    async def cmd_copy(self, arg: str) -> None:
        from ml_intern_tui.tui.copying import run_copy

        await run_copy(self.app, arg)

    async def cmd_init(self, arg: str) -> None:
        from ml_intern_tui.tui.memory_commands import run_init

        await run_init(self.app, arg)

    async def cmd_memory(self, arg: str) -> None:
        from ml_intern_tui.tui.memory_commands import run_memory

        await run_memory(self.app, arg)

    async def cmd_cost(self, arg: str) -> None:
        self.app.local_notice(cost_report(self.app.status.spend))

    async def cmd_export(self, arg: str) -> None:
        app = self.app
        fmt, arg = parse_export_args(arg)
        if fmt is None:
            app.local_notice(
                "Unknown export format.", "error", hint="/export [--format md|trace] [path]"
            )
            return
        if fmt == "trace":
            await self._export_trace(arg)
            return
        path = export_path(arg, app.header.cwd, app.header.session_id)
        try:
            written = await asyncio.to_thread(app.transcript.export, path)
        except OSError as exc:
            app.local_notice(
                f"Could not write {path}: {exc.strerror}",
                "error",
                hint="Give another path: /export PATH",
            )
            return
        app.local_notice(f"Transcript written to {written}", "success")

    async def _export_trace(self, arg: str) -> None:
        """Write this session's trace (Claude Code JSONL) from its journal."""
        from ml_intern_tui.core.journal import JournalError
        from ml_intern_tui.core.saved_sessions import find_session
        from ml_intern_tui.traces.export import write_trace

        app = self.app
        session_id = app.header.session_id
        path = export_path(arg, app.header.cwd, session_id, suffix=".jsonl")
        directory = sessions_directory(app.runtime.settings)
        try:
            if not session_id:
                raise JournalError("no session has started yet")
            journal = await asyncio.to_thread(find_session, directory, session_id)
            written = await asyncio.to_thread(write_trace, journal, path)
        except JournalError as exc:
            app.local_notice(
                f"No trace to export: {exc}",
                "error",
                hint="Traces are built from the session journal ([sessions] journal = true).",
            )
            return
        except OSError as exc:
            app.local_notice(
                f"Could not write {path}: {exc.strerror or exc}",
                "error",
                hint="Give another path: /export --format trace PATH",
            )
            return
        app.local_notice(
            f"Trace written to {written}",
            "success",
            hint="Claude Code JSONL: upload it to a Hub dataset to open it in the trace viewer.",
        )

    async def cmd_share_traces(self, arg: str) -> None:
        from ml_intern_tui.traces.service import TraceError, uploader_for

        app = self.app
        choice = arg.strip().lower()
        if choice not in ("", "public", "private"):
            app.local_notice(
                f"Not a visibility: {arg!r}.",
                "error",
                hint="/share-traces uploads this session; /share-traces public|private",
            )
            return
        uploader = uploader_for(app.runtime)
        try:
            if choice:
                text = await uploader.set_visibility(choice == "private")
            else:
                app.local_notice("Uploading this session's trace…")
                text = await uploader.share_now(app.header.session_id)
        except TraceError as exc:
            app.local_notice(str(exc), "error", hint="/share-traces tries again")
            return
        app.local_notice(text, "warning" if choice == "public" else "success")

    async def cmd_quit(self, arg: str) -> None:
        self.app.action_quit_app()
