"""TUI benchmarks: token streaming into the chat, and job-log lines into the jobs pane.

Run from the repository root::

    .venv/bin/python bench/tui.py stream   # 20,000 tokens from the fake OpenAI server
    .venv/bin/python bench/tui.py first    # a fresh app's first call: first token, 2,000 words
    .venv/bin/python bench/tui.py joblog   # 200,000 log lines through the jobs pane
    .venv/bin/python bench/tui.py all      # both, as a table against the targets (make bench)

``stream`` runs the real runtime inside a headless app against ``fakes.openai_server``
(started in a process of its own, like a real model server) and compares the time until
the last token is on screen with the time litellm alone takes to read the same stream;
``joblog`` feeds log lines to the real job registry as fast as the loop allows (ANSI
stripped, log file written, metrics read from each line: ``--no-metrics`` to compare)
and waits for the last one in the jobs pane. Both report the worst event-loop stall seen by a 5 ms ticker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from ml_intern_tui import envdefaults  # noqa: E402

envdefaults.apply()

from bench_text import token_text  # noqa: E402

from ml_intern_tui.core import protocol as p  # noqa: E402
from ml_intern_tui.tui.app import MLInternApp  # noqa: E402


class StallMonitor:
    """Measures how late a 5 ms sleep wakes up: the event loop's worst stall."""

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(self.period)
            self.worst = max(self.worst, loop.time() - start - self.period)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def wait_until(condition: object, timeout: float = 600.0, poll: float = 0.002) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not met")
        await asyncio.sleep(poll)


SERVER_SCRIPT = """
import sys, time
sys.path.insert(0, sys.argv[1])
from fakes.openai_server import FakeOpenAI, Reply
from bench_text import token_text
tokens = int(sys.argv[2])
text = token_text(tokens)
with FakeOpenAI() as fake:
    # In the order the benchmark asks: litellm alone (warm-up, run), then the app (same).
    for reply_text, chunks in (("warm up", 3), (text, tokens), ("warm up", 3), (text, tokens)):
        fake.enqueue(Reply(text=reply_text, chunks=chunks, finish_reason="stop"))
    print(fake.base_url, flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
"""


class ServerProcess:
    """The fake OpenAI server in a process of its own, as a real model server would be.

    In the benchmark's own process, the server's thread would compete with the app for
    the GIL and the stall figures would measure that competition, not the app.
    """

    def __init__(self, tokens: int) -> None:
        import subprocess

        self._proc = subprocess.Popen(
            [sys.executable, "-c", SERVER_SCRIPT, str(TESTS), str(tokens)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)},
        )
        assert self._proc.stdout is not None
        self.base_url = self._proc.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            raise RuntimeError("the fake OpenAI server did not start")

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except Exception:
            self._proc.kill()


async def raw_stream_time(base_url: str) -> float:
    """Seconds litellm alone takes to read the next queued reply."""
    import litellm

    start = time.perf_counter()
    response = await litellm.acompletion(
        model="openai/fake",
        api_base=base_url,
        api_key="sk-fake",
        stream=True,
        messages=[{"role": "user", "content": "go"}],
        max_retries=0,
    )
    async for _chunk in response:
        pass
    return time.perf_counter() - start


async def bench_stream(tokens: int) -> dict[str, float]:
    from ml_intern_tui.config.schema import AppConfig
    from ml_intern_tui.runtime.agent import build_runtime
    from ml_intern_tui.tui.widgets.blocks.assistant import AssistantBlock

    text = token_text(tokens)
    server = ServerProcess(tokens)
    try:
        os.environ["VLLM_BASE_URL"] = server.base_url
        os.environ["VLLM_API_KEY"] = "sk-fake"
        await raw_stream_time(server.base_url)  # warm up
        raw = await raw_stream_time(server.base_url)
        with tempfile.TemporaryDirectory() as tmp:
            settings = AppConfig.model_validate({"model": "vllm/fake", "llm": {"max_retries": 0}})
            runtime = build_runtime(settings, cwd=Path(tmp))
            app = MLInternApp(runtime)
            async with app.run_test(size=(120, 40)) as pilot:
                await wait_until(lambda: app.header.session_id)
                app.submit(p.UserInput(text="warm up"))
                await wait_until(lambda: not app.busy and app.chat.query(AssistantBlock))
                warm = app.chat.latest_assistant()
                monitor = StallMonitor()
                monitor.start()
                start = time.perf_counter()
                app.submit(p.UserInput(text="go"))
                # Polling must stay cheap: a DOM query per poll would cost more than the
                # rendering it measures once the answer has hundreds of widgets.
                await wait_until(lambda: app.chat.latest_assistant() is not warm, poll=0.02)
                block = app.chat.latest_assistant()
                assert block is not None
                await wait_until(lambda: block.finished, poll=0.02)
                await pilot.pause()  # the frame with the last of it
                shown = time.perf_counter() - start
                monitor.stop()
                assert len(block.source.strip()) >= len(text.strip()) - 1, "answer not all shown"
    finally:
        server.close()
    return {
        "tokens": tokens,
        "raw_stream_s": round(raw, 3),
        "render_s": round(shown, 3),
        "ratio": round(shown / raw, 2),
        "worst_stall_ms": round(monitor.worst * 1000, 1),
    }


