"""What ``bench/session.py`` works on: a project to read, and saved sessions to resume and list.

Journals are written through the real ``Journal`` class, record by record in the order
the loop writes them (events and history records), so resume and the sessions browser
read what a real session leaves on disk. Texts are deterministic (a seeded generator):
every run reads the same bytes.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.journal import Journal

WORDS = tuple(
    [
        "model",
        "loss",
        "epoch",
        "batch",
        "gradient",
        "tensor",
        "dataset",
        "split",
        "train",
        "eval",
        "tokenizer",
        "layer",
        "weight",
        "bias",
        "learning",
        "rate",
        "schedule",
        "warmup",
        "step",
        "checkpoint",
        "adapter",
        "lora",
        "rank",
        "optimizer",
        "adam",
        "scheduler",
        "logits",
        "label",
        "accuracy",
        "metric",
        "shard",
        "stream",
        "column",
        "feature",
        "vocab",
        "padding",
    ]
)


def code_lines(rnd: random.Random, count: int) -> list[str]:
    """Python-looking lines (about 40 characters each)."""
    lines = []
    for n in range(count):
        a, b, c = (rnd.choice(WORDS) for _ in range(3))
        if n % 9 == 0:
            lines.append(f"def {a}_{b}({c}, step={n}):")
        elif n % 9 == 8:
            lines.append(f"    return {a}_{b} + {c}")
        else:
            lines.append(f"    {a}_{b} = {c}.{rnd.choice(WORDS)}({n}, {rnd.choice(WORDS)!r})")
    return lines


def make_project(root: Path, files: int, lines: int = 33) -> None:
    """``root/src/mod_001.py`` … : ``files`` files of ``lines`` lines (about 500 tokens each
    once the read tool numbered them)."""
    rnd = random.Random(12)
    src = root / "src"
    src.mkdir(parents=True, exist_ok=True)
    for k in range(1, files + 1):
        (src / f"mod_{k:03d}.py").write_text("\n".join(code_lines(rnd, lines)) + "\n")


class SessionWriter:
    """Writes one session's journal the way the loop does (without fsync: bench data)."""

    def __init__(self, directory: Path, session_id: str, model: str, cwd: str) -> None:
        self.journal = Journal.create(directory, session_id, {"model": model, "cwd": cwd})
        self.journal.has_user_message = True
        self.calls = 0
        self.session_id = session_id
        self.message({"role": "system", "content": "You are ml-intern. " * 200})

    def message(self, message: dict[str, Any]) -> None:
        self.journal.append({"kind": "message", "message": message}, durable=False)

    def event(self, event: p.EventBase) -> None:
        event.session_id = self.session_id
        self.journal.record_event(event)

    def turn(self, rnd: random.Random, text: str, calls: int, output_lines: int) -> None:
        """One turn: the user's text, ``calls`` tool calls with their results, an answer."""
        self.event(p.TurnStarted(text=text))
        self.message({"role": "user", "content": text, "_origin": "user"})
        for _ in range(calls):
            self.calls += 1
            call_id = f"call_{self.calls}"
            path = f"src/mod_{self.calls % 300 + 1:03d}.py"
            args = {"path": path}
            self.message(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": call_id,
                            "type": "function",
                            "function": {"name": "read", "arguments": json.dumps(args)},
                        }
                    ],
                }
            )
            self.event(p.ToolCall(call_id=call_id, tool="read", args=args))
            body = "\n".join(
                f"{n:>6}\t{line}" for n, line in enumerate(code_lines(rnd, output_lines), 1)
            )
            summary = f"{path}: lines 1-{output_lines} of {output_lines}"
            self.event(p.ToolResultEvent(call_id=call_id, ok=True, summary=summary, output=body))
            self.message({"role": "tool", "tool_call_id": call_id, "content": body})
            self.event(p.ContextUsage(used=1000 * self.calls, limit=262_144, threshold=235_929))
            self.event(p.Spend(llm_usd=0.001 * self.calls, jobs_usd=0.0, llm_calls=self.calls))
        answer = f"Done: read {calls} files. " + " ".join(rnd.choice(WORDS) for _ in range(60))
        self.message({"role": "assistant", "content": answer})
        self.event(p.AssistantMessage(text=answer))
        self.event(p.TurnComplete(final_text=answer, iterations=calls + 1))

    def close(self) -> Path:
        self.journal.close()
        return self.journal.path


def write_session(
    directory: Path,
    session_id: str,
    *,
    messages: int,
    calls_per_turn: int = 25,
    output_lines: int = 4,
    model: str = "vllm/fake",
    cwd: str = "/tmp",
    seed: int = 0,
) -> Path:
    """A session of about ``messages`` history messages (besides the system prompt)."""
    rnd = random.Random(seed)
    writer = SessionWriter(directory, session_id, model, cwd)
    per_turn = 2 * calls_per_turn + 2
    turns = max(1, round(messages / per_turn))
    for t in range(turns):
        topic = " ".join(rnd.choice(WORDS) for _ in range(8))
        writer.turn(rnd, f"Turn {t + 1}: look at the {topic}", calls_per_turn, output_lines)
    return writer.close()


def write_many_sessions(directory: Path, count: int) -> list[Path]:
    """``count`` saved sessions of mixed length (one in 50 is long: ~600 messages of
    2 kB outputs; the others 10-60 messages), written over the past months."""
    paths = []
    now = time.time()
    for n in range(count):
        rnd = random.Random(n)
        long = n % 50 == 0
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now - n * 3600 * 5))
        session_id = f"{stamp}-{n:06x}"
        messages = 600 if long else rnd.randrange(10, 61)
        path = write_session(
            directory,
            session_id,
            messages=messages,
            calls_per_turn=25 if long else 4,
            output_lines=44 if long else 6,
            seed=n,
        )
        written = now - n * 3600 * 5
        os.utime(path, (written, written))
        paths.append(path)
    return paths
