"""Slash commands: names, help and completion (the palette offers the same actions)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SlashCommand:
    """One ``/command``: what it is called, how it is used, what it does."""

    name: str
    usage: str
    help: str
    choices: str | None = None
    """Name of the argument list the app can complete (``models``, ``themes``...)."""


COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand("help", "/help", "Keys and commands"),
    SlashCommand("model", "/model [id]", "Switch the model (picker without an id)", "models"),
    SlashCommand("mode", "/mode ask|auto|yolo", "Set the approval mode", "modes"),
    SlashCommand(
        "effort",
        "/effort [minimal|low|medium|high|xhigh|max|off]",
        "Set the reasoning effort (shows what the model takes without a level)",
        "efforts",
    ),
    SlashCommand("budget", "/budget USD|off", "Set the spending budget for this session"),
    SlashCommand("compact", "/compact [focus]", "Compact the context now (optional focus)"),
    SlashCommand("undo", "/undo", "Undo the last turn (or the last compaction)"),
    SlashCommand("new", "/new", "Start a new session"),
    SlashCommand(
        "resume",
        "/resume [id]",
        "Resume a saved session (the sessions browser without an id)",
        "sessions",
    ),
    SlashCommand(
        "sessions", "/sessions [search]", "Browse saved sessions: resume, fork, delete, export"
    ),
    SlashCommand("jobs", "/jobs", "Show and focus the jobs pane"),
    SlashCommand("permissions", "/permissions", "List and remove remembered approvals"),
    SlashCommand("mcp", "/mcp", "MCP servers: state, tools, last error; r reconnects"),
    SlashCommand("theme", "/theme [name]", "Switch theme and save the choice", "themes"),
    SlashCommand("status", "/status", "Model, mode, session, context and jobs"),
    SlashCommand("cost", "/cost", "What this session has spent"),
    SlashCommand(
        "export",
        "/export [--format md|trace] [path]",
        "Write the transcript as Markdown, or the session trace as JSONL",
    ),
    SlashCommand(
        "share-traces",
        "/share-traces [public|private]",
        "Upload this session's trace now, or set your traces dataset's visibility",
    ),
    SlashCommand("copy", "/copy [code [N]|all]", "Copy the last answer, a code block, or all"),
    SlashCommand("init", "/init [focus]", "Ask the agent to draft the project's AGENTS.md"),
    SlashCommand("memory", "/memory", "Edit the project memory (AGENTS.md) in $EDITOR"),
    SlashCommand("quit", "/quit", "Quit (the session is saved)"),
)
BY_NAME = {command.name: command for command in COMMANDS}


def parse(text: str) -> tuple[str, str] | None:
    """``"/model gpt-4o"`` → ``("model", "gpt-4o")``; ``None`` when it is not a command."""
    text = text.strip()
    if not text.startswith("/") or text.startswith("//") or "\n" in text:
        return None
    name, _, arg = text[1:].partition(" ")
    return name.lower(), arg.strip()


@dataclass(frozen=True)
class Completion:
    """A candidate for the completion popup: the full text it puts in the prompt."""

    text: str
    label: str
    help: str = ""


def complete(text: str, arg_choices: Callable[[str], list[str]]) -> list[Completion]:
    """Candidates for what is typed so far: command names, then argument values."""
    if not text.startswith("/") or "\n" in text:
        return []
    body = text[1:]
    if " " not in body:
        prefix = body.lower()
        return [
            Completion(f"/{c.name}", c.usage, c.help) for c in COMMANDS if c.name.startswith(prefix)
        ]
    name, _, arg = body.partition(" ")
    command = BY_NAME.get(name.lower())
    if command is None or command.choices is None:
        return []
    needle = arg.strip().lower()
    return [
        Completion(f"/{command.name} {value}", value)
        for value in arg_choices(command.choices)
        if needle in value.lower()
    ][:50]
