"""The analysis reads scripts as the shells that run them do: a seeded random differential.

Random scripts built from the awkward parts of shell syntax (quotes, escapes, comments,
line continuations, ``$'…'``, globs, tildes, separators, redirections) are read by the
analysis and run for real by bash and dash (``/bin/sh`` on Debian) with an empty
``PATH`` in an empty directory:

- every word and every command the shell runs must be the ones the analysis saw (each
  command is ``printf '%s\\0' …``, so the output spells out the words);
- a script the analysis calls read-only must create no file.

This found three bypasses while the analysis was written (an escaped blank before ``#``
hiding ``; touch p`` in a "comment", one word split in two by the grammar after a quote,
``&>`` words run as a second command by dash); the seeds keep guarding them.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from ml_intern_tui.safety.shell_analysis import analyse_command
from ml_intern_tui.safety.shell_parse import parse_script

SHELLS = [s for s in ("/bin/bash", "/bin/dash") if shutil.which(s)]
ATOMS = [
    "a", "b", "x1", "-o", "--out=v", "'q r'", '"d e"', "\\ ", "\\\\", "\\'", '\\"', "#", "a#b",
    " #c", "$'\\x41'", "''", '""', "\\\n", " \\\n ", "*", "?", "[ab]", "~", "~/p", "=", "a=b",
    "{x}", "{a,b}", "%", "@", ":", ",", "!", "^", "'\\n'", '"\\\\"', '"\\$"', '"a\\b"', "\\#",
    "-", "--", "+", "a\\\nb", "\t", ".", "..", "/", "'a''b'", '"x"y', "$'\\t'", "$'\\''", '~""',
]  # fmt: skip
SEPARATORS = [" ; ", ";", " && ", "&&", "\n", " # note\n", "\n\n", " \\\n; "]
REDIRECT_WORDS = ["a", "-o", "x", "'q r'", '"d"', "\\ ", "#", "''", "1", "2", "-", "~", "&"]
OPERATORS = [
    ">", ">>", "2>", "&>", "&>>", ">&", "<&", ">|", "<", "<>", "1>&", "2>&", ">&-", "<&-",
    "3>", "{fd}>", "2>>", "9>", "0<", "<<<", "|&", "&", "|", ";", "&&", "||",
]  # fmt: skip
TARGETS = [
    "/dev/null", "f", "1", "2", "-", "1x", "/dev/null\\ x", '"/dev/null"', "'f'", "1-",
    "/dev/stdout", "", " f", "0",
]  # fmt: skip
HOME = "/nonexistent-home"
ENV = {"PATH": "/nonexistent", "HOME": HOME}


def words_script(rng: random.Random) -> str:
    commands = []
    for _ in range(rng.randint(1, 3)):
        words = ["".join(rng.choice(ATOMS) for _ in range(rng.randint(1, 3))) for _ in range(4)]
        commands.append("printf '%s\\0' " + " ".join(words[: rng.randint(0, 4)]))
    script = commands[0]
    for command in commands[1:]:
        script += rng.choice(SEPARATORS) + command
    return script


def expected_output(script: str) -> str | None:
    """What the shell prints if it reads the script as the analysis does."""
    parsed = parse_script(script)
    if not parsed.plain:
        return None
    out = []
    for command in parsed.commands:
        if [w.value for w in command.words[:2]] != ["printf", "%s\\0"] or command.redirects:
            return None
        if any(w.glob for w in command.words):
            return None
        args = [HOME + (w.value or "")[1:] if w.tilde else w.value or "" for w in command.words[2:]]
        out.append("".join(a + "\0" for a in args) if args else "\0")
    return "".join(out)


def run(shell: str, script: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [shell, "-c", script],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        timeout=10,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.parametrize("shell", SHELLS)
def test_words_and_commands_match_the_shell(shell: str, tmp_path: Path) -> None:
    rng = random.Random(20261206)
    compared = 0
    for _ in range(400):
        script = words_script(rng)
        expected = expected_output(script)
        if expected is None or (shell.endswith("dash") and "$'" in script):
            continue  # dash has no $'…'; the analysis reads it as bash does
        compared += 1
        got = run(shell, script, tmp_path).stdout.decode("utf-8", "surrogateescape")
        assert got == expected, script
    assert compared > 100


@pytest.mark.parametrize("shell", SHELLS)
def test_read_only_scripts_with_redirections_write_nothing(shell: str, tmp_path: Path) -> None:
    rng = random.Random(7)
    checked = 0
    for index in range(300):
        parts = ["printf '%s\\0'"]
        for _ in range(rng.randint(1, 6)):
            if rng.random() < 0.5:
                parts.append(rng.choice(REDIRECT_WORDS))
            else:
                parts.append(rng.choice(OPERATORS) + rng.choice(["", " "]) + rng.choice(TARGETS))
        script = " ".join(parts)
        place = tmp_path / str(index)
        place.mkdir()
        if analyse_command(script, cwd=place, env=ENV).read_only_reason is not None:
            continue
        checked += 1
        run(shell, script, place)
        assert os.listdir(place) == [], script
    assert checked > 40


@pytest.mark.parametrize(
    "script",
    [
        "echo \\ #x; touch p",  # the grammar drops '\ ' and reads a comment
        'echo ""\\#x; touch p',
    ],
)
def test_found_bypasses_stay_closed(script: str, tmp_path: Path) -> None:
    analysis = analyse_command(script, cwd=tmp_path, env=ENV)
    assert analysis.read_only_reason is not None
    if analysis.parts:
        assert any("touch" in part for part in analysis.parts)
