"""Long-session benchmark: per-call overhead, UI stalls, memory, resume and the sessions browser.

Run from the repository root::

    .venv/bin/python bench/session.py all        # everything, as a table against the targets
    .venv/bin/python bench/session.py headless   # 300 calls through the real CLI (--json)
    .venv/bin/python bench/session.py app        # the same session in the full-screen app
    .venv/bin/python bench/session.py resume     # a 5,000-message session resumed
    .venv/bin/python bench/session.py browse     # the sessions browser over 500 sessions

The session: one prompt, then ``--calls`` model calls (300) against a fake OpenAI server
in a process of its own (``session_server.py``) that answers at once with a ``read`` of
the next of 300 project files (about 500 tokens each), so the context grows to about
150k tokens. The server stamps when each request arrives and when its answer is sent:
the gap between one answer and the next request is everything the app does for a call
(handle the answer, run the tool, journal, count, build and send the next request).
That overhead is reported at 10k/50k/100k/150k tokens (median of the 9 calls nearest
each size). ``app`` also reports the event loop's worst stall (a 5 ms ticker) and peak
RSS; ``headless`` the peak RSS of the CLI process and the journal's size.

``resume`` writes a 5,000-message journal with the real ``Journal`` and measures: in the
app, ``/resume <id>`` until the last answer is on screen and the prompt takes input (sent
once the start-up warm-up is done, as a user typing the command finds the app: the
warm-up, ~0.5 s of imports in a thread, would otherwise share the CPU with the resume;
how long the bench waited for it is reported; a second app sends it at the first frame,
the worst case, reported apart); in
headless, ``--resume <id> --json`` until its ``ready`` line, against a fresh start (the
difference is the resume's own cost; both pay Python's and litellm's start-up).
``browse`` writes 500 sessions (one in 50 long) and measures ``/sessions`` until the
table lists them all. Each part runs in a child process of its own (``all``), so one
part's memory does not count in another's peak.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(HERE))

from ml_intern_tui import envdefaults  # noqa: E402

envdefaults.apply()

from session_data import make_project, write_many_sessions, write_session  # noqa: E402
from session_server import FINAL_TEXT  # noqa: E402

SCRIPT = Path(sys.executable).with_name("ml-intern-tui")
ENTRY = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "ml_intern_tui.cli"]
PROMPT = "Read every file under src/, one at a time, in order."
SIZES = (10_000, 50_000, 100_000, 150_000)
WINDOW = 262_144
"""The model's window: the session must not reach the compaction threshold."""
NEAREST = 9
"""Calls around each size whose median is reported."""


# ------------------------------------------------------------------------- helpers


