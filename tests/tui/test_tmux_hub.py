"""The real app in tmux against the fake Hub: worst-case cost in the approval, HF job logs
live in the jobs pane while the agent keeps working, and the dataset preview table."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.datasets_server import install as install_datasets_server
from fakes.http_server import FakeHTTPServer
from fakes.hub_jobs import TOKEN, FakeJobStore, running_hub_jobs

from tui.tmux_driver import Tmux, tmux_app

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

SCENARIO_FILE = Path(__file__).resolve().parents[1] / "fakes" / "hf_scenario.py"


@pytest.fixture
def hub() -> Iterator[tuple[FakeHTTPServer, FakeJobStore]]:
    with running_hub_jobs(initial_stage="RUNNING") as (server, store):
        install_datasets_server(server)
        yield server, store


@pytest.fixture
def app(tmp_path: Path, hub: tuple[FakeHTTPServer, FakeJobStore]) -> Iterator[Tmux]:
    server, _ = hub
    env = {
        "HF_TOKEN": TOKEN,
        "HF_ENDPOINT": server.base_url,
        "HF_DATASETS_SERVER_URL": server.base_url,
        "ML_INTERN_SCENARIOS": str(SCENARIO_FILE),
    }
    with tmux_app(tmp_path, ["--model", "scripted/hf-e2e"], env) as session:
        yield session


def test_gpu_job_from_approval_to_live_logs_and_dataset_table(
    app: Tmux, hub: tuple[FakeHTTPServer, FakeJobStore]
) -> None:
    _, store = hub
    app.wait_text("Ask the agent", timeout=15)
    app.wait_text("session ", timeout=30)
    app.keys("fine-tune on org/chat", "Enter")

    app.wait_all("Approval needed", "a10g-small", "worst-case cost: $1.00", timeout=60)
    app.keys("y")

    app.wait_for(lambda s: "Jobs · 1 running" in s, "the HF job in the jobs pane", timeout=30)
    job = store.last()
    store.log(job.id, "step 1 loss 1.20", "step 2 loss 0.80")
    screen = app.wait_all("step 1 loss 1.20", "step 2 loss 0.80", timeout=30)
    assert "Training finished" not in screen  # the agent is still at work, waiting on the job

    app.keys("C-n")
    app.keys("C-n")  # the tool tree
    for _ in range(3):
        app.keys("Down")
    app.keys("Enter")
    app.wait_all("Sample rows", "org/chat", "Question 0", timeout=15)
    app.keys("Escape")

    store.complete(job.id, running_secs=600)
    app.wait_for(
        lambda s: "Training finished" in s and f"/jobs/tester/{job.id}" in s, "the report", 60
    )
    app.keys("C-c")
    app.keys("C-c")
    app.wait_text("EXITED rc=0", timeout=20)
