"""The sandbox manager against the fake Hub: background creation, build log, delete."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest
from fakes.http_server import FakeHTTPServer
from fakes.hub_spaces import FAST
from space_rig import SpaceRig, make_rig

from ml_intern_tui.config.space_schema import SpaceSandboxConfig
from ml_intern_tui.core import known_secrets
from ml_intern_tui.core.protocol import Notice
from ml_intern_tui.spaces.client import SandboxApiError


async def until(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_create_runs_in_background_streams_the_build_and_answers(rig: SpaceRig) -> None:
    box = await rig.manager.create("t4-small")
    assert box.status == "creating"  # returned at once
    client = await rig.manager.client(wait_s=30)
    space = rig.spaces.last()
    assert space.private and space.hardware == "t4-small" and space.sleep_time == 1800
    assert set(space.secrets) == {"SANDBOX_API_TOKEN"}  # no HF token unless asked
    assert (
        known_secrets.scrub(space.secrets["SANDBOX_API_TOKEN"])
        != space.secrets["SANDBOX_API_TOKEN"]
    )
    result = await client.call("bash", {"command": "echo hi from $PWD", "timeout": 10})
    assert result["exit_code"] == 0 and "hi from" in result["output"]
    await until(lambda: any("FROM python" in line for line in rig.jobs.tail(box.job_id, 100)))
    log = rig.jobs.tail(box.job_id, 100)
    assert any("[stage BUILDING" in line for line in log)
    assert any("sandbox ready" in line for line in log)
    record = rig.jobs.require(box.job_id)
    assert record.status == "running" and record.flavor == "t4-small"
    await until(lambda: rig.jobs.require(box.job_id).cost_usd > 0)
    line = await rig.manager.stop()
    assert "Deleted the Space" in line and rig.spaces.deleted == [space.repo_id]
    assert rig.jobs.require(box.job_id).status == "completed"


async def test_build_error_is_one_line_and_deletes_the_space(
    fake_hub: FakeHTTPServer, tmp_path: Path
) -> None:
    rig = make_rig(fake_hub, tmp_path, fail_build="pip install failed: no matching torch")
    box = await rig.manager.create("t4-small")
    with pytest.raises(SandboxApiError, match=r"not running.*BUILD_ERROR.*no matching torch"):
        await rig.manager.client(wait_s=30)
    assert rig.spaces.deleted == [box.repo_id]
    assert rig.jobs.require(box.job_id).status == "failed"
    errors = [e.text for e in rig.events if isinstance(e, Notice) and e.level == "error"]
    assert len(errors) == 1 and "\n" not in errors[0] and "BUILD_ERROR" in errors[0]
    await rig.jobs.shutdown()


async def test_cancel_during_creation_deletes_the_space(
    fake_hub: FakeHTTPServer, tmp_path: Path
) -> None:
    rig = make_rig(fake_hub, tmp_path, hold=True)
    box = await rig.manager.create("a10g-large")
    await asyncio.to_thread(rig.spaces.wait_created)
    await until(lambda: any("[stage BUILDING" in x for x in rig.jobs.tail(box.job_id, 50)))
    assert await rig.jobs.cancel(box.job_id)
    assert rig.spaces.deleted == [box.repo_id]
    assert rig.jobs.require(box.job_id).status == "cancelled"
    with pytest.raises(SandboxApiError, match="not running"):
        await rig.manager.client()
    rig.spaces.close()
    await rig.jobs.shutdown()


async def test_over_budget_stops_with_a_notice(fake_hub: FakeHTTPServer, tmp_path: Path) -> None:
    timing = dataclasses.replace(FAST, window_s=2.0)  # $0.011 a window on a100x8
    rig = make_rig(fake_hub, tmp_path, budget=0.5, timing=timing)
    box = await rig.manager.create("a100x8")
    await rig.manager.client(wait_s=30)
    rig.spend.add_llm(0.49)  # model calls spend the rest while it runs

    def notices() -> list[str]:
        return [e.text for e in rig.events if isinstance(e, Notice) and e.level == "warning"]

    await until(lambda: any("budget" in text for text in notices()), timeout=30)
    assert box.status == "stopped" and rig.spaces.deleted == [box.repo_id]
    assert any("$0.50 budget" in t and "Deleted the Space" in t for t in notices())
    rig.spaces.close()
    await rig.jobs.shutdown()


async def test_exit_deletes_the_space_and_hf_token_only_when_asked(
    fake_hub: FakeHTTPServer, tmp_path: Path
) -> None:
    rig = make_rig(fake_hub, tmp_path, config=SpaceSandboxConfig(pass_hf_token=True))
    box = await rig.manager.create("cpu-basic")
    await rig.manager.client(wait_s=30)
    assert rig.spaces.last().secrets["HF_TOKEN"] == "hf_fake"
    await rig.manager.aclose()
    assert rig.spaces.deleted == [box.repo_id]
    rig.spaces.close()
    await rig.jobs.shutdown()
