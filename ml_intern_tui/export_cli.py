"""``ml-intern-tui export SESSION [--format md|trace] [-o PATH]``: a saved session, outside
the app.

SESSION is what ``--resume`` takes: an id, a unique prefix, ``last``, or a journal's path.
Markdown is the app's ``/export`` transcript and goes to stdout unless ``-o`` names a
file; ``trace`` is the Claude Code JSONL that ``/export --format trace`` writes (the Hub's
Agent Trace Viewer reads it) and goes to ``ml-intern-<id>.jsonl`` here unless ``-o`` says
otherwise (``-o -`` is stdout). Both are scrubbed of secrets and, on stdout, hold nothing
a terminal would act on. A session that cannot be found or read is one line, exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_USAGE = 2
FORMATS = {"md": "md", "markdown": "md", "trace": "trace", "jsonl": "trace"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"ml-intern-tui export: {message} (see ml-intern-tui export --help)\n")
        sys.exit(EXIT_USAGE)


def build_export_parser() -> argparse.ArgumentParser:
    """The ``export`` subcommand's arguments (also read by the completion scripts)."""
    parser = _Parser(
        prog="ml-intern-tui export",
        description="Write a saved session as Markdown or as a trace (Claude Code JSONL).",
    )
    parser.add_argument("session", metavar="SESSION", help="id, unique prefix, 'last' or a path")
    parser.add_argument(
        "-f",
        "--format",
        choices=sorted(FORMATS),
        default="md",
        help="md (default, to stdout) or trace (JSONL, to ml-intern-<id>.jsonl)",
    )
    parser.add_argument("-o", "--output", metavar="PATH", help="where to write ('-' for stdout)")
    parser.add_argument(
        "--cwd", type=Path, metavar="DIR", help="project whose config names the sessions folder"
    )
    return parser


def export_main(argv: list[str]) -> int:
    """Run ``export``; returns the exit code."""
    args = build_export_parser().parse_args(argv)
    from ml_intern_tui.core.journal import JournalError
    from ml_intern_tui.core.saved_sessions import find_session

    cwd = (args.cwd or Path.cwd()).resolve()
    if not cwd.is_dir():
        return _fail(f"--cwd {cwd} is not a directory")
    directory = _sessions_dir(cwd)
    if isinstance(directory, str):
        return _fail(directory)
    try:
        journal = find_session(directory, args.session)
        data = _render(journal, FORMATS[args.format])
    except JournalError as exc:
        return _fail(f"cannot export: {exc}")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return _fail(f"cannot read the session {args.session!r}: {exc}")
    target = args.output
    if target is None and FORMATS[args.format] == "trace":
        target = f"ml-intern-{journal.name.removesuffix('.jsonl')}.jsonl"
    if target in (None, "-"):
        _to_stdout(data, trace=FORMATS[args.format] == "trace")
        return EXIT_OK
    path = Path(target).expanduser()
    path = path if path.is_absolute() else cwd / path
    try:
        _write(path, data)
    except OSError as exc:
        return _fail(f"could not write {path}: {exc.strerror or exc}; give another path with -o")
    sys.stderr.write(f"ml-intern-tui: wrote {path}\n")
    return EXIT_OK


def _sessions_dir(cwd: Path) -> Path | str:
    """The sessions folder the config names (or the default); a config problem as text."""
    from ml_intern_tui.config import ConfigError, load_config

    try:
        loaded = load_config(cwd=cwd, cli_overrides={}, trust="stored")
    except ConfigError as exc:
        return exc.problems[0] if exc.problems else "the configuration is not valid"
    from ml_intern_tui.paths import configured_sessions_dir

    return configured_sessions_dir(loaded.settings)


def _render(journal: Path, fmt: str) -> bytes:
    if fmt == "trace":
        from ml_intern_tui.traces.export import trace_bytes

        return trace_bytes(journal)
    from ml_intern_tui.core.transcript import saved_transcript

    return saved_transcript(journal).markdown().encode("utf-8")


def _to_stdout(data: bytes, *, trace: bool) -> None:
    from ml_intern_tui.safety.terminal import json_terminal_safe, terminal_safe

    text = data.decode("utf-8")
    if trace:  # still the same JSON, with what a terminal acts on escaped
        text = "".join(json_terminal_safe(line) + "\n" for line in text.splitlines())
    else:
        text = terminal_safe(text)
    sys.stdout.write(text)
    sys.stdout.flush()


def _write(path: Path, data: bytes) -> None:
    """Write atomically, owner-only (a transcript may quote private work)."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _fail(message: str) -> int:
    from ml_intern_tui.safety.terminal import terminal_safe

    sys.stderr.write(f"ml-intern-tui export: {terminal_safe(message)}\n")
    return EXIT_USAGE
