"""What each slash command does: submit an op, open a picker, or answer from UI state."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Literal

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.export_paths import export_path
from ml_intern_tui.tui.commands import command
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


async def run_slash(app: MLInternApp, name: str, arg: str) -> None:
    """Run ``/name arg``: a built-in's handler, or a custom command's prompt."""
    entry = app.commands.get(name)
    if entry is None:
        app.local_notice(
            f"Unknown command /{name}.",
            "error",
            hint="Type / to see the commands, F1 for help.",
        )
        return
    await entry.handler(app, arg)


async def _pick(
    app: MLInternApp, title: str, values: list[tuple[str, str]], current: str | None
) -> str | None:
    result: str | None = await app.push_screen_wait(PickerScreen(title, values, current=current))
    return result


# ----------------------------------------------------------------- commands


@command("help", "/help", "Keys and commands")
async def cmd_help(app: MLInternApp, arg: str) -> None:
    app.action_help()


@command("model", "/model [id]", "Switch the model (picker without an id)", choices="models")
async def cmd_model(app: MLInternApp, arg: str) -> None:
    if not arg:
        arg = await _pick_model(app) or ""
    if arg:
        app.submit(p.SetModel(model=arg))


async def _pick_model(app: MLInternApp) -> str | None:
    """The model picker: ids at once, catalog facts (providers, $/M, window, tools)
    filled in when the ``model_catalog`` answer arrives."""
    current = app.session_view.model
    models = [m for m in dict.fromkeys([current, *app.suggested_models()]) if m]
    picker = PickerScreen("Model", [(m, m) for m in models], current=current)
    picker.footnote = "checking the router catalog…"
    app.model_picker = picker
    app.submit(p.ListModels())
    try:
        return await app.push_screen_wait(picker)
    finally:
        app.model_picker = None


@command("mode", "/mode ask|auto|yolo", "Set the approval mode", choices="modes")
async def cmd_mode(app: MLInternApp, arg: str) -> None:
    arg = arg.lower()
    if not arg:
        values = [(m, f"{m}  —  {MODE_HELP[m]}") for m in MODES]
        arg = await _pick(app, "Approval mode", values, app.session_view.mode) or ""
        if not arg:
            return
    if arg not in MODES:
        app.local_notice(f"Unknown mode {arg!r}.", "error", hint="Use ask, auto or yolo.")
        return
    app.submit(p.SetMode(mode=arg))  # type: ignore[arg-type]


@command(
    "effort",
    "/effort [minimal|low|medium|high|xhigh|max|off]",
    "Set the reasoning effort (shows what the model takes without a level)",
    choices="efforts",
)
async def cmd_effort(app: MLInternApp, arg: str) -> None:
    from ml_intern_tui.core.effort import parse_level
    from ml_intern_tui.tui.widgets.header import effort_report

    if not arg:
        app.local_notice(
            effort_report(app.session_view.effort),
            hint="/effort minimal|low|medium|high|xhigh|max|off",
        )
        return
    try:
        level = parse_level(arg)
    except ValueError as exc:
        app.local_notice(f"{exc}.", "error", hint="/effort minimal|low|medium|high|xhigh|max|off")
        return
    app.submit(p.SetEffort(level=level))


@command("budget", "/budget USD|off", "Set the spending budget for this session")
async def cmd_budget(app: MLInternApp, arg: str) -> None:
    view = app.session_view
    if not arg:
        budget = "none" if view.budget_usd is None else format_usd(view.budget_usd)
        spent = spend_figure(view.spend)
        app.local_notice(f"Budget {budget}; spent {spent}.", hint="/budget USD or /budget off")
        return
    if arg.lower() in {"off", "none", "0"}:
        app.submit(p.SetBudget(budget_usd=None))
        return
    try:
        amount = float(arg.lstrip("$").replace(",", ""))
    except ValueError:
        amount = -1.0
    if amount <= 0:
        app.local_notice(
            f"Not a budget: {arg!r}.",
            "error",
            hint="e.g. /budget 5 (US dollars) or /budget off",
        )
        return
    app.submit(p.SetBudget(budget_usd=amount))


@command("compact", "/compact [focus]", "Compact the context now (optional focus)")
async def cmd_compact(app: MLInternApp, arg: str) -> None:
    app.submit(p.Compact(focus=arg or None))


@command("undo", "/undo", "Undo the last turn (or the last compaction)")
async def cmd_undo(app: MLInternApp, arg: str) -> None:
    app.submit(p.Undo())


@command("new", "/new", "Start a new session")
async def cmd_new(app: MLInternApp, arg: str) -> None:
    app.submit(p.New())


@command(
    "resume",
    "/resume [id]",
    "Resume a saved session (the sessions browser without an id)",
    choices="sessions",
)
async def cmd_resume(app: MLInternApp, arg: str) -> None:
    if not arg:
        arg = await _browse_sessions(app) or ""
    if arg:
        app.submit(p.Resume(session_id=arg))


@command("sessions", "/sessions [search]", "Browse saved sessions: resume, fork, delete, export")
async def cmd_sessions(app: MLInternApp, arg: str) -> None:
    resume = await _browse_sessions(app, search=arg)
    if resume:
        app.submit(p.Resume(session_id=resume))


async def _browse_sessions(app: MLInternApp, search: str = "") -> str | None:
    """Open the sessions browser; the id of the session to resume, if one was chosen."""
    from ml_intern_tui.tui.screens.sessions import SessionsScreen

    screen = SessionsScreen(
        app.submit, current=app.session_view.session_id, clock=app.clock, search=search
    )
    return await app.push_screen_wait(screen)


@command("jobs", "/jobs", "Show and focus the jobs pane")
async def cmd_jobs(app: MLInternApp, arg: str) -> None:
    app.show_side(True)
    app.jobs.job_list.focus()


@command("permissions", "/permissions", "List and remove remembered approvals")
async def cmd_permissions(app: MLInternApp, arg: str) -> None:
    app.permissions_requested = True
    app.submit(p.ListPermissions())


@command("mcp", "/mcp", "MCP servers: state, tools, last error; r reconnects")
async def cmd_mcp(app: MLInternApp, arg: str) -> None:
    from ml_intern_tui.tui.screens.mcp import McpScreen

    if not isinstance(app.screen, McpScreen):
        reconnect = lambda name: app.submit(p.McpReconnect(server=name))  # noqa: E731
        await app.push_screen(McpScreen(app.mcp_board, reconnect))


@command("sandbox", "/sandbox [stop]", "The remote sandbox: hardware, stage, cost; stop deletes it")
async def cmd_sandbox(app: MLInternApp, arg: str) -> None:
    from ml_intern_tui.tui.sandbox_command import run_sandbox_command

    run_sandbox_command(arg, app.submit, app.local_notice)


@command("theme", "/theme [name]", "Switch theme and save the choice", choices="themes")
async def cmd_theme(app: MLInternApp, arg: str) -> None:
    names = sorted(app.available_themes)
    if not arg:
        arg = await _pick(app, "Theme", [(n, n) for n in names], app.theme) or ""
        if not arg:
            return
    if arg not in app.available_themes:
        app.local_notice(f"No theme {arg!r}.", "error", hint="Pick one with /theme.")
        return
    app.theme = arg
    await app.save_setting("ui.theme", arg, f"Theme {arg}")


@command("status", "/status", "Model, mode, session, context and jobs")
async def cmd_status(app: MLInternApp, arg: str) -> None:
    from ml_intern_tui.tui.widgets.header import effort_report

    view = app.session_view
    lines = [
        f"Model {view.model} · mode {view.mode} · session {view.session_id}",
        effort_report(view.effort),
        f"Context {format_tokens(view.used)}/{format_tokens(view.limit)} tokens"
        + (f" (compacts at {format_tokens(view.threshold)})" if view.threshold else ""),
        f"Spend {spend_figure(view.spend)}"
        + (f" of {format_usd(view.budget_usd)}" if view.budget_usd is not None else ""),
        f"Jobs: {app.jobs.running_count} running of {len(app.jobs.jobs)}",
        f"Sandbox: {app.sandbox_summary}",
        f"Working directory {view.cwd}",
    ]
    trust = getattr(app.runtime, "project_trust", None)
    if trust is not None:
        lines.append(trust.status())
    from ml_intern_tui.core.project_memory import memory_status
    from ml_intern_tui.tui.memory_commands import project_dir

    lines.append(await asyncio.to_thread(memory_status, project_dir(app)))
    app.local_notice("\n".join(lines))


@command("cost", "/cost", "What this session has spent")
async def cmd_cost(app: MLInternApp, arg: str) -> None:
    app.local_notice(cost_report(app.session_view.spend))


@command(
    "export",
    "/export [--format md|trace] [path]",
    "Write the transcript as Markdown, or the session trace as JSONL",
)
async def cmd_export(app: MLInternApp, arg: str) -> None:
    fmt, arg = parse_export_args(arg)
    if fmt is None:
        app.local_notice(
            "Unknown export format.", "error", hint="/export [--format md|trace] [path]"
        )
        return
    if fmt == "trace":
        _export_trace(app, arg)
        return
    path = export_path(arg, app.session_view.cwd, app.session_view.session_id)
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


VISIBILITIES: dict[str, Literal["public", "private"] | None] = {
    "": None,  # upload this session now
    "public": "public",
    "private": "private",
}


def _export_trace(app: MLInternApp, arg: str) -> None:
    """Ask the trace service to write this session's trace (it answers with a notice)."""
    session_id = app.session_view.session_id
    path = export_path(arg, app.session_view.cwd, session_id, suffix=".jsonl")
    app.submit(p.ExportTrace(session_id=session_id, path=str(path.absolute())))


