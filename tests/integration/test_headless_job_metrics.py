"""Headless text mode: one line per job when it ends, with its last metrics."""

from __future__ import annotations

import io
import math

from ml_intern_tui.core import protocol as p
from ml_intern_tui.headless import TextPrinter


def test_a_finished_job_line_carries_its_last_metrics() -> None:
    out, err = io.StringIO(), io.StringIO()
    printer = TextPrinter(out, err, streaming=True)
    printer(p.JobUpdated(job_id="job-1", kind="local", status="running"))
    printer(
        p.JobMetrics(
            job_id="job-1",
            series={
                "learning_rate": [(1, 5e-5), (2, 4e-5)],
                "loss": [(1, 0.9), (2, 0.2778)],
                "eval_accuracy": [(2, 0.896)],
                "grad_norm": [(2, 1.5)],
                "epoch": [(2, 1.0)],
            },
        )
    )
    printer(p.JobMetrics(job_id="job-2", series={"loss": [(1, math.nan)]}))
    printer(p.JobUpdated(job_id="job-1", kind="local", status="completed"))
    printer(p.JobUpdated(job_id="job-2", kind="hf", status="ERROR"))
    printer(p.JobUpdated(job_id="job-3", kind="local", status="failed"))
    lines = err.getvalue().splitlines()  # job lines are progress: stderr, never the answer
    assert lines == [
        "  job job-1: running",  # metrics only once the job has ended
        "  job job-1: completed · loss 0.2778 · eval_accuracy 0.896 · grad_norm 1.5 · epoch 1",
        "  job job-2: ERROR · loss nan",
        "  job job-3: failed",
    ]
    assert out.getvalue() == ""  # stdout holds only the answer
