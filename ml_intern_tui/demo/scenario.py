"""Bundled scripted scenarios: the offline demo and a plain echo model.

The demo drives real tools in a temporary workspace holding ``data/reviews.csv`` (240
labelled movie-review sentences shipped with the package): make a plan, inspect the data,
write a training script, run it as a background job (the one approval), wait for it,
read its metrics and report.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from ml_intern_tui.demo.steps import Scenario, Step, find_in_history

TRAIN_SCRIPT = """\"\"\"Bag-of-words logistic regression on data/reviews.csv (stdlib only).

Prints what training tools print: a progress bar redrawn in place, `step=` lines and a
line per epoch; logs to trackio too when it is installed. ``--steps-per-s`` paces it.
\"\"\"

import argparse
import csv
import json
import math
import os
import random
import re
import sys
import time


def tokens(text):
    return re.findall(r"[a-z]+", text.lower())


def start_trackio(config):
    os.environ.setdefault("TRACKIO_DIR", os.path.abspath("trackio"))
    try:
        import trackio

        trackio.init(project="ml-intern-demo", config=config)
        return trackio
    except Exception:  # not installed, or cannot write: the log still has every metric
        return None


def bar(step, total, started):
    elapsed = time.monotonic() - started
    rate = step / elapsed if elapsed else 0.0
    left = (total - step) / rate if rate else 0.0
    filled = int(20 * step / total)
    clock = lambda s: f"{int(s) // 60:02d}:{int(s) % 60:02d}"
    return (
        f"\\r{100 * step // total:3d}%|{'#' * filled}{' ' * (20 - filled)}| {step}/{total} "
        f"[{clock(elapsed)}<{clock(left)}, {rate:.2f}it/s]"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps-per-s", type=float, default=48.0)
    args = parser.parse_args()

    with open("data/reviews.csv", newline="") as f:
        rows = [(tokens(r["text"]), int(r["label"])) for r in csv.DictReader(f)]
    random.Random(0).shuffle(rows)
    split = int(len(rows) * 0.8)
    train, valid = rows[:split], rows[split:]
    vocab = sorted({w for ws, _ in train for w in ws})
    index = {w: i for i, w in enumerate(vocab)}
    weights = [0.0] * len(vocab)
    bias = 0.0
    print(f"train={len(train)} valid={len(valid)} vocab={len(vocab)}", flush=True)
    tracker = start_trackio(vars(args))

    def predict(ws):
        z = bias + sum(weights[index[w]] for w in ws if w in index)
        return 1.0 / (1.0 + math.exp(-z))

    batches = math.ceil(len(train) / args.batch)
    total, step, started = args.epochs * batches, 0, time.monotonic()
    for epoch in range(1, args.epochs + 1):
        loss = 0.0
        for first in range(0, len(train), args.batch):
            batch_loss = 0.0
            for ws, label in train[first : first + args.batch]:
                p = predict(ws)
                batch_loss -= math.log(max(p if label else 1 - p, 1e-9))
                grad = p - label
                for w in ws:
                    weights[index[w]] -= args.lr * grad / len(ws)
                bias -= args.lr * grad * 0.1
            loss += batch_loss
            step += 1
            batch_loss /= len(train[first : first + args.batch])
            sys.stderr.write(bar(step, total, started))
            sys.stderr.flush()
            if step % 4 == 0:
                sys.stderr.write("\\r")
                print(f"step={step} loss={batch_loss:.4f} lr={args.lr}", flush=True)
                if tracker:
                    tracker.log({"train/loss": batch_loss, "lr": args.lr}, step=step)
            time.sleep(1.0 / args.steps_per_s)
        acc = sum((predict(ws) > 0.5) == bool(y) for ws, y in valid) / len(valid)
        sys.stderr.write("\\r")
        print(f"epoch {epoch}/{args.epochs} epoch_loss={loss / len(train):.4f} val_acc={acc:.3f}", flush=True)
        if tracker:
            tracker.log({"eval/accuracy": acc, "epoch": epoch}, step=step)

    if tracker:
        tracker.finish()
    with open("metrics.json", "w") as f:
        json.dump({"val_accuracy": round(acc, 4), "epochs": args.epochs, "vocab": len(vocab)}, f)
    print("saved metrics.json", flush=True)


if __name__ == "__main__":
    main()
"""


def _plan(*statuses: str) -> dict[str, Any]:
    names = [
        "Inspect the dataset (columns, size, label balance)",
        "Write a baseline training script",
        "Train in the background and watch the log",
        "Report validation accuracy",
    ]
    return {
        "todos": [
            {"id": str(i + 1), "content": name, "status": status}
            for i, (name, status) in enumerate(zip(names, statuses, strict=True))
        ]
    }


PACE_ENV = "ML_INTERN_DEMO_STEPS_PER_S"
"""Training steps per second of the demo's job (default 48: the 144 steps take ~3 s).

A slower pace keeps the job running long enough to watch its sparklines grow (the tmux
test of the demo uses it); read when the training step is served, not at import."""
MAX_STEPS_PER_S = 1000.0


def training_pace(env: Mapping[str, str] | None = None) -> tuple[float | None, str]:
    """The pace ``PACE_ENV`` asks for (None: the script's default), and a note if it is bad."""
    raw = (os.environ if env is None else env).get(PACE_ENV, "").strip()
    if not raw:
        return None, ""
    try:
        pace = float(raw)
    except ValueError:
        pace = math.nan
    if not 0 < pace <= MAX_STEPS_PER_S:  # also false for nan
        return None, (
            f"({PACE_ENV}={raw!r} is not a number of steps per second in (0, "
            f"{MAX_STEPS_PER_S:g}]: training at the default pace.)"
        )
    return pace, ""


def _start_training(messages: list[dict[str, Any]]) -> Step:
    pace, note = training_pace()
    command = "python3 train.py --epochs 12"
    if pace is not None:
        command += f" --steps-per-s {pace:g}"
    text = "The script is written. Training runs as a background job so we can watch it."
    return Step(
        text=f"{text} {note}" if note else text,
        tool_calls=[
            ("plan", _plan("completed", "completed", "in_progress", "pending")),
            (
                "bash",
                {
                    "command": command,
                    "description": "Train the baseline classifier",
                    "background": True,
                },
            ),
        ],
    )


def _wait_for_job(messages: list[dict[str, Any]]) -> Step:
    job_id = find_in_history(messages, r"\b(job-[0-9a-z]+)\b", default="")
    return Step(
        text="The job is running. I'll follow it until it finishes.",
        tool_calls=[("jobs", {"operation": "wait", "job_id": job_id, "timeout_s": 120})],
    )


def _report(messages: list[dict[str, Any]]) -> Step:
    accuracy = find_in_history(messages, r'"val_accuracy":\s*([0-9.]+)', default="n/a")
    return Step(
        text=(
            "## Done\n\n"
            f"The baseline reached a **validation accuracy of {accuracy}** on 48 held-out "
            "reviews after 12 epochs.\n\n"
            "- `train.py` — bag-of-words logistic regression, stdlib only\n"
            "- `metrics.json` — final metrics\n"
            "- the full training log is in the jobs pane\n\n"
            "Next steps I would suggest: a TF-IDF baseline, then fine-tuning a small "
            "transformer with `transformers` once a GPU job is approved."
        ),
        tool_calls=[],
    )


RESEARCH_SUMMARY = (
    "For 240 short labelled sentences, start with a linear model on bag-of-words "
    "features: it trains in seconds, is hard to overfit, and gives a number to beat "
    "before fine-tuning a transformer.\n\n"
    "- The CSV has `text` and a binary `label` (read from data/reviews.csv).\n"
    "- Hold out 20% for validation; report accuracy.\n\n"
    "Sources: data/reviews.csv"
)


def demo_scenario() -> Scenario:
    return Scenario(
        name="demo",
        research_steps=[
            Step(
                text="Reading the data first.",
                tool_calls=[("read", {"path": "data/reviews.csv", "limit": 6})],
            ),
            Step(text=RESEARCH_SUMMARY),
        ],
        description="Inspect a CSV, write and run a training script, report the result.",
        chunk_delay_s=0.02,
        steps=[
            Step(
                reasoning="The user wants a baseline. First lay out a plan, then look at the data.",
                text="I'll set up a short plan, then look at the data before writing any code.",
                tool_calls=[("plan", _plan("in_progress", "pending", "pending", "pending"))],
            ),
            Step(
                text="First a quick look at what a sound baseline for this data would be.",
                tool_calls=[
                    (
                        "research",
                        {
                            "task": "What baseline suits a small binary sentiment CSV?",
                            "context": "data/reviews.csv in the working directory",
                        },
                    )
                ],
            ),
            Step(
                text="Let's see the shape of the dataset.",
                tool_calls=[
                    (
                        "bash",
                        {
                            "command": "head -5 data/reviews.csv && wc -l data/reviews.csv",
                            "description": "Peek at the CSV and count rows",
                        },
                    ),
                    ("read", {"path": "data/reviews.csv", "limit": 12}),
                ],
            ),
            Step(
                text=(
                    "Two columns, `text` and a binary `label`, 240 rows. "
                    "A bag-of-words logistic regression is a sound first baseline."
                ),
                tool_calls=[
                    ("plan", _plan("completed", "in_progress", "pending", "pending")),
                    ("write", {"path": "train.py", "content": TRAIN_SCRIPT}),
                ],
            ),
            _start_training,
            _wait_for_job,
            Step(
                text="Training finished. Reading the metrics.",
                tool_calls=[
                    ("bash", {"command": "cat metrics.json", "description": "Show final metrics"})
                ],
            ),
            Step(
                text="",
                tool_calls=[("plan", _plan("completed", "completed", "completed", "completed"))],
            ),
            _report,
        ],
    )


def echo_scenario() -> Scenario:
    """Replies with the last user text (a cheap model for smoke tests)."""

    def reply(messages: list[dict[str, Any]]) -> Step:
        users = [m for m in messages if m.get("role") == "user"]
        return Step(text=f"You said: {users[-1].get('content') if users else ''}")

    class EchoScenario(Scenario):
        def step_for(self, messages: list[dict[str, Any]]) -> Step:
            return reply(messages)

    return EchoScenario(name="echo", steps=[], description="Echoes the user.")


def builtin_scenarios() -> list[Scenario]:
    return [demo_scenario(), echo_scenario()]
