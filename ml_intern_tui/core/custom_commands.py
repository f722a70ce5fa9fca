"""Custom slash commands: Markdown prompt files that become ``/name [args]``.

A command is a file ``<name>.md`` in the project's ``.ml-intern/commands/`` or in the
user's ``commands/`` config directory. Its body is a prompt: running ``/name args`` sends
the body to the model as the user's message, with ``$ARGUMENTS`` replaced by ``args``.
An optional front matter block (``---`` lines) gives ``description`` and
``argument-hint``; every other key (``allowed-tools``, ``model``, ``mode``…) is ignored on
purpose: a command is only text, it cannot change the model, the mode or what needs
approval.

The project directory may be hostile, so its files are read with care: regular files
only (a symlink could point at ``~/.ssh/id_rsa`` and send it to the model), inside the
project, bounded in size and number, names of a fixed alphabet. Whether a command may
shadow a built-in is the front end's call (the TUI never lets it).
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

CommandSource = Literal["project", "user"]

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_FILE_BYTES = 64 * 1024
MAX_COMMANDS = 200
MAX_LINE = 200
PLACEHOLDER = "$ARGUMENTS"


class CustomCommand(BaseModel):
    """One prompt file turned into a command (what the front ends list and run)."""

    name: str
    template: str
    source: CommandSource
    description: str = ""
    argument_hint: str = ""
    path: str = ""


def expand(command: CustomCommand, arguments: str) -> str:
    """The message ``/name arguments`` sends: ``$ARGUMENTS`` replaced, or the arguments
    appended on their own paragraph when the body has no placeholder."""
    arguments = arguments.strip()
    body = command.template.strip()
    if PLACEHOLDER in body:
        return body.replace(PLACEHOLDER, arguments)
    return f"{body}\n\n{arguments}" if arguments else body


def printable(value: str) -> str:
    """``value`` without control or format characters (escapes, bidi overrides): file
    names and front matter of a hostile project are drawn in lists and messages."""
    return "".join(ch for ch in value if unicodedata.category(ch) not in {"Cc", "Cf"})


def _one_line(value: str) -> str:
    """Front matter text as one short printable line (it is drawn in lists)."""
    return printable(" ".join(value.split()))[:MAX_LINE]


def parse_command(name: str, text: str, source: CommandSource, path: str = "") -> CustomCommand:
    """A command from its file's text (front matter optional)."""
    meta: dict[str, str] = {}
    body = text
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), None)
        if end is not None:
            for line in lines[1:end]:
                key, sep, value = line.partition(":")
                if sep:
                    meta[key.strip().lower()] = value.strip().strip("\"'")
            body = "\n".join(lines[end + 1 :])
    description = meta.get("description", "")
    if not description:  # the first line of the prompt says what it does well enough
        description = next((line.strip("# ") for line in body.splitlines() if line.strip()), "")
    return CustomCommand(
        name=name,
        template=body,
        source=source,
        description=_one_line(description),
        argument_hint=_one_line(meta.get("argument-hint", "")),
        path=path,
    )


def _read_regular(path: Path) -> str:
    """The file's text, refusing symlinks, special files and oversize files."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ValueError("not a regular file")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES // 1024} KiB")
    return data.decode("utf-8")


def _scan(directory: Path, source: CommandSource, problems: list[str]) -> list[CustomCommand]:
    try:
        entries = sorted(directory.iterdir())
    except FileNotFoundError:
        return []
    except OSError as exc:
        problems.append(f"Custom commands in {directory} were not read: {exc.strerror or exc}.")
        return []
    found: list[CustomCommand] = []
    for path in entries:
        if path.suffix != ".md":
            continue
        shown = printable(str(path))
        name = path.stem.lower()
        if not NAME_RE.match(name):
            problems.append(
                f"Ignored custom command {shown}: a name is letters, digits, - and _ "
                "(at most 40, starting with a letter or digit)."
            )
            continue
        if len(found) >= MAX_COMMANDS:
            problems.append(f"Ignored the commands after {MAX_COMMANDS} in {directory}.")
            break
        try:
            if source == "project" and path.is_symlink():
                raise ValueError("a symlink (project commands must be regular files)")
            text = _read_regular(path)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            if isinstance(exc, UnicodeDecodeError):
                reason = "not UTF-8 text"
            problems.append(f"Ignored custom command {shown}: {reason}.")
            continue
        found.append(parse_command(name, text, source, str(path)))
    return found


def project_commands_dir(project: Path) -> Path | None:
    """``<project>/.ml-intern/commands`` when it really lies inside the project."""
    directory = project / ".ml-intern" / "commands"
    try:
        resolved = directory.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return resolved if resolved.is_relative_to(project.resolve()) else None


def load_custom_commands(
    project: Path, user_dir: Path | None
) -> tuple[list[CustomCommand], list[str]]:
    """The user's and the project's commands (the user's win a clash) and the problems
    met, one line each. Reads files: call it off the event loop."""
    problems: list[str] = []
    user = _scan(user_dir, "user", problems) if user_dir is not None else []
    directory = project_commands_dir(project)
    if directory is None and (project / ".ml-intern" / "commands").is_symlink():
        problems.append(
            "Ignored .ml-intern/commands: it points outside the project "
            "(project commands must live in the project)."
        )
    project_found = _scan(directory, "project", problems) if directory is not None else []
    taken = {command.name for command in user}
    for command in project_found:
        if command.name in taken:
            problems.append(
                f"The project's /{command.name} is hidden by your own /{command.name} "
                f"(from {printable(str(user_dir))})."
            )
    commands = user + [c for c in project_found if c.name not in taken]
    return sorted(commands, key=lambda c: c.name), problems
