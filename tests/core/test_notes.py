"""System notes for the model's next call: keyed, bounded, withdrawn once read elsewhere."""

from __future__ import annotations

import math

from ml_intern_tui.core.notes import MAX_NOTE_CHARS, NOTES_TAG, SystemNotes
from ml_intern_tui.core.protocol import JobMetrics, Notice, event_from_json, event_to_json


def test_notes_are_replaced_by_key_withdrawn_by_prefix_and_drained_once() -> None:
    notes = SystemNotes()
    assert notes.drain() is None
    notes.add("job-1:stalled", "Job job-1 stalled for 10m")
    notes.add("job-2:diverging", "Job job-2 is diverging")
    notes.add("job-1:stalled", "Job job-1 stalled for 20m")  # the newer word wins
    assert len(notes) == 2 and notes.waiting("job-1:stalled")
    assert notes.withdraw("job-2:") == 1
    text = notes.drain()
    assert text is not None and text.startswith(NOTES_TAG)
    assert text.splitlines()[1:] == ["- Job job-1 stalled for 20m"]
    assert notes.drain() is None


def test_notes_are_one_bounded_line_and_few() -> None:
    notes = SystemNotes(max_waiting=3)
    notes.add("a", "line one\nline two\x1b[2J " + "x" * 2000)
    for key in "bcd":
        notes.add(key, key)
    text = notes.drain()
    assert text is not None
    lines = text.splitlines()[1:]
    assert lines == ["- b", "- c", "- d"]  # the oldest went first
    notes.add("a", "word\nword " + "y" * 2000)
    (line,) = (notes.drain() or "").splitlines()[1:]
    assert len(line) <= MAX_NOTE_CHARS + 2 and line.endswith("…")


def test_job_metrics_round_trip_through_json_with_nan_spelled_out() -> None:
    event = JobMetrics(
        job_id="job-1",
        series={"loss": [(1.0, 0.5), (2.0, math.nan), (3.0, math.inf)]},
        step=3.0,
    )
    line = event_to_json(event)
    assert '"NaN"' in line and '"Infinity"' in line and "NaN," not in line.replace('"NaN"', "")
    back = event_from_json(line)
    assert isinstance(back, JobMetrics)
    points = back.series["loss"]
    assert points[0] == (1.0, 0.5) and math.isnan(points[1][1]) and points[2][1] == math.inf
    notice = event_from_json(event_to_json(Notice(text="x", job_id="job-1", alert="stalled")))
    assert isinstance(notice, Notice) and notice.alert == "stalled"
