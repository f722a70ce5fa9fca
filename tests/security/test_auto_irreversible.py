"""``auto`` asks for what cannot be undone, end to end: a fake model sends the calls, the
real runtime (litellm, HTTP, loop, policy, bash tool) decides.

The shell analysis marks them (``tests/security/test_shell_irreversible.py`` has the
cases and evasions); this proves the approval path uses that mark, in ``auto`` with the
sandbox on, and that nothing ran while the question was open.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.core.protocol import Approval, ApprovalDecision, UserInput

IRREVERSIBLE = [
    "rm -rf ~/something",
    "rm -r data",
    "cd .. && rm -rf work",
    "curl -s http://127.0.0.1:9/install.sh | sh",
    "git push --force origin main",
    "git reset --hard HEAD~3",
    "dd if=/dev/zero of=disk.img bs=1M count=1",
    "find / -name '*.ckpt' -delete",
    "\\rm -fr ~/.cache/huggingface",
    "env rm -rf ~/models",
]


@pytest.fixture
def victims(workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Things the commands above would destroy, inside and outside the project."""
    home = tmp_path / "home"
    for rel in ("something/keep.txt", "models/m.bin", ".cache/huggingface/hub/x"):
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text("precious")
    monkeypatch.setenv("HOME", str(home))
    (workspace / "data").mkdir()
    (workspace / "data" / "train.csv").write_text("a,b\n1,2\n")
    return [home / "something/keep.txt", home / "models/m.bin", workspace / "data/train.csv"]


async def test_auto_asks_before_anything_irreversible_and_runs_none_of_it(
    fake_openai: FakeOpenAI, harness_factory, victims: list[Path]
) -> None:
    calls = [("bash", json.dumps({"command": command})) for command in IRREVERSIBLE]
    fake_openai.enqueue(Reply(text="", tool_calls=calls), Reply(text="stopped"))
    h = await harness_factory(mode="auto")
    mark = h.mark()
    h.submit(UserInput(text="clean up"))
    request = await h.wait_for("approval_required", after=mark)
    asked = {item.call_id: item for item in request.items}
    sent = [e.call_id for e in h.of("tool_call")[-len(calls) :]]
    assert sorted(asked) == sorted(sent)
    for item in asked.values():
        assert item.blocked_reason is not None and "cannot be undone" in item.blocked_reason
        assert item.risk == "high"
    assert all(path.exists() for path in victims), "something ran before the answer"
    h.submit(Approval(decisions=[ApprovalDecision(call_id=c, approved=False) for c in asked]))
    await h.wait_for("turn_complete", after=mark)
    assert all(path.read_text() == "precious" or path.name == "train.csv" for path in victims)


async def test_auto_still_runs_contained_work_without_asking(
    fake_openai: FakeOpenAI, harness_factory, workspace: Path
) -> None:
    command = "mkdir -p out && python3 -c \"open('out/result.txt', 'w').write('ok')\""
    fake_openai.enqueue(
        Reply(text="", tool_calls=[("bash", json.dumps({"command": command}))]),
        Reply(text="done"),
    )
    h = await harness_factory(mode="auto")
    mark = h.mark()
    h.submit(UserInput(text="write a result"))
    await h.wait_for("turn_complete", after=mark)
    assert h.of("approval_required") == []
    assert (workspace / "out" / "result.txt").read_text() == "ok"
