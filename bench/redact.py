"""Hygiene benchmarks: redaction and terminal-safe text on long texts.

Run from the repository root::

    .venv/bin/python bench/redact.py

Each number is the best of several runs (milliseconds) on a 120,000-character text:
an answer-like Markdown text, a log-like text where every line holds ``key=value``
pairs (the slow case for the ``NAME=value`` rule), the same with 12 known secret values
registered, and ``terminal_safe`` on clean text and on text with escapes. The streamed
case feeds the answer in 20,000 small pieces through ``StreamRedactor`` (``--json``).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_text import token_text

from ml_intern_tui.core import known_secrets
from ml_intern_tui.core.redact import redact_text
from ml_intern_tui.core.redact_stream import StreamRedactor
from ml_intern_tui.safety.terminal import terminal_safe

CHARS = 120_000
TARGETS_MS = {
    "redact_text answer": 10.0,
    "redact_text log lines": 60.0,
    "redact_text log + 12 known values": 60.0,
    "terminal_safe clean": 2.0,
    "terminal_safe with escapes": 10.0,
    "stream 20k pieces": 400.0,
}


def log_text() -> str:
    rng = random.Random(1)
    words = [
        "step",
        "loss=0.23",
        "learning_rate:",
        "2e-5",
        "max_new_tokens=256",
        "token_type_ids",
        "tokenizer",
        "pad_token",
        "epoch",
        "grad_norm:",
        "1.2",
        "see",
        "https://huggingface.co/x",
    ]
    lines: list[str] = []
    size = 0
    while size < CHARS:
        line = " ".join(rng.choice(words) for _ in range(12))
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)[:CHARS]


def best_ms(action: Callable[[int], object], runs: int = 15) -> float:
    best = float("inf")
    for run in range(runs):
        started = time.perf_counter()
        action(run)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> int:
    answer = token_text(30_000)[:CHARS]
    log = log_text()
    escapes = answer.replace("tok1 ", "tok1 \x1b]0;t\x07 \x1b[31m")[:CHARS]
    pieces = [answer[i : i + 6] for i in range(0, CHARS, 6)]
    # A different text each run: long texts are cached by identity and value.
    results = {
        "redact_text answer": best_ms(lambda run: redact_text(answer + str(run))),
        "redact_text log lines": best_ms(lambda run: redact_text(log + str(run))),
    }
    for i in range(12):
        known_secrets.register(f"known-secret-value-{i:03d}-Zq8x", f"VAR_{i}")
    results["redact_text log + 12 known values"] = best_ms(lambda run: redact_text(log + str(run)))
    known_secrets.clear()
    results["terminal_safe clean"] = best_ms(lambda run: terminal_safe(answer))
    results["terminal_safe with escapes"] = best_ms(lambda run: terminal_safe(escapes))

    def stream(_run: int) -> None:
        redactor = StreamRedactor(early=True)
        for piece in pieces:
            redactor.feed(piece)
        redactor.flush()

    results["stream 20k pieces"] = best_ms(stream, runs=3)
    header = f"{'case':<36} {'ms':>9} {'target':>8} {'vs target':>10}"
    print(header)
    print("-" * len(header))
    missed = 0
    for name, value in results.items():
        target = TARGETS_MS[name]
        missed += value > target
        flag = "" if value <= target else "  MISS"
        print(f"{name:<36} {value:>9.2f} {target:>8g} {value / target:>9.2f}x{flag}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
