"""``ml-intern-tui sandboxes [--delete] [--older-than HOURS] [--yes]``: sandbox Spaces
left on the Hub, outside the app.

A session deletes its sandbox Space at exit; a crash, a killed terminal or a Hub outage
can leave one behind, still billing. This lists the Spaces of this user (or of
``[sandbox.space] namespace``) named like a sandbox (``mlintern-sandbox-<8 hex>``, the
only names the app makes), with their age, and deletes them on request: ``--delete``
asks y/N on a terminal (``--yes`` does not ask; without a terminal it is required).
``--older-than`` keeps a sandbox a running session is using out of it. A Hub that
refuses (401, unreachable) or a bad config is one line, exit 2; a delete that fails is
one line per Space, exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
PROG = "ml-intern-tui sandboxes"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{PROG}: {message} (see {PROG} --help)\n")
        sys.exit(EXIT_USAGE)


def _hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of hours, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of hours >= 0, got {text!r}")
    return value


def build_sandboxes_parser() -> argparse.ArgumentParser:
    """The ``sandboxes`` subcommand's arguments."""
    parser = _Parser(
        prog=PROG,
        description="List the sandbox Spaces ml-intern-tui made on your Hub account, and "
        "delete the ones left behind.",
    )
    parser.add_argument("--delete", action="store_true", help="delete the Spaces listed")
    parser.add_argument(
        "--older-than",
        type=_hours,
        metavar="HOURS",
        help="only Spaces created at least HOURS ago (spares a session's live sandbox)",
    )
    parser.add_argument("-y", "--yes", action="store_true", help="delete without asking")
    parser.add_argument(
        "--namespace", metavar="OWNER", help="owner of the Spaces (default: config, else you)"
    )
    parser.add_argument("--cwd", type=Path, metavar="DIR", help="project whose config to read")
    return parser


def sandboxes_main(argv: list[str]) -> int:
    """Run ``sandboxes``; returns the exit code."""
    args = build_sandboxes_parser().parse_args(argv)
    from ml_intern_tui import envdefaults

    envdefaults.apply()
    cwd = (args.cwd or Path.cwd()).resolve()
    if not cwd.is_dir():
        return _fail(f"--cwd {cwd} is not a directory")
    settings = _settings(cwd)
    if isinstance(settings, str):
        return _fail(settings)
    from ml_intern_tui.integrations.hub import HubClient
    from ml_intern_tui.spaces.hub_spaces import SpaceHub

    space_hub = SpaceHub(HubClient(settings.hub.endpoint))
    namespace = args.namespace or settings.sandbox.space.namespace
    found = asyncio.run(_listing(space_hub, namespace))
    if isinstance(found, str):
        return _fail(found)
    owner, orphans = found
    now = datetime.now(UTC)
    if args.older_than is not None:
        orphans = [o for o in orphans if (o.age_hours(now) or 0.0) >= args.older_than]
    if not orphans:
        aged = f" older than {args.older_than:g} h" if args.older_than is not None else ""
        _out(f"No sandbox Spaces of {owner}{aged}.")
        return EXIT_OK
    for orphan in orphans:
        url = space_hub.hub.url(f"spaces/{orphan.repo_id}")
        _out(f"{orphan.repo_id}  {_age(orphan.age_hours(now))}  {url}")
    if not args.delete:
        _out(f"{len(orphans)} sandbox Space(s); delete them with `{PROG} --delete`.")
        return EXIT_OK
    if not args.yes:
        answer = _ask(f"Delete {len(orphans)} Space(s) above? This cannot be undone. [y/N] ")
        if answer is None:
            return _fail("not a terminal: add --yes to delete without asking")
        if answer.strip().lower() not in ("y", "yes"):
            _out("Nothing deleted.")
            return EXIT_OK
    return asyncio.run(_delete_all(space_hub, [o.repo_id for o in orphans]))


async def _listing(space_hub: Any, namespace: str | None) -> tuple[str, list[Any]] | str:
    from ml_intern_tui.core.tool import ToolError
    from ml_intern_tui.integrations.hub import hub_error_message
    from ml_intern_tui.spaces.hub_spaces import SpaceError

    try:
        owner = await space_hub.owner(namespace)
        return owner, await space_hub.sandboxes(owner)
    except (ToolError, SpaceError) as exc:
        return str(exc)
    except Exception as exc:  # whoami: 401, unreachable Hub
        return f"could not ask the Hub who you are: {hub_error_message(exc)}"


async def _delete_all(space_hub: Any, repo_ids: list[str]) -> int:
    from ml_intern_tui.spaces.hub_spaces import SpaceError

    failed = 0
    for repo_id in repo_ids:
        try:
            await space_hub.delete(repo_id)
        except SpaceError as exc:
            failed += 1
            sys.stderr.write(f"{PROG}: {_safe(str(exc))}\n")
            continue
        _out(f"Deleted {repo_id}.")
    return EXIT_FAILED if failed else EXIT_OK


def _settings(cwd: Path) -> Any:
    """The settings (hub endpoint, sandbox namespace), or a config problem as one line."""
    from ml_intern_tui.config import ConfigError, load_config

    try:
        return load_config(cwd=cwd, cli_overrides={}, trust="stored").settings
    except ConfigError as exc:
        return exc.problems[0] if exc.problems else "the configuration is not valid"


def _age(hours: float | None) -> str:
    if hours is None:
        return "age unknown"
    if hours < 1:
        return f"{max(hours * 60, 0):.0f} min old"
    if hours < 48:
        return f"{hours:.1f} h old"
    return f"{hours / 24:.1f} days old"


def _ask(question: str) -> str | None:
    """The answer typed on the terminal; None when stdin is not one (or closes)."""
    if not sys.stdin.isatty():
        return None
    sys.stdout.write(question)
    sys.stdout.flush()
    try:
        return sys.stdin.readline()
    except (EOFError, OSError):
        return None


def _safe(text: str) -> str:
    from ml_intern_tui.safety.terminal import terminal_safe

    return terminal_safe(text)


def _out(line: str) -> None:
    sys.stdout.write(_safe(line) + "\n")
    sys.stdout.flush()


def _fail(message: str) -> int:
    sys.stderr.write(f"{PROG}: {_safe(message)}\n")
    return EXIT_USAGE
