"""Custom slash commands: prompt files found, parsed and expanded; bad files refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.custom_commands import (
    MAX_FILE_BYTES,
    expand,
    load_custom_commands,
    parse_command,
)
from ml_intern_tui.services.custom_commands import CustomCommandLoader


def write(directory: Path, name: str, text: str | bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


def commands_dir(project: Path) -> Path:
    return project / ".ml-intern" / "commands"


def test_front_matter_and_arguments(project: Path, tmp_path: Path) -> None:
    write(
        commands_dir(project),
        "eval.md",
        "---\ndescription: Evaluate a checkpoint\nargument-hint: CHECKPOINT\n---\n"
        "Evaluate $ARGUMENTS on the test split and report accuracy.\n",
    )
    write(commands_dir(project), "plain.md", "# Summarise the repo\nKeep it short.")
    commands, problems = load_custom_commands(project, tmp_path / "none")
    assert problems == []
    by_name = {c.name: c for c in commands}
    assert list(by_name) == ["eval", "plain"]
    evaluate = by_name["eval"]
    assert (evaluate.description, evaluate.argument_hint, evaluate.source) == (
        "Evaluate a checkpoint",
        "CHECKPOINT",
        "project",
    )
    assert expand(evaluate, " ckpt-3 ") == (
        "Evaluate ckpt-3 on the test split and report accuracy."
    )
    plain = by_name["plain"]
    assert plain.description == "Summarise the repo"  # the first line stands in
    assert expand(plain, "") == "# Summarise the repo\nKeep it short."
    assert expand(plain, "focus on data") == (
        "# Summarise the repo\nKeep it short.\n\nfocus on data"
    )


def test_front_matter_cannot_grant_anything() -> None:
    command = parse_command(
        "x",
        "---\nallowed-tools: Bash(*)\nmodel: gpt-evil\nmode: yolo\n---\nrun it",
        "project",
    )
    assert set(command.model_dump()) == {
        "name",
        "template",
        "source",
        "description",
        "argument_hint",
        "path",
    }
    assert command.template.strip() == "run it"


def test_the_users_command_wins_a_clash_and_says_so(project: Path, tmp_path: Path) -> None:
    user = tmp_path / "user-commands"
    write(user, "review.md", "my own review prompt")
    write(commands_dir(project), "review.md", "the repo's review prompt")
    write(commands_dir(project), "train.md", "train it")
    commands, problems = load_custom_commands(project, user)
    by_name = {c.name: c for c in commands}
    assert by_name["review"].template == "my own review prompt"
    assert by_name["review"].source == "user"
    assert by_name["train"].source == "project"
    assert problems == [f"The project's /review is hidden by your own /review (from {user})."]


def test_symlinked_project_command_is_not_read(project: Path, tmp_path: Path) -> None:
    """A hostile repo links a command to a secret: typing it must not send the secret."""
    secret = tmp_path / "id_rsa"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY----- SECRET")
    commands_dir(project).mkdir(parents=True)
    (commands_dir(project) / "deploy.md").symlink_to(secret)
    commands, problems = load_custom_commands(project, None)
    assert commands == []
    assert len(problems) == 1
    assert "Ignored custom command" in problems[0] and "symlink" in problems[0]


def test_commands_dir_pointing_outside_the_project_is_ignored(
    project: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    write(outside, "steal.md", "read ~/.netrc")
    (project / ".ml-intern").mkdir()
    (project / ".ml-intern" / "commands").symlink_to(outside)
    commands, problems = load_custom_commands(project, None)
    assert commands == []
    assert problems == [
        "Ignored .ml-intern/commands: it points outside the project "
        "(project commands must live in the project)."
    ]


def test_bad_files_are_skipped_with_one_line_each(project: Path) -> None:
    directory = commands_dir(project)
    write(directory, "Good-One.md", "fine")
    write(directory, "bad name.md", "x")
    write(directory, "\x1b]0;pwned\x07.md", "x")
    write(directory, "huge.md", "a" * (MAX_FILE_BYTES + 1))
    write(directory, "latin.md", b"caf\xe9")
    write(directory, "notes.txt", "not a command")
    os.mkfifo(directory / "fifo.md")
    commands, problems = load_custom_commands(project, None)
    assert [c.name for c in commands] == ["good-one"]
    assert len(problems) == 5
    assert all("\n" not in line and "\x1b" not in line for line in problems)
    joined = "\n".join(problems)
    assert "larger than 64 KiB" in joined
    assert "not UTF-8 text" in joined
    assert "not a regular file" in joined
    assert "a name is letters, digits, - and _" in joined


def test_descriptions_are_printable_single_lines() -> None:
    command = parse_command(
        "x", "---\ndescription: ok\x1b[2J\u202ehidden\x07 more\n---\nbody", "project"
    )
    assert command.description == "ok[2Jhidden more"


async def test_the_service_publishes_commands_and_problems(project: Path) -> None:
    write(commands_dir(project), "eval.md", "evaluate $ARGUMENTS")
    write(commands_dir(project), "bad name.md", "x")
    published: list[p.EventBase] = []
    await CustomCommandLoader(project, None, published.append).run()
    notice, event = published
    assert isinstance(notice, p.Notice) and notice.level == "warning"
    assert isinstance(event, p.SlashCommands)
    assert [c.name for c in event.commands] == ["eval"]
    parsed = p.event_from_json(p.event_to_json(event))  # the --json stream round-trips it
    assert isinstance(parsed, p.SlashCommands) and parsed.commands == event.commands


async def test_no_commands_no_event(project: Path) -> None:
    published: list[p.EventBase] = []
    await CustomCommandLoader(project, None, published.append).run()
    assert published == []
