"""The HF job follower against the fake Jobs API: live lines, reconnects, stages, cost."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from fakes.http_server import FakeHTTPServer
from fakes.hub_jobs import USER, FakeJob, FakeJobStore, running_hub_jobs

from ml_intern_tui.core.protocol import EventBase, JobLog, JobUpdated, Notice
from ml_intern_tui.integrations.hub import HubClient
from ml_intern_tui.jobs.hf import HfJobFollower, follow_hf_job
from ml_intern_tui.jobs.registry import JobRecord, JobRegistry

Wait = Callable[..., Awaitable[None]]


@pytest.fixture
def fake() -> Iterator[tuple[FakeHTTPServer, FakeJobStore]]:
    with running_hub_jobs() as both:
        yield both


@pytest.fixture
def server(fake: tuple[FakeHTTPServer, FakeJobStore]) -> FakeHTTPServer:
    return fake[0]


@pytest.fixture
def store(fake: tuple[FakeHTTPServer, FakeJobStore]) -> FakeJobStore:
    return fake[1]


@pytest.fixture
def hub(server: FakeHTTPServer) -> HubClient:
    return HubClient(server.base_url, token="hf_fake")


def follow(
    hub: HubClient,
    registry: JobRegistry,
    job: FakeJob,
    flavor: str = "a10g-large",
    notices: list[EventBase] | None = None,
    **options: Any,
) -> HfJobFollower:
    """Register ``job`` in the registry with a fast follower (what ``hf_jobs run`` does)."""
    follower = HfJobFollower(
        hub,
        registry,
        job.id,
        namespace=USER,
        flavor=flavor,
        poll_interval_s=0.05,
        reconnect_delays_s=(0.02,),
        drain_timeout_s=2.0,
        notify=notices.append if notices is not None else None,
        **options,
    )
    record = JobRecord(
        id=job.id,
        kind="hf",
        title="train",
        flavor=flavor,
        url=f"{hub.endpoint}/jobs/{USER}/{job.id}",
    )
    registry.register_external(record, follower.run(), canceller=follower.cancel)
    return follower


def logged(events: list[EventBase], job_id: str) -> list[str]:
    return [
        line for e in events if isinstance(e, JobLog) and e.job_id == job_id for line in e.lines
    ]


def statuses(events: list[EventBase], job_id: str) -> list[str]:
    seen: list[str] = []
    for e in events:
        if isinstance(e, JobUpdated) and e.job_id == job_id and (not seen or seen[-1] != e.status):
            seen.append(e.status)
    return seen


async def test_lines_arrive_in_order_with_stages_and_final_cost(
    hub: HubClient,
    registry: JobRegistry,
    store: FakeJobStore,
    events: list[EventBase],
    wait_until: Wait,
) -> None:
    job = store.add(stage="SCHEDULING", flavor="a10g-large")
    notices: list[EventBase] = []
    follow(hub, registry, job, notices=notices)
    await wait_until(lambda: registry.require(job.id).status == "scheduling", what="scheduling")
    store.set_stage(job.id, "RUNNING")
    store.log(job.id, "loading model", "step 1 loss 2.0")
    await wait_until(lambda: len(registry.require(job.id).tail) == 2, what="first lines")
    await wait_until(lambda: registry.require(job.id).status == "running", what="running")
    store.log(job.id, *[f"step {i}" for i in range(2, 40)])
    store.log(job.id, "pushed to tester/model")
    store.complete(job.id, running_secs=1800)
    await registry.wait(job.id, 5.0)

    record = registry.require(job.id)
    expected = [
        "loading model",
        "step 1 loss 2.0",
        *[f"step {i}" for i in range(2, 40)],
        "pushed to tester/model",
    ]
    assert list(record.tail) == expected
    assert logged(events, job.id) == expected  # job_log events, in order, no duplicates
    assert record.status == "completed"
    assert record.cost_usd == pytest.approx(1.00)  # a10g-large $2/h x 30 min
    assert statuses(events, job.id)[-3:] == ["scheduling", "running", "completed"]
    final = [e for e in events if isinstance(e, JobUpdated) and e.status == "completed"]
    assert final[-1].cost_usd == pytest.approx(1.00)
    assert record.log_path is not None and record.log_path.read_text().splitlines() == expected
    assert isinstance(notices[-1], Notice) and notices[-1].level == "success"
    assert job.id in notices[-1].text and "$1.00" in notices[-1].text


async def test_reconnects_after_a_dropped_stream_without_duplicates(
    hub: HubClient, registry: JobRegistry, store: FakeJobStore, wait_until: Wait
) -> None:
    job = store.add(stage="RUNNING")
    follower = follow(hub, registry, job)
    store.log(job.id, "a", "b")
    await wait_until(lambda: list(registry.require(job.id).tail) == ["a", "b"], what="a, b")
    store.drop_streams(job.id)
    store.log(job.id, "c")
    await wait_until(lambda: store.streams_opened(job.id) >= 2, what="a reconnect")
    await wait_until(lambda: list(registry.require(job.id).tail)[-1:] == ["c"], what="c")
    store.drop_streams(job.id)
    store.log(job.id, "d", "e")
    store.complete(job.id)
    await registry.wait(job.id, 5.0)
    assert list(registry.require(job.id).tail) == ["a", "b", "c", "d", "e"]
    assert registry.require(job.id).status == "completed"
    assert follower.connections >= 2 and follower.seen == 5


async def test_error_stage_fails_the_job_with_the_hub_message(
    hub: HubClient, registry: JobRegistry, store: FakeJobStore, wait_until: Wait
) -> None:
    job = store.add(stage="RUNNING", flavor="t4-small")
    follow(hub, registry, job, flavor="t4-small")
    store.log(job.id, "CUDA out of memory")
    await wait_until(lambda: len(registry.require(job.id).tail) == 1, what="the line")
    store.set_stage(job.id, "ERROR", "exit code 1")
    await registry.wait(job.id, 5.0)
    record = registry.require(job.id)
    assert record.status == "failed"
    assert list(record.tail) == ["CUDA out of memory", "[HF job ERROR: exit code 1]"]


async def test_cancel_through_the_registry_hits_the_api(
    hub: HubClient,
    server: FakeHTTPServer,
    registry: JobRegistry,
    store: FakeJobStore,
    wait_until: Wait,
) -> None:
    job = store.add(stage="RUNNING")
    follow(hub, registry, job)
    await wait_until(lambda: store.streams_opened(job.id) >= 1, what="the stream")
    assert await registry.cancel(job.id) is True
    assert server.calls("POST", rf"/api/jobs/{USER}/{job.id}/cancel")
    assert store.jobs[job.id].stage == "CANCELED"
    assert registry.require(job.id).status == "cancelled"


async def test_a_job_removed_from_the_hub_ends_the_follow(
    hub: HubClient, registry: JobRegistry, store: FakeJobStore
) -> None:
    job = store.add(stage="RUNNING")
    follow(hub, registry, job)
    with store.cond:
        del store.jobs[job.id]
        store.cond.notify_all()
    await registry.wait(job.id, 5.0)
    record = registry.require(job.id)
    assert record.finished
    assert any("no longer exists" in line for line in record.tail)


async def test_follow_hf_job_returns_for_a_finished_job(
    hub: HubClient, registry: JobRegistry, store: FakeJobStore
) -> None:
    job = store.add(stage="RUNNING", flavor="cpu-basic")
    store.log(job.id, "only line")
    store.complete(job.id, running_secs=3600)
    record = JobRecord(id=job.id, kind="hf", title="done", flavor="cpu-basic")
    registry.register_external(record)
    await follow_hf_job(
        hub, registry, job.id, namespace=USER, flavor="cpu-basic", poll_interval_s=0.05
    )
    assert record.status == "completed"
    assert list(record.tail) == ["only line"]
    assert record.cost_usd == pytest.approx(0.05)


async def test_a_failing_log_request_is_retried(
    hub: HubClient,
    server: FakeHTTPServer,
    registry: JobRegistry,
    store: FakeJobStore,
    wait_until: Wait,
) -> None:
    job = store.add(stage="RUNNING")
    store.log(job.id, "first")
    server.fail_next("GET", rf"/api/jobs/{USER}/{job.id}/logs", 500, "log service hiccup")
    follow(hub, registry, job)
    await wait_until(
        lambda: list(registry.require(job.id).tail) == ["first"], what="the line after a retry"
    )
    assert len(server.calls("GET", rf"/api/jobs/{USER}/{job.id}/logs")) >= 2
    store.complete(job.id)
    await registry.wait(job.id, 5.0)
    assert registry.require(job.id).status == "completed"


async def test_an_hf_job_logs_metrics_and_its_end_notice_carries_them(
    hub: HubClient,
    registry: JobRegistry,
    store: FakeJobStore,
    events: list[EventBase],
    wait_until: Wait,
) -> None:
    """HF Jobs logs go through the same extraction as local ones (lines with redraws kept)."""
    from ml_intern_tui.core.protocol import JobMetrics

    job = store.add(stage="RUNNING", flavor="a10g-large")
    notices: list[EventBase] = []
    follow(hub, registry, job, notices=notices)
    store.log(
        job.id,
        " 10%|#         | 10/100 [00:05<00:45,  2.00it/s]\r 20%|##        | 20/100 [00:10<00:40,  2.00it/s]",
        "{'loss': '0.9', 'grad_norm': '1.1', 'learning_rate': '2e-05', 'epoch': '0.2'}",
        " 40%|####      | 40/100 [00:20<00:30,  2.00it/s]",
        "{'loss': '0.5', 'grad_norm': '0.8', 'learning_rate': '1e-05', 'epoch': '0.4'}",
    )
    store.complete(job.id, running_secs=60)
    await registry.wait(job.id, 5.0)
    sent = [e for e in events if isinstance(e, JobMetrics) and e.job_id == job.id]
    assert [p for e in sent for p in e.series.get("loss", [])] == [(20.0, 0.9), (40.0, 0.5)]
    assert [e.progress for e in sent if e.progress][-1].n == 40  # type: ignore[union-attr]
    (done,) = [n for n in notices if isinstance(n, Notice)]
    assert done.alert == "finished" and done.job_id == job.id
    assert "loss 0.5" in done.text and "$" in done.text
