"""A job's metric series: the step axis, the training bar, caps on a hostile log, deltas."""

from __future__ import annotations

import math
import random
import tracemalloc

from ml_intern_tui.jobs.metrics import MAX_DELTA_POINTS, MAX_POINTS, MAX_SERIES, MetricsTracker


def trainer_log(steps: int = 30, every: int = 10) -> list[tuple[str, str]]:
    """("bar", text) for redraws and ("line", text) for log lines, as a Trainer run prints."""
    out: list[tuple[str, str]] = []
    for step in range(1, steps + 1):
        pct = int(100 * step / steps)
        out.append(("bar", f"{pct:3d}%|#    | {step}/{steps} [00:{step:02d}<00:10,  2.00it/s]"))
        if step % every == 0:
            loss = 1.0 / step
            out.append(("line", f"{{'loss': '{loss:.4g}', 'learning_rate': '2e-05', 'epoch': '{step / steps:.2f}'}}"))  # fmt: skip
            # the evaluation bar, shorter: it must not take over the training bar
            out.append(("bar", "  50%|##   | 2/4 [00:00<00:00, 9.00it/s]"))
            out.append(("line", f"{{'eval_loss': {loss * 1.1:.4f}, 'epoch': {step / steps:.2f}}}"))
    return out


def feed(tracker: MetricsTracker, events: list[tuple[str, str]]) -> None:
    for kind, text in events:
        if kind == "bar":
            tracker.feed_progress(text)
        else:
            tracker.feed([text])


def test_trainer_metrics_are_plotted_against_the_training_bar_step() -> None:
    tracker = MetricsTracker()
    feed(tracker, trainer_log())
    assert tracker.axis == "step"
    assert tracker.series["loss"].points() == [(10, 0.1), (20, 0.05), (30, 0.03333)]
    assert [x for x, _ in tracker.series["eval_loss"].points()] == [10, 20, 30]
    assert [y for _, y in tracker.series["epoch"].points()] == [0.33, 0.67, 1.0]
    assert tracker.progress is not None and (tracker.progress.n, tracker.progress.total) == (30, 30)
    delta = tracker.take_delta()
    assert delta is not None and delta.axis == "step" and not delta.reset
    assert [x for x, _ in delta.points["loss"]] == [10, 20, 30]
    assert delta.progress is not None and delta.progress.n == 30 and delta.step == 30
    assert tracker.take_delta() is None  # nothing new since


def test_epoch_lines_use_the_epoch_axis_and_a_step_upgrades_it_once() -> None:
    tracker = MetricsTracker()
    tracker.feed([f"epoch {e}/12 loss={1 / e:.4f} val_acc={0.5 + e / 30:.3f}" for e in range(1, 4)])
    assert tracker.axis == "epoch"
    assert [x for x, _ in tracker.series["val_acc"].points()] == [1, 2, 3]
    first = tracker.take_delta()
    assert first is not None and first.axis == "epoch" and not first.reset
    tracker.feed(["step=400 loss=0.2"])
    delta = tracker.take_delta()
    assert delta is not None and delta.axis == "step" and delta.reset
    assert delta.points == {"loss": [(400.0, 0.2)]}  # the epoch points are void now
    tracker.feed(["epoch 5/12 loss=0.1"])  # never back down to the epoch axis
    assert tracker.axis == "step" and tracker.series["loss"].points()[-1] == (400.0, 0.1)


def test_plain_lines_without_step_count_as_index() -> None:
    tracker = MetricsTracker()
    tracker.feed(["loss=0.9", "nothing here", "loss=0.8 acc=0.5"])
    assert tracker.axis == "index"
    assert tracker.series["loss"].points() == [(1.0, 0.9), (2.0, 0.8)]


def test_a_thousand_distinct_keys_keep_only_the_first_series() -> None:
    tracker = MetricsTracker()
    tracker.feed([f"step={i} key{i}_loss={i}" for i in range(1000)])
    assert len(tracker.series) == MAX_SERIES
    assert tracker.dropped_keys == 4 * MAX_SERIES  # distinct ignored keys, counted to a bound
    delta = tracker.take_delta()
    assert delta is not None and len(delta.points) == MAX_SERIES


def test_a_long_run_keeps_its_shape_in_bounded_points() -> None:
    tracker = MetricsTracker()
    tracker.feed([f"step={i} loss={1000 / (i + 1):.6f}" for i in range(50_000)])
    series = tracker.series["loss"]
    assert series.count == 50_000
    assert len(series.xs) < MAX_POINTS
    xs = list(series.xs)
    assert xs[0] == 0 and xs[-1] > 49_000 and xs == sorted(xs)  # whole run, evenly thinned
    assert series.low == 1000 / 50_000 and series.high == 1000.0 and series.last == 1000 / 50_000
    delta = tracker.take_delta()
    assert delta is not None
    points = delta.points["loss"]
    assert len(points) <= MAX_DELTA_POINTS and points[-1] == (49_999.0, 0.02)


def test_trend_compares_the_recent_half_with_the_half_before() -> None:
    tracker = MetricsTracker()
    tracker.feed(
        [f"step={i} loss={2 - i / 100:.3f} acc={0.5 + i / 100:.3f} lr=0.001" for i in range(40)]
    )
    assert tracker.series["loss"].trend()[0] == "falling"  # type: ignore[index]
    assert tracker.series["acc"].trend()[0] == "rising"  # type: ignore[index]
    assert tracker.series["lr"].trend() == ("flat", 0.0)


def test_nan_and_inf_are_kept_and_counted_but_do_not_spoil_min_max() -> None:
    tracker = MetricsTracker()
    tracker.feed(["step=1 loss=0.5", "step=2 loss=nan", "step=3 loss=inf"])
    series = tracker.series["loss"]
    assert series.nonfinite == 2 and series.low == series.high == 0.5
    assert math.isinf(series.last)


def test_memory_stays_flat_on_a_hostile_log() -> None:
    """30k lines of random keys (150k distinct): the tracker's memory stays small."""
    rng = random.Random(7)
    tracker = MetricsTracker()
    tracemalloc.start()
    try:
        tracker.feed([f"step={i} loss={rng.random():.5f}" for i in range(2000)])
        base, _ = tracemalloc.get_traced_memory()
        for chunk in range(10):
            tracker.feed(
                [
                    f"step={chunk * 3000 + i} "
                    + " ".join(f"k{rng.randrange(10**6)}_loss={rng.random():.3f}" for _ in range(5))
                    for i in range(3000)
                ]
            )
            tracker.take_delta()
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(tracker.series) == MAX_SERIES
    assert current - base < 8 * 1024 * 1024
