"""Start-up benchmark: median wall time of ``--help``, ``--version`` and package imports.

Run with ``make bench`` (or ``python bench/startup.py [--runs N]``). Prints a table with
the ratio against the target and against the retired ml-intern CLI's help (about 5.7 s on
this class of machine, see shared/reference/upstream-behavior.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM_HELP_S = 5.7

SCRIPT = Path(sys.executable).with_name("ml-intern-tui")
"""The installed console script (what a user runs); ``python -m`` when it is missing."""
ENTRY = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "ml_intern_tui.cli"]

CASES: list[tuple[str, list[str], float]] = [
    ("ml-intern-tui --help", [*ENTRY, "--help"], 0.3),
    ("ml-intern-tui --version", [*ENTRY, "--version"], 0.3),
    ("import ml_intern_tui", ["-c", "import ml_intern_tui"], 0.3),
    (
        "import ml_intern_tui.core (+protocol, bus, loop)",
        ["-c", "import ml_intern_tui.core.loop"],
        0.5,
    ),
    ("import ml_intern_tui.tui.app", ["-c", "import ml_intern_tui.tui.app"], 0.6),
]


def measure(args: list[str], runs: int) -> list[float]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    times = []
    subprocess.run(
        [sys.executable, *args], capture_output=True, env=env, cwd=ROOT, check=False
    )  # warm
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, *args], capture_output=True, env=env, cwd=ROOT, check=False
        )
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.decode()[-500:]}")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    opts = parser.parse_args()
    header = f"{'case':<52} {'median':>8} {'min':>8} {'target':>8} {'vs target':>10} {'vs upstream help':>17}"
    print(header)
    print("-" * len(header))
    failed = 0
    for name, args, target in CASES:
        times = measure(args, opts.runs)
        median = statistics.median(times)
        ok = median <= target
        failed += not ok
        print(
            f"{name:<52} {median:>7.3f}s {min(times):>7.3f}s {target:>7.2f}s "
            f"{median / target:>9.2f}x {median / UPSTREAM_HELP_S:>16.3f}x {'' if ok else ' OVER'}"
        )
    print(f"\n{opts.runs} runs each; python {sys.version.split()[0]}; {os.cpu_count()} cores")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