@command(
    "share-traces",
    "/share-traces [public|private]",
    "Upload this session's trace now, or set your traces dataset's visibility",
)
async def cmd_share_traces(app: MLInternApp, arg: str) -> None:
    choice = arg.strip().lower()
    if choice not in VISIBILITIES:
        app.local_notice(
            f"Not a visibility: {arg!r}.",
            "error",
            hint="/share-traces uploads this session; /share-traces public|private",
        )
        return
    visibility = VISIBILITIES[choice]
    app.submit(p.ShareTraces(session_id=app.session_view.session_id, visibility=visibility))


@command("copy", "/copy [code [N]|all]", "Copy the last answer, a code block, or all")
async def cmd_copy(app: MLInternApp, arg: str) -> None:
    from ml_intern_tui.tui.copying import run_copy

    await run_copy(app, arg)


@command("init", "/init [focus]", "Ask the agent to draft the project's AGENTS.md")
async def cmd_init(app: MLInternApp, arg: str) -> None:
    from ml_intern_tui.tui.memory_commands import run_init

    await run_init(app, arg)


@command("memory", "/memory", "Edit the project memory (AGENTS.md) in $EDITOR")
async def cmd_memory(app: MLInternApp, arg: str) -> None:
    from ml_intern_tui.tui.memory_commands import run_memory

    await run_memory(app, arg)


@command("login", "/login", "Store a Hugging Face token (typed in a hidden field)")
async def cmd_login(app: MLInternApp, arg: str) -> None:
    from ml_intern_tui.tui.screens.login import run_login

    await run_login(app, arg)


# Commands kept in their own modules register on import, here in the /help order.
from ml_intern_tui.tui import slack_command  # noqa: E402, F401


@command("quit", "/quit", "Quit (the session is saved)")
async def cmd_quit(app: MLInternApp, arg: str) -> None:
    app.action_quit_app()
