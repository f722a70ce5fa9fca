"""A scripted session with a remote sandbox Space, for the in-process and tmux tests.

sandbox_create on a GPU → (approval with $/h and worst case) → bash in the sandbox → a
file written then read back there → a background training job in the sandbox whose log
streams → the agent reports. Load it with ``ML_INTERN_SCENARIOS=<this file>`` and
``--model scripted/sandbox-e2e``.
"""

from __future__ import annotations

from typing import Any

from ml_intern_tui.demo.scripted import Scenario, Step, find_in_history

TRAIN = "import time\nfor step in (1, 2):\n    print(f'step {step} loss {1.0 / step:.2f}', flush=True)\n"


def _wait(messages: list[dict[str, Any]]) -> Step:
    job_id = find_in_history(messages, r"Started background job (\S+) in the sandbox")
    return Step(
        text="Training in the sandbox; waiting for it.",
        tool_calls=[("jobs", {"operation": "wait", "job_id": job_id, "timeout_s": 60})],
    )


SCENARIO = Scenario(
    name="sandbox-e2e",
    steps=[
        Step(
            text="I need a GPU: creating a sandbox.",
            tool_calls=[("sandbox_create", {"hardware": "t4-small"})],
        ),
        Step(
            text="Checking the sandbox.",
            tool_calls=[
                (
                    "bash",
                    {
                        "command": "echo remote-ok > marker.txt; cat marker.txt; pwd",
                        "target": "sandbox",
                    },
                )
            ],
        ),
        Step(
            text="Writing the training script there.",
            tool_calls=[("write", {"path": "train.py", "content": TRAIN, "target": "sandbox"})],
        ),
        Step(
            text="Reading it back.",
            tool_calls=[("read", {"path": "train.py", "target": "sandbox"})],
        ),
        Step(
            text="Starting training in the background.",
            tool_calls=[
                (
                    "bash",
                    {
                        "command": "python3 train.py",
                        "background": True,
                        "target": "sandbox",
                        "description": "train in the sandbox",
                    },
                )
            ],
        ),
        _wait,
        Step(text="Training in the sandbox finished: loss went from 1.00 to 0.50."),
    ],
)


def scenarios() -> list[Scenario]:
    return [SCENARIO]
