"""The real app in tmux with a remote GPU sandbox on the fake Hub, start to quit.

The scripted session (``tests/fakes/sandbox_scenario.py``) asks for a T4 sandbox: the
approval shows $/h and the worst case, the build log streams into the jobs pane, ``bash``
runs in the sandbox, a file goes there and comes back, a background training job's log
streams, and quitting deletes the Space (the fake Hub records the delete). The fake runs
the API server we upload, as the Space would; ``[sandbox.space] poll_s`` makes the app
check it often.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.http_server import FakeHTTPServer
from fakes.hub_spaces import FakeSpaces, install_spaces

from ml_intern_tui import paths
from tui.tmux_driver import Tmux, tmux_app

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

SCENARIO_FILE = Path(__file__).resolve().parents[1] / "fakes" / "sandbox_scenario.py"


@pytest.fixture
def hub() -> Iterator[tuple[FakeHTTPServer, FakeSpaces]]:
    server = FakeHTTPServer()
    spaces = install_spaces(server, build_polls=4)
    yield server, spaces
    spaces.close()
    server.close()


@pytest.fixture
def app(tmp_path: Path, hub: tuple[FakeHTTPServer, FakeSpaces]) -> Iterator[Tmux]:
    server, _ = hub
    config = paths.config_dir() / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[sandbox.space]\npoll_s = 0.1\n", encoding="utf-8")
    env = {
        "HF_TOKEN": "hf_fake",
        "HF_ENDPOINT": server.base_url,
        "ML_INTERN_SCENARIOS": str(SCENARIO_FILE),
    }
    with tmux_app(tmp_path, ["--model", "scripted/sandbox-e2e", "--mode", "auto"], env) as session:
        yield session


def test_gpu_sandbox_from_approval_to_delete_at_quit(
    app: Tmux, hub: tuple[FakeHTTPServer, FakeSpaces], tmp_path: Path
) -> None:
    _, spaces = hub
    app.wait_text("Ask the agent", timeout=15)
    app.wait_text("session ", timeout=30)
    app.keys("train it on a GPU", "Enter")

    app.wait_all("Approval needed", "t4-small", "$0.40/h", "worst case $0.40", timeout=60)
    app.keys("y")

    # The build log and its stages stream into the sandbox's job in the jobs pane.
    app.wait_all("sandbox ", "FROM python", "[stage BUILDING", timeout=60)
    space = spaces.wait_created()
    # bash ran there, the file went and came back, and the background job's log streamed
    # into the jobs pane (the sandbox's cost meter does not take the log view back).
    app.wait_all("in the sandbox", "wrote sandbox:train.py", "sandbox:train.py: lines 1-3")
    app.wait_all("train in the sandbox", "step 1 loss 1.00", "step 2 loss 0.50", timeout=60)
    app.wait_text("from 1.00 to 0.50", timeout=60)
    assert (space.root is not None) and (space.root / "marker.txt").read_text() == "remote-ok\n"
    assert (space.root / "train.py").read_text().startswith("import time")
    assert not (tmp_path / "marker.txt").exists()
    assert spaces.deleted == []

    app.keys("C-c")
    app.keys("C-c")
    app.wait_text("EXITED rc=0", timeout=30)
    assert spaces.deleted == [space.repo_id]
