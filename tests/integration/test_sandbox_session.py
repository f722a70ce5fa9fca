"""A scripted session with a remote sandbox Space, end to end against the fake Hub.

The real loop, tools, approval policy, job registry, huggingface_hub and httpx; the
Hub is a fake on 127.0.0.1 that runs the API server we upload as the Space would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.http_server import FakeHTTPServer
from fakes.hub_spaces import FAST, FakeSpaces, install_spaces
from fakes.sandbox_scenario import SCENARIO

from ml_intern_tui.core.protocol import Approval, ApprovalDecision, UserInput
from ml_intern_tui.core.space_ops import SpaceSandboxStatus
from ml_intern_tui.demo.scripted import register_scenario


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeHTTPServer, FakeSpaces]]:
    server = FakeHTTPServer()
    spaces = install_spaces(server)
    monkeypatch.setenv("HF_TOKEN", "hf_fake")
    yield server, spaces
    spaces.close()
    server.close()


async def test_gpu_sandbox_session_end_to_end(hub, harness_factory) -> None:
    server, spaces = hub
    register_scenario(SCENARIO)
    h = await harness_factory(
        "scripted/sandbox-e2e", mode="auto", hub={"endpoint": server.base_url}
    )
    h.runtime.loop.services.space_sandbox.timing = FAST
    h.submit(UserInput(text="train it on a GPU"))

    request = await h.wait_for("approval_required", timeout=60)
    item = request.items[0]
    assert item.tool == "sandbox_create"
    assert "$0.40/h" in item.title and "worst case $0.40 for 60 min" in item.title
    assert item.cost_estimate_usd == pytest.approx(0.40)
    h.submit(Approval(decisions=[ApprovalDecision(call_id=item.call_id, approved=True)]))

    done = await h.wait_for("turn_complete", timeout=120)
    assert done.reason == "done" and "0.50" in done.final_text
    space = spaces.last()
    assert space.hardware == "t4-small" and space.private
    # The build log streamed into the sandbox's job.
    build_job = next(e for e in h.of("job_updated") if e.title.startswith("sandbox "))
    build_lines = [x for e in h.of("job_log") if e.job_id == build_job.job_id for x in e.lines]
    assert any("FROM python" in x for x in build_lines)
    assert any("[stage BUILDING" in x for x in build_lines)
    results = {e.call_id: e for e in h.of("tool_result")}
    calls = [e for e in h.of("tool_call")]
    bash_call = next(c for c in calls if c.tool == "bash")
    assert "remote-ok" in results[bash_call.call_id].output
    assert str(space.root) in results[bash_call.call_id].output  # it ran there, not here
    assert not (h.runtime.cwd / "marker.txt").exists()
    read_call = next(c for c in calls if c.tool == "read")
    assert "step {step} loss" in results[read_call.call_id].output
    assert (space.root / "train.py").read_text().startswith("import time")
    train_lines = [x for e in h.of("job_log") if e.job_id != build_job.job_id for x in e.lines]
    assert "step 2 loss 0.50" in train_lines
    # The API token never reached the model.
    token = space.secrets["SANDBOX_API_TOKEN"]
    assert all(token not in str(m) for m in h.messages)
    # /sandbox: the op reaches the manager through the app, a notice answers.
    h.submit(SpaceSandboxStatus())
    status = await h.wait_for("notice", lambda e: e.text.startswith("Sandbox: "), timeout=20)
    assert space.repo_id in status.text and "$0.40/h" in status.text
    assert "lifetime left" in status.text
    # Quitting deletes the Space.
    repo_id = space.repo_id
    await h.close()
    assert spaces.deleted == [repo_id]