class StallMonitor:
    """Measures how late a 5 ms sleep wakes up: the event loop's stalls."""

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.lates: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(self.period)
            self.lates.append(loop.time() - start - self.period)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    @property
    def worst_ms(self) -> float:
        return round(max(self.lates, default=0.0) * 1000, 1)

    def over_ms(self, threshold_ms: float) -> int:
        return sum(1 for late in self.lates if late * 1000 > threshold_ms)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def wait_until(condition: Callable[[], object], timeout: float, poll: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not met")
        await asyncio.sleep(poll)


def isolated_env(base: Path, **extra: str) -> dict[str, str]:
    """The environment of a run: its own config, data and cache directories, no tokens."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ML_INTERN_") and k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
    }
    for name in ("config", "data", "cache"):
        env[f"XDG_{name.upper()}_HOME"] = str(base / name)
    env["HF_HOME"] = str(base / "hf")
    env.update(extra)
    return env


@contextmanager
def applied_env(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class ServerProcess:
    """``session_server.py`` in a process of its own (in ours it would compete for the GIL)."""

    def __init__(self, calls: int) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(HERE / "session_server.py"), str(calls)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        self.base_url = self._proc.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            raise RuntimeError("the fake model server did not start")

    def stamps(self) -> list[dict[str, float]]:
        """Close the server; its stamps of every request."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.close()
        line = self._proc.stdout.readline()
        self._proc.wait(timeout=30)
        return list(json.loads(line)) if line.strip() else []

    def kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()


def overheads(stamps: list[dict[str, float]]) -> dict[str, Any]:
    """Per-call overhead (ms) near each size, from the server's stamps."""
    gaps = [
        (after["prompt"], (after["arrived"] - before["answered"]) * 1000)
        for before, after in itertools.pairwise(stamps)
    ]
    result: dict[str, Any] = {"calls": len(stamps), "max_prompt_tokens": 0}
    if not gaps:
        return result
    result["max_prompt_tokens"] = max(size for size, _ in gaps)
    for size in SIZES:
        if result["max_prompt_tokens"] < size * 0.9:
            continue
        near = sorted(gaps, key=lambda g: abs(g[0] - size))[:NEAREST]
        result[f"overhead_{size // 1000}k_ms"] = round(statistics.median(g for _, g in near), 1)
    result["overhead_median_ms"] = round(statistics.median(g for _, g in gaps), 1)
    result["overhead_worst_ms"] = round(max(g for _, g in gaps), 1)
    return result


def journal_mb(sessions: Path) -> float:
    return round(sum(p.stat().st_size for p in sessions.glob("*.jsonl")) / 2**20, 2)


# ------------------------------------------------------------------------ headless


def run_headless(calls: int) -> dict[str, Any]:
    """The session through the real CLI in ``--json`` mode."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        project = base / "project"
        make_project(project, calls)
        server = ServerProcess(calls)
        try:
            env = isolated_env(base, VLLM_BASE_URL=server.base_url, VLLM_API_KEY="sk-bench")
            env["ML_INTERN_CONTEXT__LIMIT"] = str(WINDOW)
            args = [*ENTRY, "--model", "vllm/fake", "--mode", "auto", "--json"]
            args += ["--max-iterations", str(calls + 50), "--cwd", str(project), PROMPT]
            start = time.perf_counter()
            with (base / "out.jsonl").open("w") as out:
                proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.PIPE)
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - start
            stamps = server.stamps()
        finally:
            server.kill()
        if proc.returncode != 0:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"headless run failed ({proc.returncode}): {err[-2000:]}")
        events = [json.loads(line) for line in (base / "out.jsonl").read_text().splitlines()]
        done = [e for e in events if e.get("type") == "turn_complete"]
        sessions = base / "data" / "ml-intern-tui" / "sessions"
        result = overheads(stamps)
        result.update(
            wall_s=round(wall, 1),
            peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
            journal_mb=journal_mb(sessions),
            final_text_ok=bool(done and FINAL_TEXT in done[-1].get("final_text", "")),
        )
        return result


# ----------------------------------------------------------------------------- app


def app_settings(base: Path, calls: int, **extra: Any) -> Any:
    from ml_intern_tui.config.schema import AppConfig

    return AppConfig.model_validate(
        {
            "model": "vllm/fake",
            "mode": "auto",
            "max_iterations": calls + 50,
            "llm": {"max_retries": 0},
            "context": {"limit": WINDOW},
            "sessions": {"dir": str(base / "sessions")},
            **extra,
        }
    )


async def app_session(calls: int) -> dict[str, Any]:
    from ml_intern_tui.core import protocol as p
    from ml_intern_tui.runtime.agent import build_runtime
    from ml_intern_tui.tui.app import MLInternApp

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        project = base / "project"
        make_project(project, calls)
        server = ServerProcess(calls)
        try:
            env = isolated_env(base, VLLM_BASE_URL=server.base_url, VLLM_API_KEY="sk-bench")
            with applied_env(env):
                runtime = build_runtime(app_settings(base, calls), cwd=project)
                app = MLInternApp(runtime)
                finished: list[p.TurnComplete] = []
                monitor = StallMonitor()
                async with app.run_test(size=(120, 40)) as pilot:
                    await wait_until(lambda: app.header.session_id, timeout=60)
                    runtime.bus.add_listener(
                        lambda e: finished.append(e) if isinstance(e, p.TurnComplete) else None
                    )
                    monitor.start()
                    start = time.perf_counter()
                    app.submit(p.UserInput(text=PROMPT))
                    await wait_until(lambda: finished, timeout=calls * 5.0)
                    await pilot.pause()
                    wall = time.perf_counter() - start
                    monitor.stop()
                    answer = app.chat.latest_assistant()
                    shown = answer is not None and FINAL_TEXT in answer.source
            stamps = server.stamps()
        finally:
            server.kill()
        result = overheads(stamps)
        result.update(
            wall_s=round(wall, 1),
            worst_stall_ms=monitor.worst_ms,
            stalls_over_50ms=monitor.over_ms(50),
            peak_rss_mb=peak_rss_mb(),
            journal_mb=journal_mb(base / "sessions"),
            final_text_ok=bool(shown and finished[-1].reason == "done"),
        )
        return result


# -------------------------------------------------------------------------- resume


RESUME_ID = "20250101-120000-5000aa"


def warmed_up(app: Any) -> bool:
    """Whether the app's start-up warm-up (litellm and the call path, in a thread) is done."""
    return not any(w.group == "warm-up" and not w.is_finished for w in app.workers)


async def app_resume(messages: int, *, after_warm_up: bool = True) -> dict[str, Any]:
    """``/resume <id>`` in a running app: until the last answer is shown, prompt usable.

    Sent once the start-up warm-up is done (as a user typing the command finds the app),
    or, with ``after_warm_up=False``, at the first frame (the warm-up still importing
    litellm competes with the resume: the worst case, reported apart)."""
    from ml_intern_tui.core import protocol as p
    from ml_intern_tui.core.journal import load
    from ml_intern_tui.runtime.agent import build_runtime
    from ml_intern_tui.tui.app import MLInternApp

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        path = write_session(base / "sessions", RESUME_ID, messages=messages, cwd=str(base))
        last = load(path).events[-1]
        assert isinstance(last, p.TurnComplete)
        marker = last.final_text[-40:]
        env = isolated_env(base, VLLM_BASE_URL="http://127.0.0.1:9/v1")
        with applied_env(env):
            runtime = build_runtime(app_settings(base, 0), cwd=base)
            app = MLInternApp(runtime)
            ready: list[p.Ready] = []
            monitor = StallMonitor()
            async with app.run_test(size=(120, 40)) as pilot:
                await wait_until(lambda: app.header.session_id, timeout=60)
                shown_at = time.perf_counter()
                if after_warm_up:
                    await wait_until(lambda: warmed_up(app), timeout=60)
                warm_wait = time.perf_counter() - shown_at
                runtime.bus.add_listener(
                    lambda e: ready.append(e) if isinstance(e, p.Ready) and e.resumed else None
                )
                monitor.start()
                start = time.perf_counter()
                app.run_slash("resume", RESUME_ID)

                def shown() -> bool:
                    answer = app.chat.latest_assistant()
                    return bool(ready) and answer is not None and marker in answer.source

                await wait_until(shown, timeout=120, poll=0.005)
                await pilot.pause()
                usable = time.perf_counter() - start
                monitor.stop()
                prompt_ok = app.prompt.has_focus or not app.prompt.disabled
        return {
            "messages": ready[-1].messages if ready else 0,
            "app_resume_s": round(usable, 3),
            "app_resume_worst_stall_ms": monitor.worst_ms,
            "app_resume_warmup_wait_s": round(warm_wait, 3),
            "prompt_usable": bool(prompt_ok),
            "journal_mb": round(path.stat().st_size / 2**20, 2),
        }


def time_to_ready(args: list[str], env: dict[str, str]) -> float:
    """Seconds from starting the CLI until it prints its ``ready`` event."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    try:
        for raw in proc.stdout:
            if b'"type":"ready"' in raw:
                return time.perf_counter() - start
        raise RuntimeError("the CLI ended without a ready event")
    finally:
        proc.kill()
        proc.wait()


def headless_resume(messages: int, runs: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        sessions = base / "data" / "ml-intern-tui" / "sessions"
        write_session(sessions, RESUME_ID, messages=messages, cwd=str(base))
        # Nothing answers here: the run is stopped at its ready line, before any call.
        env = isolated_env(base, VLLM_BASE_URL="http://127.0.0.1:9/v1")
        common = [*ENTRY, "--model", "vllm/fake", "--json", "--cwd", str(base)]
        fresh = [time_to_ready([*common, "hello"], env) for _ in range(runs)]
        resumed = [
            time_to_ready([*common, "--resume", RESUME_ID, "go on"], env) for _ in range(runs)
        ]
    fresh_s, resumed_s = statistics.median(fresh), statistics.median(resumed)
    return {
        "headless_fresh_ready_s": round(fresh_s, 3),
        "headless_resume_ready_s": round(resumed_s, 3),
        "headless_resume_cost_s": round(resumed_s - fresh_s, 3),
    }


# -------------------------------------------------------------------------- browse


async def app_browse(count: int) -> dict[str, Any]:
    """``/sessions`` over ``count`` saved sessions: until the table lists them all."""
    from ml_intern_tui.core import saved_sessions
    from ml_intern_tui.runtime.agent import build_runtime
    from ml_intern_tui.tui.app import MLInternApp
    from ml_intern_tui.tui.screens.sessions import SessionsScreen

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        paths = write_many_sessions(base / "sessions", count)
        size = sum(p.stat().st_size for p in paths)
        env = isolated_env(base, VLLM_BASE_URL="http://127.0.0.1:9/v1")
        with applied_env(env):
            runtime = build_runtime(app_settings(base, 0), cwd=base)
            app = MLInternApp(runtime)
            monitor = StallMonitor()
            async with app.run_test(size=(120, 40)) as pilot:
                await wait_until(lambda: app.header.session_id, timeout=60)
                # A user types /sessions after start-up has settled: by then the app's
                # warm-up (the model's path, then the sessions' summaries) has run.
                await wait_until(lambda: len(saved_sessions._INFO_CACHE) >= count, timeout=60)
                timings = []
                for _ in range(3):  # the first one: the first screen of its kind
                    monitor.start()
                    start = time.perf_counter()
                    app.run_slash("sessions")

                    def listed() -> bool:
                        screen = app.screen
                        return isinstance(screen, SessionsScreen) and (
                            screen.table.row_count >= count
                        )

                    await wait_until(listed, timeout=120, poll=0.005)
                    await pilot.pause()
                    timings.append(time.perf_counter() - start)
                    monitor.stop()
                    await pilot.press("escape")
                    await wait_until(lambda: not isinstance(app.screen, SessionsScreen), 10)
        return {
            "sessions": count,
            "sessions_mb": round(size / 2**20, 1),
            "browse_first_s": round(timings[0], 3),
            "browse_s": round(statistics.median(timings[1:]), 3),
            "browse_worst_stall_ms": monitor.worst_ms,
        }


# ---------------------------------------------------------------------------- main


def run_part(part: str, args: argparse.Namespace) -> dict[str, Any]:
    if part == "headless":
        return run_headless(args.calls)
    if part == "app":
        return asyncio.run(app_session(args.calls))
    if part == "resume":
        result = asyncio.run(app_resume(args.messages))
        early = asyncio.run(app_resume(args.messages, after_warm_up=False))
        result["app_resume_at_first_frame_s"] = early["app_resume_s"]
        result.update(headless_resume(args.messages))
        return result
    if part == "browse":
        return asyncio.run(app_browse(args.sessions))
    raise ValueError(part)


def run_child(part: str, args: argparse.Namespace) -> dict[str, Any]:
    """One part in a process of its own (its memory and imports apart from the others)."""
    command = [sys.executable, __file__, part, "--json", "--calls", str(args.calls)]
    command += ["--messages", str(args.messages), "--sessions", str(args.sessions)]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"bench part {part} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# (part, metric key, label, target, whether lower is better)
TARGETS: list[tuple[str, str, str, float, bool]] = [
    ("headless", "overhead_10k_ms", "overhead/call @10k ms", 10.0, True),
    ("headless", "overhead_50k_ms", "overhead/call @50k ms", 20.0, True),
    ("headless", "overhead_100k_ms", "overhead/call @100k ms", 20.0, True),
    ("headless", "overhead_150k_ms", "overhead/call @150k ms", 20.0, True),
    ("headless", "peak_rss_mb", "peak RSS MB", 400.0, True),
    ("app", "overhead_10k_ms", "overhead/call @10k ms", 10.0, True),
    ("app", "overhead_50k_ms", "overhead/call @50k ms", 20.0, True),
    ("app", "overhead_100k_ms", "overhead/call @100k ms", 20.0, True),
    ("app", "overhead_150k_ms", "overhead/call @150k ms", 20.0, True),
    ("app", "worst_stall_ms", "worst loop stall ms", 50.0, True),
    ("app", "peak_rss_mb", "peak RSS MB", 400.0, True),
    ("resume", "app_resume_s", "/resume 5,000 msgs s", 1.0, True),
    ("resume", "headless_resume_cost_s", "--resume cost s", 1.0, True),
    ("browse", "browse_s", "browser 500 sessions s", 0.5, True),
]
INFO = {
    "headless": ("journal_mb", "overhead_median_ms", "overhead_worst_ms", "max_prompt_tokens"),
    "app": ("journal_mb", "overhead_median_ms", "overhead_worst_ms", "stalls_over_50ms"),
    "resume": (
        "app_resume_worst_stall_ms",
        "app_resume_warmup_wait_s",
        "app_resume_at_first_frame_s",
        "headless_resume_ready_s",
        "journal_mb",
    ),
    "browse": ("browse_first_s", "browse_worst_stall_ms", "sessions_mb"),
}


def print_table(results: dict[str, dict[str, Any]]) -> int:
    """A table of each metric against its target; exit 1 when one misses."""
    header = f"{'part':<9} {'metric':<26} {'value':>10} {'target':>8} {'vs target':>10}"
    print(header)
    print("-" * len(header))
    missed = 0
    for part, key, label, target, lower in TARGETS:
        if part not in results:
            continue
        value = results[part].get(key)
        if value is None:
            print(f"{part:<9} {label:<26} {'n/a':>10} {target:>8g}  (size not reached)  MISS")
            missed += 1
            continue
        ok = value <= target if lower else value >= target
        missed += not ok
        line = f"{part:<9} {label:<26} {value:>10,.2f} {target:>8g} {value / target:>9.2f}x"
        print(line + ("" if ok else "  MISS"))
    for part, keys in INFO.items():
        for key in keys:
            if part in results and key in results[part]:
                print(f"{part:<9} {key + ' (info)':<26} {results[part][key]:>10,}")
    return 1 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=["headless", "app", "resume", "browse", "all"])
    parser.add_argument("--json", action="store_true", help="print the raw result as JSON")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--sessions", type=int, default=500)
    args = parser.parse_args()
    parts = ["headless", "app", "resume", "browse"] if args.which == "all" else [args.which]
    results: dict[str, dict[str, Any]] = {}
    for part in parts:
        results[part] = run_child(part, args) if args.which == "all" else run_part(part, args)
    if args.json:
        print(json.dumps(results if args.which == "all" else results[args.which]))
        return 0
    load1, load5, _ = os.getloadavg()
    print(f"load average while measuring: {load1:.1f} (1 min), {load5:.1f} (5 min)")
    print(json.dumps(results))
    return print_table(results)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
