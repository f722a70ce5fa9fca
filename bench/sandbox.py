"""Sandbox overhead: wall time of one ``bash`` call with and without bubblewrap.

Run with ``make bench`` (or ``python bench/sandbox.py [--runs N]``). Each case runs the
real ``BashTool`` (spawn, pipes, environment scrub, git guard, result) in a project that
is a git repository, on ``true`` and on a short
Python one-liner, unsandboxed, in the sandbox without network, and in the sandbox with
network; the table shows the median, the minimum and the sandbox's cost over the
unsandboxed median. Exit status 1 when the overhead misses its target; 0 with a note
when bubblewrap cannot run here.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml_intern_tui.core.services import Services  # noqa: E402
from ml_intern_tui.core.tool import SessionState, ToolContext  # noqa: E402
from ml_intern_tui.safety.sandbox import Sandbox, detect  # noqa: E402
from ml_intern_tui.tools.bash import BashArgs, BashTool  # noqa: E402

OVERHEAD_TARGET_MS = 50.0
"""What a sandboxed command may cost over an unsandboxed one (median, per call)."""
COMMANDS = {"true": "true", "python": "python3 -c 'print(1)'"}


async def measure(ctx: ToolContext, command: str, runs: int, **flags: bool) -> list[float]:
    tool = BashTool()
    args = BashArgs(command=command, **flags)
    await tool.run(args, ctx)  # warm
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = await tool.run(args, ctx)
        times.append((time.perf_counter() - start) * 1000)
        if not result.ok:
            raise SystemExit(f"{command!r} failed: {result.output[-500:]}")
    return times


async def run(runs: int) -> int:
    found = detect()
    if found.problem is not None:
        print(f"sandbox overhead: skipped ({found.problem})")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        # A repository, as most projects are: its git directory is guarded on every call
        # (read-only control files, traps looked for afterwards).
        subprocess.run(["git", "init", "-q", str(project)], check=False, capture_output=True)  # noqa: ASYNC221
        sandbox = Sandbox(tmp_root=Path(tmp) / "sandbox-tmp")
        plain = ToolContext("c", "bench", project, SessionState(), publish=lambda _e: None)
        boxed = ToolContext(
            "c", "bench", project, SessionState(), publish=lambda _e: None,
            services=Services(sandbox=sandbox),
        )  # fmt: skip
        print(f"{'case':<34} {'median':>9} {'min':>9} {'overhead':>9} {'target':>8}")
        worst = 0.0
        for name, command in COMMANDS.items():
            base = statistics.median(await measure(plain, command, runs))
            print(f"{name + ', unsandboxed':<34} {base:>7.1f}ms {'':>9} {'':>9} {'':>8}")
            for label, flags in (("sandbox", {}), ("sandbox + network", {"network": True})):
                times = await measure(boxed, command, runs, **flags)
                median = statistics.median(times)
                extra = median - base
                worst = max(worst, extra)
                print(
                    f"{name + ', ' + label:<34} {median:>7.1f}ms {min(times):>7.1f}ms "
                    f"{extra:>+7.1f}ms {OVERHEAD_TARGET_MS:>6.0f}ms"
                )
        sandbox.cleanup()
    return 0 if worst <= OVERHEAD_TARGET_MS else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    opts = parser.parse_args()
    return asyncio.run(run(opts.runs))


if __name__ == "__main__":
    raise SystemExit(main())
