"""Real local jobs through the registry: job_metrics events, and stall/divergence/end alerts."""

from __future__ import annotations

import itertools
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import wait_until

from ml_intern_tui.core.notes import SystemNotes
from ml_intern_tui.core.protocol import EventBase, JobMetrics, Notice
from ml_intern_tui.jobs.alerts import JobWatch
from ml_intern_tui.jobs.registry import JobRegistry

PY = sys.executable


@pytest.fixture
def notes() -> SystemNotes:
    return SystemNotes()


@pytest.fixture
async def watched(
    tmp_path: Path, events: list[EventBase], notes: SystemNotes
) -> AsyncIterator[JobRegistry]:
    watch = JobWatch(events.append, notes, stall_after_s=0.4, diverge_factor=3.0, diverge_window=10)
    reg = JobRegistry(
        events.append, tmp_path / "logs", batch_interval_s=0.05, kill_grace_s=1.0, watch=watch
    )
    yield reg
    await reg.shutdown()


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "train.py"
    path.write_text(body)
    return f"{PY} -u {path}"


def metrics_of(events: list[EventBase], job_id: str) -> list[JobMetrics]:
    return [e for e in events if isinstance(e, JobMetrics) and e.job_id == job_id]


def alerts(events: list[EventBase], job_id: str, kind: str) -> list[Notice]:
    return [e for e in events if isinstance(e, Notice) and e.job_id == job_id and e.alert == kind]


TRAINER_SCRIPT = """
import sys, time
total = 40
for step in range(1, total + 1):
    sys.stderr.write(f"\\r{int(100 * step / total):3d}%|#   | {step}/{total} [00:01<00:01, 30.00it/s]")
    sys.stderr.flush()
    if step % 10 == 0:
        sys.stderr.write("\\r")
        print({'loss': round(2.0 / step, 4), 'learning_rate': 2e-05, 'epoch': step / total}, flush=True)
    time.sleep(0.005)
sys.stderr.write("\\n")
print({'train_runtime': 1.5, 'train_loss': 0.2, 'epoch': 1.0}, flush=True)
"""


async def test_a_trainer_job_sends_its_series_and_progress(
    watched: JobRegistry, events: list[EventBase], tmp_path: Path, notes: SystemNotes
) -> None:
    record = await watched.start_local(script(tmp_path, TRAINER_SCRIPT), tmp_path, title="sft")
    await watched.wait(record.id, 15)
    assert record.status == "completed"
    sent = metrics_of(events, record.id)
    assert sent and all(e.axis == "step" for e in sent)
    loss = [point for e in sent for point in e.series.get("loss", [])]
    assert loss == [(10.0, 0.2), (20.0, 0.1), (30.0, 0.0667), (40.0, 0.05)]
    assert [p for e in sent for p in e.series.get("train_loss", [])] == [(40.0, 0.2)]
    progress = [e.progress for e in sent if e.progress is not None]
    assert progress[-1].n == 40 and progress[-1].total == 40 and progress[-1].fraction == 1.0
    # The job ended: a success notice with the latest values, and a note for the agent.
    (done,) = alerts(events, record.id, "finished")
    assert (
        done.level == "success" and "completed (exit 0)" in done.text and "loss 0.05" in done.text
    )
    note = notes.drain()
    assert note is not None and record.id in note and "completed" in note


async def test_job_metrics_are_throttled_to_four_a_second(
    watched: JobRegistry, events: list[EventBase], tmp_path: Path
) -> None:
    body = "import time\nfor i in range(3000):\n    print(f'step={i} loss={1/(i+1):.5f}')\n    if i % 100 == 0: time.sleep(0.03)\n"
    record = await watched.start_local(script(tmp_path, body), tmp_path, title="fast")
    await watched.wait(record.id, 15)
    sent = metrics_of(events, record.id)
    gaps = [b.ts - a.ts for a, b in itertools.pairwise(sent)]
    assert len(sent) >= 2 and all(gap >= 0.2 for gap in gaps[:-1]), (
        gaps
    )  # the last is the flush at the end
    points = [p for e in sent for p in e.series["loss"]]
    assert points[-1] == (2999.0, 0.00033)
    assert len(points) < 3000  # thinned in the events; the tracker keeps the shape
    assert record.metrics is not None and record.metrics.series["loss"].count == 3000


