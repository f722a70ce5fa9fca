"""A whole session: a background training job's metrics, a stall, and the agent's note.

The real runtime (loop, bash tool, job registry, journal) against the fake OpenAI
server: the model starts a job that prints Trainer-style lines and then hangs; the
session sends ``job_metrics`` events with its curve, raises the stall notice once, and
the model's next request carries the system note about it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from fakes.openai_server import FakeOpenAI, Reply
from support import wait_until

from ml_intern_tui.core.notes import NOTES_TAG
from ml_intern_tui.core.protocol import UserInput

TRAIN = """
import sys, time
for step in range(1, 31):
    sys.stderr.write(f"\\r{int(100 * step / 30):3d}%|#   | {step}/30 [00:01<00:01, 30.00it/s]")
    sys.stderr.flush()
    if step % 10 == 0:
        sys.stderr.write("\\r")
        print({'loss': round(3.0 / step, 4), 'grad_norm': 1.5, 'epoch': round(step / 30, 2)}, flush=True)
    time.sleep(0.01)
time.sleep(60)
"""


def journal_events(harness: Any, kind: str) -> list[dict[str, Any]]:
    session = harness.runtime.loop.session
    assert session is not None and session.journal is not None
    records = [json.loads(line) for line in Path(session.journal.path).read_text().splitlines()]
    return [r["event"] for r in records if r.get("kind") == "event" and r["event"]["type"] == kind]


async def test_background_training_job_metrics_stall_notice_and_agent_note(
    fake_openai: FakeOpenAI, harness_factory: Any, workspace: Path
) -> None:
    (workspace / "train.py").write_text(TRAIN)
    command = f"{sys.executable} -u train.py"
    fake_openai.enqueue(
        Reply(
            tool_calls=[
                ("bash", json.dumps({"command": command, "background": True, "description": "sft"}))
            ]
        ),
        Reply(text="Training started."),
        Reply(text="It stalled; I will look."),
    )
    h = await harness_factory(mode="yolo", jobs={"stall_after_s": 1})
    h.submit(UserInput(text="train it"))
    assert (await h.wait_for("turn_complete")).final_text == "Training started."
    (started,) = [r for r in h.of("tool_result") if r.data and "job_id" in r.data]
    job_id = started.data["job_id"]

    def loss_points() -> list[tuple[float, float]]:
        return [
            p for e in h.of("job_metrics") if e.job_id == job_id for p in e.series.get("loss", [])
        ]

    await wait_until(lambda: len(loss_points()) == 3, timeout=15, what="three loss points")
    assert loss_points() == [(10.0, 0.3), (20.0, 0.15), (30.0, 0.1)]
    assert all(e.axis == "step" for e in h.of("job_metrics"))
    last_progress = [e.progress for e in h.of("job_metrics") if e.progress is not None][-1]
    assert (last_progress.n, last_progress.total) == (30, 30)

    # (On a loaded machine the interpreter's start may already count as a first stall.)
    stall = await h.wait_for(
        "notice", lambda e: e.alert == "stalled" and "at step 30/30" in e.text, timeout=15
    )
    assert stall.job_id == job_id and stall.level == "warning"

    mark = h.mark()
    h.submit(UserInput(text="how is it going?"))
    assert (await h.wait_for("turn_complete", after=mark)).final_text == "It stalled; I will look."
    await wait_until(lambda: fake_openai.requests_count >= 3, what="third model call")
    messages = fake_openai.requests[2].body["messages"]
    notes = [m["content"] for m in messages if m["role"] == "user" and NOTES_TAG in m["content"]]
    assert len(notes) == 1
    assert f"Job {job_id} stalled" in notes[0] and "loss 0.1" in notes[0]
    users = [m["content"] for m in messages if m["role"] == "user"]
    assert users.index("how is it going?") < users.index(notes[0])  # after the user's words
    # Journaled like other events (a resumed session can replay the curve).
    journaled = journal_events(h, "job_metrics")
    assert [p for e in journaled for p in e["series"].get("loss", [])] == [
        [10.0, 0.3],
        [20.0, 0.15],
        [30.0, 0.1],
    ]
    assert len([n for n in h.of("notice") if n.alert == "stalled" and "30/30" in n.text]) == 1
