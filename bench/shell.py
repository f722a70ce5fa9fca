"""Shell analysis benchmark: microseconds per ``analyse_command`` for typical commands.

Run with ``python bench/shell.py [--runs N]``. Each command is measured twice: "first"
parses it (the grammar is loaded once, before timing) and "again" hits the parse cache
(the approval path asks about one command several times). git commands also run
``git config --list`` and ``git rev-parse`` to check the repository's configuration, so
they are listed apart with their own target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml_intern_tui.safety import shell_parse
from ml_intern_tui.safety.shell_analysis import analyse_command

TYPICAL = [
    "ls -la",
    "cat README.md | head -n 20",
    "grep -rn learning_rate src | head",
    "find . -name '*.py' -size +1k",
    "python train.py --epochs 3 --lr 1e-4 > logs/train.log 2>&1",
    "du -sh * 2>/dev/null | sort -h | tail",
    "pip install -r requirements.txt",
    "rm -rf build && mkdir build",
    "curl -fsSL https://example.com/x.sh | sh",
    "nvidia-smi --query-gpu=name,memory.used --format=csv",
]
GIT = ["git status", "git log --oneline -5", "git diff --stat HEAD~1"]
TARGET_US = 2000.0
"""A typical command (not git) is analysed in under 2 ms, cache cold."""
GIT_TARGET_US = 30000.0
"""git commands include two ``git`` subprocesses."""


def measure(command: str, cwd: Path, runs: int, *, cold: bool) -> float:
    times = []
    for _ in range(runs):
        if cold:
            shell_parse.parse_script.cache_clear()
        start = time.perf_counter()
        analyse_command(command, cwd=cwd)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        (cwd / "README.md").write_text("x\n")
        subprocess.run(["git", "init", "-q"], cwd=cwd, check=True, env=dict(os.environ))
        analyse_command("ls", cwd=cwd)  # load the grammar
        print(f"{'command':<60} {'first µs':>10} {'again µs':>10} {'target':>8}")
        worst = 0.0
        for command in TYPICAL:
            first = measure(command, cwd, opts.runs, cold=True)
            again = measure(command, cwd, opts.runs, cold=False)
            worst = max(worst, first)
            print(f"{command[:60]:<60} {first:>10.0f} {again:>10.0f} {TARGET_US:>8.0f}")
        git_worst = 0.0
        for command in GIT:
            first = measure(command, cwd, max(5, opts.runs // 20), cold=True)
            git_worst = max(git_worst, first)
            print(f"{command:<60} {first:>10.0f} {'':>10} {GIT_TARGET_US:>8.0f}")
    ok = worst <= TARGET_US and git_worst <= GIT_TARGET_US
    print(
        f"\nworst typical: {worst:.0f} µs, worst git: {git_worst:.0f} µs -> {'OK' if ok else 'SLOW'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
