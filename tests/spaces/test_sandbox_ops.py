"""``space_sandbox_status`` / ``space_sandbox_stop`` ops (``/sandbox``), answered by the real manager."""

from __future__ import annotations

import asyncio
import re
import time

from space_rig import SpaceRig

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.space_ops import SpaceSandboxStatus, SpaceSandboxStop


async def until(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def notices(rig: SpaceRig) -> list[str]:
    return [e.text for e in rig.events if isinstance(e, p.Notice)]


async def test_status_without_a_sandbox_says_how_to_get_one(rig: SpaceRig) -> None:
    assert rig.manager.handle_op(SpaceSandboxStatus())
    assert notices(rig) == [
        "No sandbox in this session (the agent creates one with sandbox_create)."
    ]
    assert not rig.manager.handle_op(p.ListModels())  # not its op: the loop takes it


async def test_status_shows_hardware_stage_price_cost_and_lifetime_left(rig: SpaceRig) -> None:
    box = await rig.manager.create("a10g-small")
    await rig.manager.client(wait_s=30)
    rig.manager.handle_op(SpaceSandboxStatus())
    line = notices(rig)[-1]
    assert line.startswith(f"Sandbox: {box.repo_id} · a10g-small · running (Hub stage RUNNING)")
    assert "$1.00/h" in line and "so far" in line
    left = re.search(r"(\d+) min of its lifetime left", line)
    assert left is not None and 58 <= int(left.group(1)) <= 60


async def test_stop_deletes_the_space_and_says_so(rig: SpaceRig) -> None:
    box = await rig.manager.create("t4-small")
    await rig.manager.client(wait_s=30)
    assert rig.manager.handle_op(SpaceSandboxStop())
    await until(lambda: rig.spaces.deleted == [box.repo_id])
    await until(lambda: any("Deleted the Space" in t for t in notices(rig)))
    assert rig.jobs.require(box.job_id).status == "completed"
    rig.manager.handle_op(SpaceSandboxStop())
    await until(lambda: notices(rig)[-1] == "No sandbox is active.")
    rig.manager.handle_op(SpaceSandboxStatus())
    assert "stopped" in notices(rig)[-1] and "lifetime left" not in notices(rig)[-1]
