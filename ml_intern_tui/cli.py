"""Command line: ``ml-intern-tui [prompt]``.

Without a prompt it opens the full-screen app; with one it runs headless (plain text, or
JSON lines with ``--json``). This module imports only the standard library at import
time so ``--help`` and ``--version`` answer instantly; everything else is imported once
the arguments are known.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ml_intern_tui import __version__
from ml_intern_tui.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

DESCRIPTION = """\
An autonomous ML-engineering agent for the Hugging Face ecosystem, in your terminal.
Without a prompt: the full-screen app. With a prompt: headless, prints the answer.
"""

EPILOG = """\
exit codes: 0 done · 1 agent error · 2 usage or config error ·
            3 stopped: an approval a person must give, or over budget · 130 interrupted

examples:
  ml-intern-tui                              open the app
  ml-intern-tui --demo                       the app on the offline scripted demo
  ml-intern-tui -p "fine-tune a small model on imdb" --mode auto
  ml-intern-tui --model vllm/qwen3 "hello" --json
  ml-intern-tui --resume last "continue"
  git diff | ml-intern-tui -p "review this diff"      piped text is appended to the prompt
  ml-intern-tui export last --format trace -o run.jsonl   a saved session, outside the app
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line: what is wrong, what to do.
        sys.stderr.write(f"ml-intern-tui: {message} (see ml-intern-tui --help)\n")
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ml-intern-tui",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "prompt",
        nargs="?",
        help="run headless with this prompt ('-' reads it from stdin; text piped next to a "
        "prompt is appended to it)",
    )
    parser.add_argument(
        "-p",
        "--prompt",
        dest="prompt_opt",
        metavar="TEXT",
        help="same as the positional prompt ('-p -' reads it from stdin)",
    )
    parser.add_argument(
        "-m", "--model", help="model id (org/name via the HF router, vllm/NAME, ollama/NAME, …)"
    )
    parser.add_argument("--mode", choices=["ask", "auto", "yolo"], help="approval mode")
    parser.add_argument("--budget", type=_usd, metavar="USD", help="spending cap in US dollars")
    parser.add_argument(
        "--max-iterations",
        type=_positive_int,
        metavar="N",
        help="model calls per turn (default 300)",
    )
    parser.add_argument(
        "--no-stream", action="store_true", help="ask the model for whole answers, not streams"
    )
    parser.add_argument(
        "--json", action="store_true", help="headless: print every event as one JSON line"
    )
    parser.add_argument(
        "--json-history",
        action="store_true",
        help="with --json and --resume: also print the resumed session's past "
        "(one 'history' line after 'ready'; implies --json)",
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const="last",
        metavar="SESSION",
        help="resume a session (id, prefix or 'last')",
    )
    parser.add_argument(
        "--list-sessions", action="store_true", help="list stored sessions, newest first"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use the offline scripted demo model in a temporary workspace",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="with --demo: keep the demo's temporary workspace at exit (it is removed otherwise)",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="with --list-sessions: also list the demo's sessions (hidden otherwise)",
    )
    parser.add_argument(
        "--cwd", type=Path, metavar="DIR", help="working directory for the agent (default: here)"
    )
    parser.add_argument(
        "--trust-project",
        action="store_true",
        help="apply, for this run, the settings of .ml-intern/config.toml that need your trust "
        "(mode, rules, MCP servers, …); without it they ask in the app and are ignored headless",
    )
    parser.add_argument(
        "--completion",
        choices=["bash", "zsh", "fish"],
        help="print a shell completion script (bash: source <(ml-intern-tui --completion bash))",
    )
    parser.add_argument(
        "--sandbox",
        nargs="?",
        const="",
        metavar="HARDWARE",
        help="create a remote sandbox on a private HF Space at start (t4-small, a10g-large, "
        "…; default: [sandbox.space] hardware); deleted at exit",
    )
    parser.add_argument("--debug", action="store_true", help="log to stderr and show tracebacks")
    parser.add_argument("--version", action="version", version=f"ml-intern-tui {__version__}")
    return parser


