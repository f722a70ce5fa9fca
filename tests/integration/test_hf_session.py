"""A scripted ML session end to end against the fake Hub and dataset viewer.

research (nested calls) → inspect the dataset → a GPU job needs approval with its
worst-case cost → approved → its logs stream as job events while the agent waits → the
job completes → the agent reports the job URL. Real loop, real tools, real
huggingface_hub and httpx clients; only the services are fakes on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fakes.datasets_server import install as install_datasets_server
from fakes.hf_scenario import SCENARIO
from fakes.http_server import FakeHTTPServer
from fakes.hub_jobs import TOKEN, FakeJobStore, running_hub_jobs

from ml_intern_tui.core.protocol import Approval, ApprovalDecision, UserInput
from ml_intern_tui.demo.scripted import register_scenario


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeHTTPServer, FakeJobStore]]:
    with running_hub_jobs(initial_stage="RUNNING") as (server, store):
        install_datasets_server(server)
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        monkeypatch.setenv("HF_DATASETS_SERVER_URL", server.base_url)
        yield server, store


async def test_research_inspect_approve_gpu_job_watch_logs_and_report(
    fake_hub, harness_factory
) -> None:
    server, store = fake_hub
    register_scenario(SCENARIO)
    h = await harness_factory("scripted/hf-e2e", mode="ask", hub={"endpoint": server.base_url})
    h.submit(UserInput(text="fine-tune a small model on org/chat"))

    assert "User: tester (Hugging Face)" in h.messages[0]["content"]  # whoami, once

    request = await h.wait_for("approval_required", timeout=60)
    item = request.items[0]
    assert item.tool == "hf_jobs"
    assert item.cost_estimate_usd == pytest.approx(1.0)  # a10g-small $1.00/h x 1 h
    assert "a10g-small" in item.title and "1.00" in item.title
    assert "push_to_hub" in item.details  # the script loads a model but never pushes it
    assert TOKEN not in item.details

    research = next(e for e in h.of("tool_call") if e.tool == "research")
    nested = [e for e in h.of("tool_call") if e.parent_id == research.call_id]
    assert [e.tool for e in nested] == ["hf_dataset_inspect"]
    inspect = next(e for e in h.of("tool_result") if e.data and e.data.get("dataset") == "org/chat")
    assert inspect.data["columns"] and inspect.data["rows"]

    h.submit(Approval(decisions=[ApprovalDecision(call_id=item.call_id, approved=True)]))
    await h.wait_for("job_updated", lambda e: e.kind == "hf", timeout=30)
    job = store.last()
    store.log(job.id, "step 1 loss 1.20", "step 2 loss 0.80")
    logged = await h.wait_for("job_log", lambda e: "step 2 loss 0.80" in e.lines, timeout=30)
    assert logged.job_id == job.id
    assert h.of("turn_complete") == []  # the agent is still waiting on the job
    await asyncio.sleep(0)
    store.complete(job.id, running_secs=600)

    done = await h.wait_for("turn_complete", timeout=60)
    assert done.reason == "done"
    assert f"/jobs/tester/{job.id}" in done.final_text
    final = [e for e in h.of("job_updated") if e.job_id == job.id][-1]
    assert final.status == "completed" and final.cost_usd == pytest.approx(
        600 / 3600 * 1.0, rel=0.05
    )
    lines = [line for e in h.of("job_log") if e.job_id == job.id for line in e.lines]
    assert lines.index("step 1 loss 1.20") < lines.index("step 2 loss 0.80")
