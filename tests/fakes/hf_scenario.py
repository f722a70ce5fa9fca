"""A scripted ML session on the Hub, shared by the in-process and the tmux tests.

Load it into the real binary with ``ML_INTERN_SCENARIOS=<this file>`` and
``--model scripted/hf-e2e``.
"""

from __future__ import annotations

from typing import Any

from ml_intern_tui.demo.steps import Scenario, Step, find_in_history

SCRIPT = "from transformers import Trainer\nprint('training')\n# trainer.push_to_hub()\n"


def _wait_step(messages: list[dict[str, Any]]) -> Step:
    job_id = find_in_history(messages, r"HF job (\S+) accepted")
    return Step(
        text="Submitted. I'll watch it until it finishes.",
        tool_calls=[("hf_jobs", {"operation": "wait", "job_id": job_id, "wait_timeout_s": 60})],
    )


def _report(messages: list[dict[str, Any]]) -> Step:
    url = find_in_history(messages, r"(http://127\.0\.0\.1:\d+/jobs/\S+)")
    return Step(text=f"Training finished. Job page: {url}")


SCENARIO = Scenario(
    name="hf-e2e",
    steps=[
        Step(
            text="Researching a recipe first.",
            tool_calls=[("research", {"task": "How to fine-tune on org/chat?"})],
        ),
        Step(
            text="Checking the dataset.",
            tool_calls=[("hf_dataset_inspect", {"dataset": "org/chat"})],
        ),
        Step(
            text="Launching the training job.",
            tool_calls=[
                (
                    "hf_jobs",
                    {"operation": "run", "script": SCRIPT, "flavor": "a10g-small", "timeout": "1h"},
                )
            ],
        ),
        _wait_step,
        _report,
    ],
    research_steps=[
        Step(text="", tool_calls=[("hf_dataset_inspect", {"dataset": "org/chat"})]),
        Step(text="Use SFT on the messages column. Sources: org/chat"),
    ],
)


def scenarios() -> list[Scenario]:
    return [SCENARIO]
