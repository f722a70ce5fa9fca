"""``--completion bash|zsh|fish``: scripts a shell accepts and that complete what a user
types (bash is run for real; zsh and fish are not installed here and are checked as text)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ml_intern_tui.cli import build_parser, main
from ml_intern_tui.completion import fish_script, options_of, script_for, zsh_script
from ml_intern_tui.paths import sessions_dir

BASH = shutil.which("bash")


def complete_in_bash(script: str, words: list[str]) -> list[str]:
    """What bash's completion function offers for the command line ``words`` (the last
    word is the one being completed)."""
    assert BASH is not None
    array = " ".join(f"'{w}'" for w in words)
    program = (
        f"source /dev/stdin <<'EOF'\n{script}\nEOF\n"
        f"COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}; _ml_intern_tui; "
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    proc = subprocess.run(
        [BASH, "--norc", "-c", program],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        env=dict(os.environ),
    )
    return [line for line in proc.stdout.splitlines() if line]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_bash_accepts_the_script_and_registers_it(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ml_intern_tui", "--completion", "bash"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=tmp_path,
    )
    check = subprocess.run(
        [BASH, "--norc", "-c", "source /dev/stdin; complete -p ml-intern-tui"],
        input=proc.stdout,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "complete -F _ml_intern_tui ml-intern-tui"
    assert check.stderr == ""


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_bash_completes_options_choices_and_session_ids() -> None:
    sessions = sessions_dir()
    sessions.mkdir(parents=True)
    (sessions / "20240101-120000-abcdef.jsonl").write_text("{}\n")
    script = script_for("bash")
    assert complete_in_bash(script, ["ml-intern-tui", "--mo"]) == ["--model", "--mode"]
    assert complete_in_bash(script, ["ml-intern-tui", "--mode", ""]) == ["ask", "auto", "yolo"]
    assert complete_in_bash(script, ["ml-intern-tui", "ex"]) == ["export"]
    assert complete_in_bash(script, ["ml-intern-tui", "--resume", ""]) == [
        "last",
        "20240101-120000-abcdef",
    ]
    assert complete_in_bash(script, ["ml-intern-tui", "export", "2024"]) == [
        "20240101-120000-abcdef"
    ]
    assert "trace" in complete_in_bash(script, ["ml-intern-tui", "export", "x", "--format", ""])
    assert "--output" in complete_in_bash(script, ["ml-intern-tui", "export", "x", "--o"])
    assert complete_in_bash(script, ["ml-intern-tui", "--model", ""]) == []


def test_every_option_of_the_parser_is_in_every_script() -> None:
    flags = [f for option in options_of(build_parser()) for f in option.flags]
    assert "--completion" in flags and "--resume" in flags
    zsh, fish = zsh_script(), fish_script()
    for flag in flags:
        assert flag in zsh
        name = flag.lstrip("-")
        assert (f"-l {name}" if flag.startswith("--") else f"-s {name}") in fish


def test_zsh_script_is_a_compdef_function_with_choices() -> None:
    zsh = zsh_script()
    assert zsh.startswith("#compdef ml-intern-tui\n")
    assert "--mode'[approval mode]:value:(ask auto yolo)'" in zsh
    assert "compdef _ml_intern_tui ml-intern-tui" in zsh
    # Quotes in help text are closed and reopened, never left open.
    body = [line for line in zsh.splitlines() if "[" in line and line.strip().endswith("\\")]
    for line in body:
        words = shlex.split(line.rstrip("\\"))  # raises on a quote left open
        assert len(words) == 1, line


def test_fish_script_scopes_export_options() -> None:
    fish = fish_script()
    assert "-n '__fish_use_subcommand' -a export" in fish
    assert (
        "complete -c ml-intern-tui -n '__fish_seen_subcommand_from export' -s f -l format -x"
        in fish
    )


def test_unknown_shell_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--completion", "powershell"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bash" in err[0]