def _usd(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--budget expects a number of US dollars, got {text!r}"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError("--budget must be more than 0")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


SUBCOMMANDS = ("export", "sandboxes")
"""First words that name a subcommand, not a prompt (``-p export`` is still a prompt)."""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "export":
        from ml_intern_tui.export_cli import export_main

        try:
            return export_main(argv[1:])
        except BrokenPipeError:
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_OK
    if argv and argv[0] == "sandboxes":
        from ml_intern_tui.sandboxes_cli import sandboxes_main

        try:
            return sandboxes_main(argv[1:])
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `ml-intern-tui --list-sessions | head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    if args.completion:
        from ml_intern_tui.completion import script_for

        sys.stdout.write(script_for(args.completion))
        return EXIT_OK
    from ml_intern_tui import envdefaults

    envdefaults.apply()
    _setup_logging(args.debug)
    cwd = (args.cwd or Path.cwd()).resolve()
    if not cwd.is_dir():
        return _fail(f"--cwd {cwd} is not a directory", EXIT_USAGE)

    from ml_intern_tui.config import ConfigError, load_config

    overrides: dict[str, object] = {}
    for key, value in (
        ("model", args.model),
        ("mode", args.mode),
        ("budget_usd", args.budget),
        ("max_iterations", args.max_iterations),
    ):
        if value is not None:
            overrides[key] = value
    if args.no_stream:
        overrides["stream"] = False
    if args.sandbox is not None:  # the remote sandbox Space, made at start
        overrides["sandbox.space.at_start"] = True
        if args.sandbox:
            overrides["sandbox.space.hardware"] = args.sandbox
    try:
        loaded = load_config(
            cwd=cwd, cli_overrides=overrides, trust="trust" if args.trust_project else "stored"
        )
    except ConfigError as exc:
        for line in exc.problems:  # may quote a (hostile) project file: shown terminal-safe
            _fail(line, EXIT_USAGE)
        return EXIT_USAGE
    settings = loaded.settings

    if args.list_sessions:
        return _list_sessions(settings, include_demo=args.all)
    if args.resume:
        from ml_intern_tui.core.journal import JournalError
        from ml_intern_tui.core.saved_sessions import find_session
        from ml_intern_tui.paths import configured_sessions_dir

        try:
            find_session(configured_sessions_dir(settings), args.resume)
        except JournalError as exc:
            return _fail(str(exc), EXIT_USAGE)

    if not args.demo:
        from ml_intern_tui.core.models import validate_model_id

        problem = validate_model_id(settings.model)
        if problem:
            return _fail(problem, EXIT_USAGE)

    try:
        prompt = _read_prompt(args)
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE)
    if prompt is not None and not args.demo:
        problem = _router_model_problem(settings)
        if problem:
            return _fail(f"--model: {problem}", EXIT_USAGE)

    if prompt is None:
        problem = _terminal_problem()
        if problem:
            return _fail(problem, EXIT_USAGE)
    elif not args.demo:
        from ml_intern_tui.core.first_run import headless_credential_lines

        for line in headless_credential_lines(settings.model, settings):
            sys.stderr.write(_safe(line) + "\n")

    from ml_intern_tui.runtime.agent import build_runtime

    runtime = build_runtime(settings, cwd=cwd, demo=args.demo, resume=args.resume, loaded=loaded)
    try:
        return _serve(args, runtime, prompt, loaded)
    finally:
        if args.demo:
            _end_demo(runtime.cwd, keep=args.keep)


def _end_demo(workspace: Path, *, keep: bool) -> None:
    """Remove the demo's temporary workspace, or say where it was kept."""
    from ml_intern_tui.demo.workspace import remove_demo_workspace

    if keep:
        sys.stderr.write(f"ml-intern-tui: the demo's workspace is kept in {workspace}\n")
    elif not remove_demo_workspace(workspace):
        sys.stderr.write(f"ml-intern-tui: could not remove the demo's workspace {workspace}\n")


def _serve(args: argparse.Namespace, runtime: Any, prompt: str | None, loaded: Any) -> int:
    """Run the headless prompt or the app on ``runtime``."""
    if prompt is not None:
        from ml_intern_tui.headless import run_headless

        for warning in loaded.warnings:
            sys.stderr.write(f"ml-intern-tui: warning: {warning}\n")
        if loaded.trust is not None and loaded.trust.asks:
            sys.stderr.write(f"ml-intern-tui: {loaded.trust.headless_line()}\n")

        return run_headless(
            runtime, prompt, json_mode=args.json or args.json_history, history=args.json_history
        )
    from ml_intern_tui.tui.app import run_app

    return int(run_app(runtime))


def _read_prompt(args: argparse.Namespace) -> str | None:
    """The headless prompt: the argument, ``-`` for stdin, and piped input appended.

    Raises ``ValueError`` with the one line to print (binary input, nothing to read).
    """
    from ml_intern_tui.stdin_prompt import (
        StdinError,
        read_stdin,
        stdin_is_piped,
        truncation_notice,
        with_piped_input,
    )

    prompt: str | None = args.prompt_opt if args.prompt_opt is not None else args.prompt
    piped = stdin_is_piped()
    if prompt is None and (args.demo or sys.stdin.isatty()):
        return None  # the app
    if (prompt == "-" or prompt is None) and not piped:
        if prompt == "-":
            raise ValueError(
                "-p - reads the prompt from stdin, but nothing is piped in: "
                "echo 'your prompt' | ml-intern-tui -p -"
            )
        raise ValueError("no prompt: pass one as an argument or with -p")
    try:
        read = read_stdin() if piped else None
    except StdinError as exc:
        raise ValueError(str(exc)) from None
    if read is not None and read.truncated:
        sys.stderr.write(f"ml-intern-tui: {truncation_notice()}\n")
    if prompt == "-" or prompt is None:
        text = read.text.strip() if read is not None else ""
        if not text:
            raise ValueError("no prompt: stdin was empty; pass one as an argument or with -p")
        return text
    if not prompt.strip():
        raise ValueError("the prompt is empty; pass some text with -p")
    return with_piped_input(prompt, read.text) if read is not None else prompt


def _terminal_problem() -> str | None:
    """Why the full-screen app cannot draw here (no terminal, or a dumb one), with the fix."""
    import os

    headless = "run headless instead: ml-intern-tui -p 'your prompt' (see --help)"
    if not sys.stdout.isatty() or not sys.stdin.isatty():
        return f"the app needs a terminal (stdin and stdout are not one); {headless}"
    term = os.environ.get("TERM", "")
    if term in ("dumb", "unknown"):  # Emacs shells, some CI consoles: no cursor movement
        return f"this terminal cannot show the full-screen app (TERM={term}); {headless}"
    return None


def _safe(text: str) -> str:
    from ml_intern_tui.safety.terminal import terminal_safe

    return terminal_safe(text)


def _router_model_problem(settings: object) -> str | None:
    """A headless run on a router model the router does not list: one line (the catalog
    is read from the disk cache, or fetched; offline it cannot tell and says nothing)."""
    from ml_intern_tui.core.models import resolve_model

    model = str(getattr(settings, "model", ""))
    llm = getattr(settings, "llm", None)
    base = str(getattr(llm, "hf_router_base", ""))
    try:
        route = resolve_model(model, env={}, router_base=base)
    except ValueError:
        return None
    if route.kind != "router":
        return None
    from ml_intern_tui.integrations.router_catalog import unknown_model_problem
    from ml_intern_tui.paths import cache_dir

    return unknown_model_problem(base, cache_dir(), model)


def _list_sessions(settings: object, *, include_demo: bool = False) -> int:
    from ml_intern_tui.core.saved_sessions import list_sessions
    from ml_intern_tui.paths import configured_sessions_dir

    directory = configured_sessions_dir(settings)
    sessions = list_sessions(directory, include_demo=include_demo)
    if not sessions:
        print(f"No sessions in {directory}.")
        return EXIT_OK
    from ml_intern_tui.safety.terminal import terminal_safe

    for info in sessions:
        cost = f"${info.cost_usd or 0:.2f}"
        if info.unpriced_calls:  # never $0.00 for calls nobody could price
            cost = "unpriced" if not info.cost_usd else f"{cost}+unpriced"
        print(
            terminal_safe(
                f"{info.session_id}  {info.messages:>4} msgs  {cost}  {info.model}  {info.title}"
            )
        )
    return EXIT_OK


def _fail(message: str, code: int) -> int:
    from ml_intern_tui.safety.terminal import terminal_safe

    sys.stderr.write(f"ml-intern-tui: {terminal_safe(message)}\n")
    return code


def _setup_logging(debug: bool) -> None:
    import logging

    if debug:
        logging.basicConfig(
            level=logging.DEBUG, format="%(asctime)s %(name)s %(levelname)s %(message)s"
        )
    else:
        logging.basicConfig(level=logging.CRITICAL)
        logging.getLogger("ml_intern_tui").setLevel(logging.CRITICAL)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
