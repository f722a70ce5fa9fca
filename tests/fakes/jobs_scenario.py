"""A scripted session that starts a training job which logs metrics, then stalls.

Load it into the real binary with ``ML_INTERN_SCENARIOS=<this file>`` and
``--model scripted/jobs-watch``. The job prints what training scripts print (``step=``
lines with loss and learning rate, an eval line every ten steps, a tqdm bar redrawn with
``\\r`` on stderr) for ``STEPS`` steps, then goes quiet: with a small
``[jobs] stall_after_s`` the app reports it stalled.
"""

from __future__ import annotations

from ml_intern_tui.demo.scripted import Scenario, Step

STEPS = 60

SCRIPT = f"""\
import math
import sys
import time

total = {STEPS}
started = time.monotonic()
for step in range(1, total + 1):
    loss = 2.0 * math.exp(-step / 15) + 0.1
    print(f"step={{step}} loss={{loss:.4f}} lr=0.0005", flush=True)
    if step % 10 == 0:
        print(f"step={{step}} eval_accuracy={{0.5 + step / 150:.3f}}", flush=True)
    done = int(20 * step / total)
    rate = step / max(time.monotonic() - started, 1e-3)
    sys.stderr.write(
        f"\\r{{100 * step // total:3d}}%|{{'#' * done:<20}}| {{step}}/{{total}} "
        f"[00:01<00:02, {{rate:.2f}}it/s]"
    )
    sys.stderr.flush()
    time.sleep(0.2)
sys.stderr.write("\\n")
print("waiting for the data loader...", flush=True)
time.sleep(600)
"""

SCENARIO = Scenario(
    name="jobs-watch",
    steps=[
        Step(
            text="Writing the training script.",
            tool_calls=[("write", {"path": "watch_train.py", "content": SCRIPT})],
        ),
        Step(
            text="Starting it as a background job.",
            tool_calls=[
                (
                    "bash",
                    {
                        "command": "python3 watch_train.py",
                        "description": "Train and watch the curves",
                        "background": True,
                    },
                )
            ],
        ),
        Step(text="The job is running; its curves are in the jobs pane."),
    ],
)


def scenarios() -> list[Scenario]:
    return [SCENARIO]
