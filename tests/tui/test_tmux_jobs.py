"""The real app in tmux watching a training job: sparklines grow, Enter plots, a stall alerts.

The demo itself (``--demo``, its training paced by ``ML_INTERN_DEMO_STEPS_PER_S`` so it runs
long enough to watch): sparklines grow while the job runs, Enter on the job plots it.
A scripted session (``tests/fakes/jobs_scenario.py``) starts a job that logs ``step=``
lines, eval lines and a tqdm bar, then goes quiet: the stall notice and its bell.
Asserts only on what ``capture-pane`` shows (and on tmux's own bell flag for the bell).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ml_intern_tui import paths
from ml_intern_tui.demo.scenario import PACE_ENV
from ml_intern_tui.demo.workspace import DEMO_GOAL
from tui.tmux_driver import Tmux, tmux_app

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

SCENARIO_FILE = Path(__file__).resolve().parents[1] / "fakes" / "jobs_scenario.py"
SPARK = re.compile(r"[▁▂▃▄▅▆▇█]{3,}")
LOSS_ROW = re.compile(r"\bloss\s+(\d+\.\d+)")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Tmux]:
    config = paths.config_dir() / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[jobs]\nstall_after_s = 3\n\n[ui]\nnotify = "bell"\n', encoding="utf-8")
    env = {"ML_INTERN_SCENARIOS": str(SCENARIO_FILE)}
    with tmux_app(tmp_path, ["--model", "scripted/jobs-watch"], env) as session:
        yield session


def loss_values(screen: str) -> list[str]:
    """The loss values the jobs pane's sparkline rows show (with a sparkline beside them)."""
    return [
        m.group(1)
        for line in screen.splitlines()
        if SPARK.search(line)
        for m in LOSS_ROW.finditer(line)
    ]


def click(app: Tmux, screen: str, text: str) -> None:
    """Click the first place ``screen`` shows ``text`` (an SGR mouse press and release)."""
    row = next(i for i, line in enumerate(screen.splitlines()) if text in line)
    column = screen.splitlines()[row].index(text)
    press = f"\x1b[<0;{column + 1};{row + 1}M\x1b[<0;{column + 1};{row + 1}m"
    app.run("send-keys", "-t", app.name, "-H", *(f"{b:02x}" for b in press.encode()))


def test_sparklines_grow_enter_plots_and_a_stall_alerts(app: Tmux) -> None:
    app.wait_text("Ask the agent", timeout=15)
    app.wait_text("session ", timeout=30)
    app.keys("watch a training run", "Enter")
    app.wait_all("Approval needed", "python3 watch_train.py", "y approve", timeout=60)
    app.keys("y")

    # The sparkline row of the loss appears and its value moves while the job runs.
    seen: list[str] = []

    def grown(screen: str) -> bool:
        for value in loss_values(screen):
            if not seen or seen[-1] != value:
                seen.append(value)
        return len(seen) >= 3

    app.wait_for(grown, "a loss sparkline whose value changes three times", timeout=60)
    assert float(seen[-1]) < float(seen[0])  # the loss falls as the script says
    screen = app.wait_for(lambda s: re.search(r"\d+% \d+/60", s) is not None, "a progress bar")
    assert "Jobs · 1 running" in screen

    # A click on the job (as Enter on it) opens its plots; Esc goes back.
    click(app, screen, "Train and watch")
    plot = app.wait_all("loss (last", "eval_accuracy", " lr ", "Back", timeout=30)
    assert "Smoothing" in plot
    app.keys("Right")
    app.wait_for(lambda s: "(last" in s and "loss (last" not in s, "the next metric plotted")
    app.keys("Escape")
    app.wait_for(lambda s: "(last" not in s and "Jobs" in s, "the main screen again")

    # The job goes quiet: the stall notice (and the bell: tmux flags the window).
    app.wait_for(lambda s: "stalled" in s, "the stall notice", timeout=60)
    # The terminal (tmux, focus reports off) never said the user left: a job alert rings
    # anyway, and tmux marks the window that rang.
    deadline = time.monotonic() + 10
    flag = ""
    while time.monotonic() < deadline and flag != "1":
        flag = app.run("display-message", "-p", "-t", app.name, "#{window_bell_flag}").strip()
        time.sleep(0.05)
    assert flag == "1"
    # The log under the sparklines still follows its tail.
    app.wait_text("waiting for the data loader", timeout=10)


DEMO_PACE = "10"
"""Steps per second of the demo's training: its 144 steps take ~15 s instead of ~3 s."""


def test_the_demo_training_grows_sparklines_and_enter_plots_it(tmp_path: Path) -> None:
    # TMPDIR: the demo workspace goes under tmp_path, removed with it.
    env = {"TMPDIR": str(tmp_path), PACE_ENV: DEMO_PACE}
    with tmux_app(tmp_path, ["--demo"], env) as app:
        app.wait_text("Ask the agent", timeout=30)
        app.keys(DEMO_GOAL, "Enter")
        app.wait_all(
            "Approval needed", f"python3 train.py --epochs 12 --steps-per-s {DEMO_PACE}", timeout=60
        )
        app.keys("y")

        # The loss sparkline appears and its value changes while the job is running.
        seen: list[str] = []

        def grown(screen: str) -> bool:
            if "Jobs · 1 running" not in screen:
                return False
            for value in loss_values(screen):
                if not seen or seen[-1] != value:
                    seen.append(value)
            return len(seen) >= 3

        app.wait_for(grown, "a loss sparkline whose value changes twice as the job runs", 60)

        # Focus the jobs pane from the keyboard (its keys show in the footer), Enter plots.
        for _ in range(4):
            app.keys("C-n")
            with contextlib.suppress(AssertionError):
                app.wait_text("Cancel job", timeout=3)
                break
        app.wait_text("Cancel job", timeout=5)
        app.keys("Enter")
        plot = app.wait_all("loss (last", " lr ", "Back", timeout=30)
        assert "Smoothing" in plot
        app.keys("Escape")
        app.wait_for(lambda s: "loss (last" not in s and "Jobs" in s, "the main screen again")

        # The demo goes on to its report once the job ends.
        app.wait_all("validation accuracy", "Plan · 4/4 done", timeout=120)
