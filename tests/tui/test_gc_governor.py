"""The GC governor freezes while the app works and sweeps frozen cycles only when idle."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ml_intern_tui.tui.gc_governor import GcGovernor


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[Clock]:
    yield Clock()
    gc.unfreeze()  # never leave the test process with a frozen heap


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_settle_freezes_and_release_gives_everything_back(clock: Clock) -> None:
    governor = GcGovernor(clock=clock)
    governor.tick()
    assert governor.freezes == 0, "nothing happens before the app has settled"
    governor.settle()
    assert governor.settled and gc.get_freeze_count() > 0
    governor.release()
    assert not governor.settled and gc.get_freeze_count() == 0


def test_busy_ticks_freeze_new_objects(clock: Clock) -> None:
    governor = GcGovernor(clock=clock)
    governor.settle()
    frozen = gc.get_freeze_count()
    governor.busy = True
    keep = [Cycle() for _ in range(2000)]
    governor.tick()
    assert governor.freezes == 1
    assert gc.get_freeze_count() >= frozen + len(keep)


def test_idle_sweep_reclaims_frozen_cycles_only_after_quiet_time(clock: Clock) -> None:
    governor = GcGovernor(clock=clock, sweep_growth=1000, idle_before_sweep_s=4.0)
    governor.settle()
    governor.busy = True
    garbage = [Cycle() for _ in range(5000)]
    governor.tick()  # the cycles are frozen while still alive...
    del garbage  # ...then dropped: only a sweep can free them now
    frozen = gc.get_freeze_count()
    governor.busy = False
    clock.now += 1.0
    governor.tick()
    assert governor.sweeps == 0, "not quiet for long enough yet"
    clock.now += 2.0
    governor.activity()  # a key press restarts the quiet time
    clock.now += 3.0
    governor.tick()
    assert governor.sweeps == 0
    clock.now += 1.5
    governor.tick()
    assert governor.sweeps == 1
    assert gc.get_freeze_count() <= frozen - 5000, "the dropped cycles were collected"


def test_no_sweep_when_the_frozen_set_has_not_grown(clock: Clock) -> None:
    governor = GcGovernor(clock=clock, sweep_growth=10**9, idle_before_sweep_s=0.0)
    governor.settle()
    clock.now += 60
    governor.tick()
    assert governor.sweeps == 0


def test_idle_ticks_freeze_too(clock: Clock) -> None:
    """A resumed session's history is folded while no turn runs: idle ticks freeze it."""
    governor = GcGovernor(clock=clock, sweep_growth=10**9)
    governor.settle()
    frozen = gc.get_freeze_count()
    keep = [Cycle() for _ in range(2000)]
    governor.tick()
    assert governor.freezes == 1
    assert gc.get_freeze_count() >= frozen + len(keep)


def test_idle_ticks_never_walk_the_frozen_set(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting the frozen list walks all of it (100+ ms in the app): ticks use a counter."""
    governor = GcGovernor(clock=clock, sweep_growth=10**9, idle_before_sweep_s=0.0)
    governor.settle()

    def walk() -> int:
        raise AssertionError("gc.get_freeze_count() walked the frozen set on a tick")

    monkeypatch.setattr(gc, "get_freeze_count", walk)
    for _ in range(5):
        clock.now += 10
        governor.tick()
    assert governor.sweeps == 0 and governor.freezes == 5


def test_without_a_block_counter_the_frozen_set_is_counted_once_per_quiet_stretch(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    governor = GcGovernor(clock=clock, sweep_growth=10**9, idle_before_sweep_s=1.0, size=lambda: 0)
    governor.settle()
    counted = 0
    real = gc.get_freeze_count

    def counting() -> int:
        nonlocal counted
        counted += 1
        return real()

    monkeypatch.setattr(gc, "get_freeze_count", counting)
    for _ in range(5):
        clock.now += 2
        governor.tick()
    assert counted == 1
    governor.activity()
    clock.now += 2
    governor.tick()
    assert counted == 2
