"""The read-only allowlist and remembered rules, defined so they cannot be turned around.

Finding 9: an empty entry in ``readonly_allowlist`` matched every command. Entries are a
program and its leading words; the option tables of known programs still apply to
entries naming them; forms the tables do not know need the user's own entry; programs
that run programs never become read-only. Remembered rules match the canonical text of
each command of a chain (finding 1: ``ls a#; touch p`` is two commands).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from shell_arena import run_cli

from ml_intern_tui import paths
from ml_intern_tui.config import ConfigError, load_config
from ml_intern_tui.core.approval import ApprovalPolicy
from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.tool import RememberRule, SessionState, ToolContext
from ml_intern_tui.safety.shell_analysis import analyse_command
from ml_intern_tui.tools.bash import BashArgs, BashTool, classify_command, command_parts


def reason(command: str, allowlist: list[str], cwd: Path) -> str | None:
    return analyse_command(command, cwd=cwd, allowlist=allowlist).read_only_reason


@pytest.mark.parametrize("empty", ["", " ", "\t", "\n"])
def test_an_empty_entry_allows_nothing(empty: str, tmp_path: Path) -> None:  # finding 9
    assert classify_command("touch pwned", [empty], cwd=tmp_path) is not None
    assert classify_command("touch pwned", ["ls", empty], cwd=tmp_path) is not None
    ctx = ToolContext("c", "s", tmp_path, SessionState(), publish=lambda _e: None)
    request = BashTool(readonly_allowlist=[empty]).approval(BashArgs(command="touch x"), ctx)
    assert request is not None


def test_user_entries_are_word_prefixes(tmp_path: Path) -> None:
    allow = ["make test", "python train.py", "pytest"]
    assert reason("make test", allow, tmp_path) is None
    assert reason("make test -k fast", allow, tmp_path) is None
    assert reason("make install", allow, tmp_path) is not None
    assert reason("make testing", allow, tmp_path) is not None  # words, not characters
    assert reason("python train.py --epochs 1", allow, tmp_path) is None
    assert reason("python evil.py", allow, tmp_path) is not None
    assert reason("python -c 'import os'", allow, tmp_path) is not None
    assert reason("pytest -x tests", allow, tmp_path) is None
    assert reason("ls", allow, tmp_path) is not None  # the user's list replaces the built-in one


def test_option_tables_still_apply_to_entries_naming_known_programs(tmp_path: Path) -> None:
    allow = ["sort", "find", "git", "git branch", "uniq", "date", "ps"]
    for command, why in [
        ("sort -o out data", "sort -o writes a file"),
        ("sort --outp=out data", "sort --output writes a file"),
        ("find . -delete", "find -delete"),
        ("git push", "git push"),
        ("git branch -D main", "deletes a branch"),
        ("uniq in out", "second file"),
        ("date -s 2020-01-01", "sets the system clock"),
        ("ps eww", "environment"),
    ]:
        found = reason(command, allow, tmp_path)
        assert found is not None and why in found, (command, found)
    assert reason("sort data", allow, tmp_path) is None


def test_built_in_entries_do_not_vouch_for_unknown_options(tmp_path: Path) -> None:
    assert reason("ls --some-new-option", ["ls"], tmp_path) is not None
    assert reason("ls --some-new-option", ["ls --some-new-option"], tmp_path) is None
    assert reason("python --version -c 'x'", ["python --version"], tmp_path) is not None


@pytest.mark.parametrize(
    "entry", ["env", "xargs", "sh", "bash -c", "sudo", "timeout 10", "nice", "eval", "exec"]
)
def test_programs_that_run_programs_never_become_read_only(entry: str, tmp_path: Path) -> None:
    assert reason(f"{entry} touch x", [entry], tmp_path) is not None


def test_entries_with_shell_syntax_match_nothing(tmp_path: Path) -> None:
    assert reason("ls", ["ls; touch x"], tmp_path) is not None
    assert reason("touch x", ["$(touch x)"], tmp_path) is not None


# ------------------------------------------------------------------- config


def _problems(project: Path, text: str) -> list[str]:
    user = paths.user_config_path()
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(cwd=project)
    return caught.value.problems


def test_config_rejects_an_empty_entry_with_one_clear_line(tmp_path: Path) -> None:
    problems = _problems(tmp_path, '[tools]\nreadonly_allowlist = ["ls", "  "]\n')
    assert len(problems) == 1
    assert "tools.readonly_allowlist: entry 2 is empty" in problems[0]
    assert "make test" in problems[0]


def test_config_rejects_shell_syntax_in_an_entry(tmp_path: Path) -> None:
    problems = _problems(tmp_path, '[tools]\nreadonly_allowlist = ["ls && touch x"]\n')
    assert len(problems) == 1 and "entry 1 ('ls && touch x') is not one command" in problems[0]


def test_config_accepts_ordinary_entries(tmp_path: Path) -> None:
    user = paths.user_config_path()
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text('[tools]\nreadonly_allowlist = ["ls", "make test", "git log"]\n')
    assert load_config(cwd=tmp_path).settings.tools.readonly_allowlist == [
        "ls",
        "make test",
        "git log",
    ]


def test_cli_with_an_empty_entry_exits_2_with_one_line(tmp_path: Path) -> None:
    import os

    (tmp_path / ".ml-intern").mkdir()
    (tmp_path / ".ml-intern" / "config.toml").write_text('[tools]\nreadonly_allowlist = [""]\n')
    proc = run_cli(["-p", "hi"], cwd=tmp_path, env=dict(os.environ), timeout=60)
    assert proc.returncode == 2
    assert "readonly_allowlist: entry 1 is empty" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


# -------------------------------------------------------- remembered rules


def _policy(*patterns: str) -> ApprovalPolicy:
    rules = [RememberRule(tool="bash", operation="run", pattern=p) for p in patterns]
    return ApprovalPolicy("ask", budget_usd=None, spend=SpendTracker(), rules=rules)


def _decide(policy: ApprovalPolicy, command: str, tmp_path: Path) -> str:
    ctx = ToolContext("c", "s", tmp_path, SessionState(), publish=lambda _e: None)
    request = BashTool().approval(BashArgs(command=command), ctx)
    assert request is not None
    return policy.decide("bash", request).action


@pytest.mark.parametrize(
    "command",
    [
        "python train.py # run\ntouch ~/pwned",  # finding 1: the old parts saw one command
        "python train.py a#; touch ~/pwned",
        "python train.py $(touch ~/pwned)",
        "python train.py; f() { touch ~/pwned; }; f",
        "python train.py <<EOF\n$(touch ~/pwned)\nEOF",
    ],
)
def test_a_remembered_rule_never_covers_a_hidden_second_command(
    command: str, tmp_path: Path
) -> None:
    assert _decide(_policy("python train.py*"), command, tmp_path) == "ask"


def test_rules_match_the_canonical_command(tmp_path: Path) -> None:
    policy = _policy("python train.py*", "tee log*")
    assert _decide(policy, "python train.py --epochs 3", tmp_path) == "run"
    assert _decide(policy, 'python "train.py" | tee log.txt', tmp_path) == "run"
    assert _decide(policy, "python train.py | tee log.txt; touch x", tmp_path) == "ask"
    assert _decide(_policy("rm*"), "$'\\x72m' build.log", tmp_path) == "run"
    # A rule remembered for contained work does not cover what cannot be undone.
    assert _decide(_policy("rm*"), "$'\\x72m' -rf build", tmp_path) == "ask"


def test_parts_and_scope_pattern_agree(tmp_path: Path) -> None:
    from ml_intern_tui.tools.bash import scope_pattern

    assert command_parts("ls a#; touch p") == ["ls 'a#'", "touch p"]
    assert command_parts("ls # x\ntouch ~/pwned") == ["ls", "touch ~/pwned"]
    assert scope_pattern('python "train.py" --lr 1') == "python train.py*"
    assert command_parts("echo $(id)") == [] and command_parts("") == []
