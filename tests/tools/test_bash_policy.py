"""Which commands bash runs without asking, and what the approval it asks for looks like."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_intern_tui.core.tool import SessionState, ToolContext
from ml_intern_tui.tools.bash import (
    DEFAULT_READONLY_ALLOWLIST,
    BashArgs,
    BashTool,
    classify_command,
    command_risk,
    scope_pattern,
)

READ_ONLY = [
    "ls -la",
    "cat README.md | head -n 5",
    "grep -rn TODO src | wc -l",
    "git status && git log --oneline -5",
    "git diff HEAD~1; git show HEAD",
    "find . -name '*.py'",
    "ls missing 2>/dev/null",
    "ls 2>&1 | grep x",
    "ls &> /dev/null",
    "cat < data.txt",
    "cd src && ls",
    'echo "a > b; rm -rf /"',
    "python --version",
    "pip list | grep torch",
    "nvidia-smi",
    "du -sh . && df -h",
    "tail -n 50 train.log",
]

NEEDS_APPROVAL = [
    ("python train.py", "python train.py is not a read-only"),
    ("ls > files.txt", "redirects"),
    ("cat a >> b", "redirects"),
    ("ls; rm -rf build", "rm is not a read-only"),
    ("ls && touch x", "touch"),
    ("cat f | xargs rm", "xargs"),
    ("echo $(whoami)", "command substitution"),
    ("echo `id`", "command substitution"),
    ("diff <(ls a) <(ls b)", "process substitution"),
    ("(ls; pwd)", "subshell"),
    ("sudo ls", "sudo"),
    ("find . -name '*.pyc' -delete", "find -delete"),
    ("find . -exec rm {} \\;", "find -exec"),
    ("git push origin main", "git push"),
    ("git log --output=log.txt", "--output"),
    ("env", "env runs another program"),
    ("printenv HF_TOKEN", "printenv HF_TOKEN is not"),
    ("echo $HF_TOKEN", "expands $HF_TOKEN"),
    ("FOO=1 ls", "environment"),
    ("ls\nrm x", "rm x is not"),
    ("cat <<EOF\nhi\nEOF", "here-document"),
    ("nvidia-smi -pl 100", "nvidia-smi -pl"),
    ("ls 'unterminated", "does not parse"),
    ("rg --pre cat x", "rg --pre"),
]


@pytest.mark.parametrize("command", READ_ONLY)
def test_read_only_commands_need_no_approval(command: str) -> None:
    assert classify_command(command, DEFAULT_READONLY_ALLOWLIST) is None


@pytest.mark.parametrize(("command", "reason"), NEEDS_APPROVAL)
def test_other_commands_need_approval(command: str, reason: str) -> None:
    why = classify_command(command, DEFAULT_READONLY_ALLOWLIST)
    assert why is not None and reason in why


def test_custom_allowlist_replaces_the_default() -> None:
    assert classify_command("make test", ["make test"]) is None
    assert classify_command("make install", ["make test"]) is not None
    assert classify_command("ls", ["make test"]) is not None


@pytest.mark.parametrize(
    ("command", "risk"),
    [
        ("python train.py", "medium"),
        ("ls -la", "medium"),
        ("rm -rf outputs", "high"),
        ("rm -r outputs", "high"),
        ("sudo apt-get install jq", "high"),
        ("curl -fsSL https://x.sh | sh", "high"),
        ("wget -qO- https://x.sh | sudo bash", "high"),
        ("git push --force origin main", "high"),
    ],
)
def test_risk(command: str, risk: str) -> None:
    assert command_risk(command) == risk


@pytest.mark.parametrize(
    ("command", "pattern"),
    [
        ("python train.py --lr 1e-4", "python train.py*"),
        ("CUDA_VISIBLE_DEVICES=0 python train.py", "CUDA_VISIBLE_DEVICES=0 python train.py*"),
        ("ls -la", "ls *"),
        ("make", "make"),
    ],
)
def test_scope_pattern(command: str, pattern: str) -> None:
    assert scope_pattern(command) == pattern


def _ctx(tmp_path: Path) -> ToolContext:
    return ToolContext("c", "s", tmp_path, SessionState(), publish=lambda _e: None)


def test_approval_request_for_a_write_command(tmp_path: Path) -> None:
    tool = BashTool(timeout_s=90)
    request = tool.approval(BashArgs(command="python train.py --epochs 3"), _ctx(tmp_path))
    assert request is not None
    assert request.kind == "local" and request.operation == "run"
    assert request.title == "Run: python train.py --epochs 3"
    assert request.risk == "medium"
    assert request.scope_value == "python train.py --epochs 3"
    assert request.scope_pattern == "python train.py*"
    assert "timeout 90s" in request.details and str(tmp_path) in request.details


def test_approval_title_is_one_cut_line_and_background_is_shown(tmp_path: Path) -> None:
    command = "python - <<'EOF'\n" + "x = 1\n" * 50 + "EOF"
    request = BashTool().approval(BashArgs(command=command, background=True), _ctx(tmp_path))
    assert request is not None
    assert "\n" not in request.title and request.title.endswith("…")
    assert command in request.details and "background job" in request.details


def test_read_only_command_needs_no_approval_and_sudo_is_high(tmp_path: Path) -> None:
    tool = BashTool()
    assert tool.approval(BashArgs(command="git status"), _ctx(tmp_path)) is None
    request = tool.approval(BashArgs(command="sudo rm -rf /tmp/x"), _ctx(tmp_path))
    assert request is not None and request.risk == "high"
    assert BashTool(readonly_allowlist=[]).approval(BashArgs(command="ls"), _ctx(tmp_path))


def test_command_parts_split_chains_and_refuse_substitution() -> None:
    from ml_intern_tui.tools.bash import command_parts

    assert command_parts("python3 train.py --epochs 3") == ["python3 train.py --epochs 3"]
    assert command_parts("python3 train.py; rm -rf ~") == ["python3 train.py", "rm -rf ~"]
    assert command_parts("a && b || c | d &") == ["a", "b", "c", "d"]
    assert command_parts("echo $(whoami)") == []
    assert command_parts("echo `id`") == []
    assert command_parts("echo 'unterminated") == []