FIRST_SERVER_SCRIPT = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from fakes.openai_server import FakeOpenAI, Reply, _Handler
words = int(sys.argv[2])
text = " ".join(f"word{i % 97}" + ("\\n\\n" if i % 80 == 79 else "") for i in range(words))
sent = []

class Timed(FakeOpenAI):
    def _handler_class(self):
        class Handler(_Handler):
            server_fake = self
            def do_POST(self):
                super().do_POST()
                sent.append(time.monotonic())
        return Handler

with Timed() as fake:
    fake.enqueue(Reply(text=text, chunks=round(words * 1.3), finish_reason="stop"))
    print(fake.base_url, flush=True)
    sys.stdin.read()
print(json.dumps(sent), flush=True)
"""


def _first_hook() -> None:
    """Called when the first token is on screen (profilers hook it)."""


TYPING_S = 3.0
"""How long the user types the first prompt after the app is ready."""


async def bench_first(words: int) -> dict[str, float]:
    """The first model call of a fresh app, as a user makes it: the app starts, the user
    types while it warms up, presses Enter. Time to the first token on screen, and from
    the server's last byte of a ``words``-word answer to all of it on screen."""
    import subprocess

    from ml_intern_tui.config.schema import AppConfig
    from ml_intern_tui.runtime.agent import build_runtime

    proc = subprocess.Popen(  # noqa: ASYNC220 - before the app starts
        [sys.executable, "-c", FIRST_SERVER_SCRIPT, str(TESTS), str(words)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    base_url = proc.stdout.readline().strip()
    try:
        os.environ["VLLM_BASE_URL"] = base_url
        os.environ["VLLM_API_KEY"] = "sk-fake"
        with tempfile.TemporaryDirectory() as tmp:
            settings = AppConfig.model_validate({"model": "vllm/fake", "llm": {"max_retries": 0}})
            runtime = build_runtime(settings, cwd=Path(tmp))
            app = MLInternApp(runtime)
            async with app.run_test(size=(120, 40)) as pilot:
                await wait_until(lambda: app.header.session_id)
                # The user types for a few seconds while the app warms up in the
                # background (started after its first frame), then presses Enter.
                await asyncio.sleep(TYPING_S)
                monitor = StallMonitor()
                monitor.start()
                start = time.perf_counter()
                app.submit(p.UserInput(text="go"))

                def first_token() -> bool:
                    block = app.chat.latest_assistant()
                    return block is not None and bool(block.source.strip())

                # The text is in the widget: the next frame (within ~16 ms) paints it.
                await wait_until(first_token, poll=0.001)
                first = time.perf_counter() - start
                _first_hook()
                block = app.chat.latest_assistant()
                assert block is not None
                await wait_until(lambda: block.finished, poll=0.005)
                await pilot.pause()
                shown_at = time.monotonic()
                monitor.stop()
                assert len(block.source.split()) >= words - 1, "answer not all shown"
    finally:
        proc.stdin.close()
        sent = json.loads(proc.stdout.readline() or "[]")
        proc.wait(timeout=10)
    return {
        "words": words,
        "first_token_s": round(first, 3),
        "after_last_byte_s": round(shown_at - sent[-1], 3) if sent else -1.0,
        "worst_stall_ms": round(monitor.worst * 1000, 1),
    }


async def bench_stream_ui(tokens: int, seconds: float) -> dict[str, float]:
    """The UI alone: ``tokens`` deltas published over ``seconds`` by a fake runtime.

    Separates what rendering costs from what the model client costs (litellm reading a
    fast local stream can itself hold the loop for a long time).
    """
    from tui.fake_runtime import FakeRuntime

    from ml_intern_tui.tui.widgets.blocks.assistant import AssistantBlock

    text = token_text(tokens)
    pieces = text.split(" ")
    runtime = FakeRuntime()
    app = MLInternApp(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(lambda: app.header.session_id)
        runtime.publish(p.TurnStarted(text="go"))
        monitor = StallMonitor()
        monitor.start()
        start = time.perf_counter()
        per_tick = max(1, round(len(pieces) * 0.005 / seconds))
        for i in range(0, len(pieces), per_tick):
            for piece in pieces[i : i + per_tick]:
                runtime.publish(p.AssistantDelta(text=piece + " "))
            await asyncio.sleep(0.005)
        published = time.perf_counter() - start
        runtime.publish(p.AssistantMessage(text=" ".join(pieces) + " "))

        def rendered() -> bool:
            found = app.chat.query(AssistantBlock)
            return bool(found) and found.last().finished

        await wait_until(rendered)
        shown = time.perf_counter() - start
        monitor.stop()
        await pilot.pause()
    return {
        "tokens": tokens,
        "publish_s": round(published, 3),
        "render_s": round(shown, 3),
        "ratio": round(shown / published, 2),
        "worst_stall_ms": round(monitor.worst * 1000, 1),
    }


async def bench_joblog(lines: int, batch: int, metrics: bool = True) -> dict[str, float]:
    """Log lines through the real job registry (ANSI stripped, log file written, metrics
    read from every line when ``metrics``) into the jobs pane."""
    from tui.fake_runtime import FakeRuntime

    from ml_intern_tui.jobs.registry import JobRecord, JobRegistry

    runtime = FakeRuntime()
    app = MLInternApp(runtime)
    with tempfile.TemporaryDirectory() as logs:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(lambda: app.header.session_id)
            registry = JobRegistry(runtime.publish, Path(logs), extract_metrics=metrics)
            registry.register_external(JobRecord(id="j", kind="local", title="bench"))
            await wait_until(lambda: app.jobs.selected == "j")
            before = rss_mb()
            monitor = StallMonitor()
            monitor.start()
            start = time.perf_counter()
            last = f"line {lines - 1} "
            for first in range(0, lines, batch):
                chunk = [
                    f"\x1b[32mline {i}\x1b[0m step={i} loss={1 / (i + 1):.5f}"
                    for i in range(first, min(lines, first + batch))
                ]
                registry.add_lines("j", chunk)
                await asyncio.sleep(0)
            log = app.jobs.log_view
            await wait_until(lambda: log.line_count and log.lines[-1].startswith(last))
            elapsed = time.perf_counter() - start
            monitor.stop()
            await pilot.pause()
            growth = rss_mb() - before
            record = registry.get("j")
            points = record.metrics.series["loss"].count if record and record.metrics else 0
            await registry.shutdown()
    return {
        "lines": lines,
        "seconds": round(elapsed, 3),
        "lines_per_s": round(lines / elapsed),
        "rss_growth_mb": round(growth, 1),
        "worst_stall_ms": round(monitor.worst * 1000, 1),
        "metric_points": points,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=["stream", "stream-ui", "first", "joblog", "all"])
    parser.add_argument("--json", action="store_true", help="print the raw result as JSON")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--words", type=int, default=2000, help="first: the answer's length")
    parser.add_argument(
        "--no-metrics", action="store_true", help="joblog: do not read metrics from the lines"
    )
    args = parser.parse_args()
    results: list[tuple[str, dict[str, Any]]] = []
    if args.which in ("stream", "all"):
        results.append(("stream", asyncio.run(bench_stream(args.tokens))))
    if args.which in ("first", "all"):
        results.append(("first", asyncio.run(bench_first(args.words))))
    if args.which == "stream-ui":
        results.append(("stream-ui", asyncio.run(bench_stream_ui(args.tokens, args.seconds))))
    if args.which in ("joblog", "all"):
        result = asyncio.run(bench_joblog(args.lines, args.batch, metrics=not args.no_metrics))
        results.append(("joblog", result))
    if args.json:
        for _, result in results:
            print(json.dumps(result))
        return 0
    return print_table(results)


# (metric key, label, target, whether lower is better)
TARGETS = {
    "stream": [
        ("ratio", "render / raw stream time", 1.5, True),
        ("worst_stall_ms", "worst loop stall ms", 50.0, True),
    ],
    "stream-ui": [("worst_stall_ms", "worst loop stall ms", 50.0, True)],
    "first": [
        ("first_token_s", "first token after Enter s", 0.15, True),
        ("after_last_byte_s", "shown after last byte s", 0.5, True),
    ],
    "joblog": [
        ("lines_per_s", "lines per second", 100_000.0, False),
        ("rss_growth_mb", "memory growth MB", 50.0, True),
    ],
}


def print_table(results: list[tuple[str, dict[str, Any]]]) -> int:
    """A table of each metric against its target; exit 1 when one misses."""
    header = f"{'bench':<10} {'metric':<26} {'value':>12} {'target':>10} {'vs target':>10}"
    print(header)
    print("-" * len(header))
    missed = 0
    for name, result in results:
        for key, label, target, lower in TARGETS[name]:
            if key not in result:
                continue
            value = float(result[key])
            ok = value <= target if lower else value >= target
            missed += not ok
            print(
                f"{name:<10} {label:<26} {value:>12,.2f} {target:>10,g} "
                f"{value / target:>9.2f}x{'' if ok else '  MISS'}"
            )
        if name == "joblog" and "worst_stall_ms" in result:
            print(
                f"{name:<10} {'worst loop stall ms (info)':<26} {result['worst_stall_ms']:>12,.2f}"
            )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