async def test_a_silent_job_is_reported_stalled_once_then_again_after_it_resumed(
    watched: JobRegistry, events: list[EventBase], tmp_path: Path, notes: SystemNotes
) -> None:
    marker = tmp_path / "go"
    body = (
        "import time, pathlib\n"
        "print('step=7 loss=0.41', flush=True)\n"
        f"while not pathlib.Path({str(marker)!r}).exists(): time.sleep(0.02)\n"
        "print('step=8 loss=0.40', flush=True)\n"
        "time.sleep(30)\n"
    )
    record = await watched.start_local(script(tmp_path, body), tmp_path, title="stuck")
    await wait_until(lambda: record.lines_total >= 1, timeout=10, what="the first line")
    # (A slow interpreter start on a loaded machine may already count as one stall.)
    before = len(alerts(events, record.id, "stalled"))
    await wait_until(
        lambda: len(alerts(events, record.id, "stalled")) > before, timeout=10, what="a stall"
    )
    first = alerts(events, record.id, "stalled")[-1]
    assert first.level == "warning" and "no new output for" in first.text
    assert "at step 7" in first.text
    assert watched.watch is not None
    watched.watch.check_stalls(watched.running())  # checked again: the same stall says nothing
    assert len(alerts(events, record.id, "stalled")) == before + 1
    text = notes.drain()
    assert (
        text is not None and "stalled" in text and "loss 0.41" in text and "still running" in text
    )
    marker.write_text("go")
    await wait_until(
        lambda: len(alerts(events, record.id, "stalled")) == before + 2,
        timeout=10,
        what="2nd stall",
    )
    resumed = notes.drain()
    assert resumed is not None and "producing output again" in resumed and "stalled" in resumed
    await watched.cancel(record.id)


async def test_a_diverging_loss_is_reported_once(
    watched: JobRegistry, events: list[EventBase], tmp_path: Path, notes: SystemNotes
) -> None:
    losses = [1.0, 0.6, 0.5, 0.45, 0.4, 0.38, 1.5, 2.5, 4.0]
    body = "".join(f"print('step={i} loss={v}', flush=True)\n" for i, v in enumerate(losses))
    body += "print('step=20 eval_loss=nan', flush=True)\nimport time; time.sleep(0.5)\n"
    record = await watched.start_local(script(tmp_path, body), tmp_path, title="lr too high")
    await watched.wait(record.id, 10)
    (rose,) = alerts(events, record.id, "diverging")[:1]
    assert "loss rose" in rose.text and "from 0.38" in rose.text
    nan = [a for a in alerts(events, record.id, "diverging") if "eval_loss is NaN" in a.text]
    assert len(nan) == 1 and len(alerts(events, record.id, "diverging")) == 2
    assert record.status == "completed"


async def test_a_failed_job_is_an_error_notice_and_a_read_job_leaves_no_note(
    watched: JobRegistry, events: list[EventBase], tmp_path: Path, notes: SystemNotes
) -> None:
    record = await watched.start_local("echo 'loss=0.9'; exit 3", tmp_path, title="boom")
    await watched.wait(record.id, 10)
    (failed,) = alerts(events, record.id, "failed")
    assert failed.level == "error" and "failed (exit 3)" in failed.text
    assert len(notes) == 1
    watched.acknowledge(record.id)  # the agent read its status through the jobs tool
    assert notes.drain() is None


async def test_an_external_job_is_not_stalled_while_queued(
    watched: JobRegistry, events: list[EventBase], notes: SystemNotes
) -> None:
    """Time an HF job spends scheduling is not silence: the clock starts when it runs."""
    from ml_intern_tui.jobs.registry import JobRecord

    record = watched.register_external(JobRecord(id="hf-1", kind="hf", title="sft"))
    watched.update("hf-1", status="scheduling")
    record.last_output_at -= 100  # queued for a long time
    assert watched.watch is not None
    watched.watch.check_stalls(watched.running())
    assert not alerts(events, "hf-1", "stalled")
    watched.update("hf-1", status="running")
    watched.watch.check_stalls(watched.running())
    assert not alerts(events, "hf-1", "stalled")
    record.last_output_at -= 1.0
    watched.watch.check_stalls(watched.running())
    assert len(alerts(events, "hf-1", "stalled")) == 1
    watched.finish("hf-1", "completed")
    assert not alerts(events, "hf-1", "finished")  # an HF job's end notice is its follower's
    assert notes.drain() is not None
