"""A paid sandbox holds the budget one window at a time, renews it at 95 %, and stops
(Space deleted, with a notice) when a renewal would cross the budget."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest
from fakes.http_server import FakeHTTPServer
from fakes.hub_spaces import FAST
from space_rig import make_rig

from ml_intern_tui.core.protocol import Notice
from ml_intern_tui.spaces.client import SandboxApiError

A100X8_PER_S = 20.0 / 3600


async def until(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_first_window_over_the_budget_creates_nothing(
    fake_hub: FakeHTTPServer, tmp_path: Path
) -> None:
    rig = make_rig(fake_hub, tmp_path, budget=0.5)
    rig.spend.add_llm(0.49)
    with pytest.raises(SandboxApiError) as caught:
        await rig.manager.create("a100x8")  # $20/h: its first hour is $20
    message = str(caught.value)
    assert "\n" not in message
    assert "no sandbox on a100x8: the next 60 min ($20.00) would cross the $0.50 budget" in message
    assert rig.manager.active is None and rig.jobs.list() == []
    assert rig.spaces.spaces == {} and rig.spend.reserved() == 0
    rig.spaces.close()
    await rig.jobs.shutdown()


async def test_the_approving_calls_reservation_is_handed_over_not_doubled(
    fake_hub: FakeHTTPServer, tmp_path: Path
) -> None:
    rig = make_rig(fake_hub, tmp_path, budget=30.0)
    rig.spend.reserve("call-7", 20.0)  # what yolo reserved for the approved worst case
    box = await rig.manager.create("a100x8", reservation="call-7")
    assert rig.spend.reservations == {f"sandbox-{box.job_id}": pytest.approx(20.0)}
    await rig.manager.stop()
    assert rig.spend.reserved() == 0
    rig.spaces.close()
    await rig.jobs.shutdown()


async def test_renewals_keep_spent_plus_reserved_in_budget_then_stop_before_unpaid_time(
    fake_hub: FakeHTTPServer, tmp_path: Path
) -> None:
    window_s = 1.0
    budget = A100X8_PER_S * 3.5 * window_s  # the first window and about two renewals
    timing = dataclasses.replace(FAST, window_s=window_s)
    rig = make_rig(fake_hub, tmp_path, budget=budget, timing=timing)
    box = await rig.manager.create("a100x8")
    assert rig.spend.reserved() == pytest.approx(A100X8_PER_S * window_s)
    committed: list[float] = []

    def sample() -> bool:
        committed.append(rig.spend.total() + rig.spend.reserved())
        # "stopped" is set first; the notice follows the Space's delete (slower under load).
        return box.status == "stopped" and any(
            isinstance(e, Notice) and e.text.startswith("Sandbox stopped") for e in rig.events
        )

    await until(sample, timeout=60)
    warnings = [e.text for e in rig.events if isinstance(e, Notice) and e.level == "warning"]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert "would cross the" in warnings[0] and "budget" in warnings[0]
    assert f"Deleted the Space {box.repo_id}" in warnings[0]
    assert rig.spaces.deleted == [box.repo_id]
    log = rig.jobs.tail(box.job_id, 200)
    assert sum("[budget] reserved" in line for line in log) >= 2  # renewed, then stopped
    # Never more promised than the budget, and it stopped inside paid-for time: the
    # last window it reserved ends after the moment the Space was deleted.
    assert max(committed) <= budget + 1e-9
    assert box.window is not None and box.window.until_s <= box.lifetime_s
    billed = rig.jobs.require(box.job_id).cost_usd  # frozen when the Space was deleted
    paid_for = box.window.committed(box.window.until_s)
    assert billed <= paid_for + A100X8_PER_S * 0.5  # the delete itself takes a moment
    assert rig.spend.reserved() == 0
    rig.spaces.close()
    await rig.jobs.shutdown()


async def test_without_a_budget_the_hold_is_one_window_and_free_hardware_holds_none(
    fake_hub: FakeHTTPServer, tmp_path: Path
) -> None:
    timing = dataclasses.replace(FAST, window_s=0.5)
    rig = make_rig(fake_hub, tmp_path, timing=timing)
    box = await rig.manager.create("a100x8")
    held: list[float] = []

    def renewed_twice() -> bool:
        held.append(rig.spend.reserved())
        return sum("[budget] reserved" in x for x in rig.jobs.tail(box.job_id, 200)) >= 2

    await until(renewed_twice, timeout=60)
    assert box.status in ("creating", "running")
    assert max(held) <= A100X8_PER_S * 0.5 + 1e-9
    await rig.manager.stop()
    assert rig.spend.reserved() == 0
    free = await rig.manager.create("cpu-basic")
    assert free.window is None and rig.spend.reserved() == 0
    await rig.manager.aclose()
    rig.spaces.close()
    await rig.jobs.shutdown()
