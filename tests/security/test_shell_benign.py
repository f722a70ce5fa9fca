"""The other side of the gate: what ML engineers run all day still runs unasked.

A gate that asks for everything is a gate people switch off. These commands only read,
and each must stay read-only (no approval in ``ask`` mode), with globs, pipes, ``2>/dev/null``
and a ``cd`` in the chain.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.core.protocol import UserInput
from ml_intern_tui.safety.shell_analysis import analyse_command

EVERYDAY = [
    "ls -la",
    "ls -lah data/",
    "ls -1 *.py",
    "ls -la --color=auto src",
    "pwd",
    "git status",
    "git status --short --branch",
    "git log --oneline -5",
    "git log --graph --decorate --all -n 20",
    "git diff",
    "git diff --stat HEAD~1",
    "git show --stat HEAD",
    "git branch -a",
    "git branch --show-current",
    "git remote -v",
    "git rev-parse HEAD",
    "git ls-files | wc -l",
    "git blame -L 1,5 src/train.py",
    "git --no-pager log -1 --format=%H",
    "grep -rn learning_rate src | head",
    "grep -rn 'def train' --include='*.py' .",
    "grep -c epoch logs/train.log",
    "cat config.yaml",
    "cat a.txt 2>/dev/null",
    "head -n 20 data/train.csv",
    "head -5 data/train.csv",
    "tail -n 50 logs/train.log",
    "tail -100 logs/train.log | grep loss",
    "wc -l data/*.csv",
    "du -sh *",
    "du -sh data models 2>/dev/null",
    "df -h .",
    "find . -name '*.py'",
    "find . -name '*.ckpt' -size +100M -type f",
    "find data -maxdepth 1 -type f | sort | head",
    "nvidia-smi",
    "nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv",
    "nvidia-smi -L",
    "pip list | grep torch",
    "pip show transformers",
    "pip freeze | grep -i accelerate",
    "python --version",
    "python3 --version",
    "python3 -m pip list",
    "which python3",
    "ps aux | grep train",
    "ps -ef | grep python",
    "free -h",
    "nproc",
    "uname -a",
    "whoami",
    "date",
    "date +%Y-%m-%d",
    "echo $'done\\n'",
    "echo 'hello world'",
    "sort data/train.csv | uniq -c | sort -rn | head",
    "cut -d, -f1 data/train.csv | sort -u",
    "stat -c %s models/model.safetensors",
    "file models/model.safetensors",
    "sha256sum models/model.safetensors",
    "diff config.yaml config.yaml",
    "cd src && ls",
    "cd src && grep -n import train.py",
    "tree -L 2",
    "ls -la; git status && git log -1",
    "ls 2>&1 | head",
    "cat config.yaml | grep lr",
    "realpath src/train.py",
    "basename src/train.py .py",
    "id -u",
    "lscpu",
    "strings models/model.safetensors | head",
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    tmp_path = tmp_path_factory.mktemp("everyday")
    root = tmp_path / "proj"
    for rel, text in {
        "src/train.py": "import torch\n\ndef train():\n    pass\n",
        "data/train.csv": "a,b\n1,2\n",
        "data/val.csv": "a,b\n3,4\n",
        "logs/train.log": "epoch 1 loss 0.5\n",
        "config.yaml": "lr: 0.001\n",
        "models/model.safetensors": "binary",
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    home = tmp_path / "home"
    home.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env = {**clean, "HOME": str(home)}
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    for args in (["init", "-q"], ["add", "."], [*identity, "commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    return root, env


def test_there_are_enough_everyday_commands() -> None:
    assert len(EVERYDAY) >= 40


@pytest.mark.parametrize("command", EVERYDAY)
def test_everyday_read_only_commands_run_unasked(
    command: str, project: tuple[Path, dict[str, str]]
) -> None:
    root, env = project
    analysis = analyse_command(command, cwd=root, env=env)
    assert analysis.read_only_reason is None, analysis.read_only_reason
    assert analysis.irreversible is None and not analysis.network


async def test_read_only_calls_run_without_approval_through_the_loop(
    fake_openai: FakeOpenAI, harness_factory, workspace: Path
) -> None:
    (workspace / "notes.txt").write_text("alpha\nbeta\n")
    commands = ["ls -la", "grep -n beta notes.txt | head", "wc -l notes.txt 2>/dev/null"]
    calls = [("bash", json.dumps({"command": c})) for c in commands]
    fake_openai.enqueue(Reply(text="", tool_calls=calls), Reply(text="looked around"))
    h = await harness_factory(mode="ask")
    h.submit(UserInput(text="look"))
    done = await h.wait_for("turn_complete")
    assert done.final_text == "looked around"
    assert h.of("approval_required") == []
    assert [r.status for r in h.of("tool_result")] == ["ok"] * 3


def _loaded(code: str) -> list[str]:
    probe = (
        f"{code}\n"
        "import sys\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules if m.startswith('tree_sitter')})))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_the_grammar_loads_lazily() -> None:
    """Start-up speed: the CLI, the protocol and the tool list load no tree-sitter, the TUI
    app not the bash grammar (Textual itself imports the small core binding when it is
    installed, for TextArea highlighting); the first analysis loads both."""
    startup = "import ml_intern_tui.cli, ml_intern_tui.core.protocol\n"
    startup += "from ml_intern_tui.tools import builtin_tools\nbuiltin_tools()"
    assert _loaded(startup) == []
    assert "tree_sitter_bash" not in _loaded("import ml_intern_tui.tui.app")
    analysed = (
        "from ml_intern_tui.tools.bash import classify_command\nclassify_command('ls', ['ls'])"
    )
    assert _loaded(analysed) == ["tree_sitter", "tree_sitter_bash"]
