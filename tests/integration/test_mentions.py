"""``@path`` mentions through the real runtime: attached after the user's message, with one
line for each file that is not (binary, too big, outside, secrets, missing)."""

from __future__ import annotations

import os
from pathlib import Path

from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.core.mentions import MAX_FILE_BYTES, attach_all
from ml_intern_tui.core.protocol import Undo, UserInput


def files(workspace: Path) -> None:
    (workspace / "src").mkdir()
    (workspace / "src" / "train.py").write_text("EPOCHS = 3\nprint('train')\n")
    (workspace / "notes.md").write_text("# Notes\nuse lr 3e-4\n")
    (workspace / "model.bin").write_bytes(b"\x00\x01weights" * 10)
    (workspace / "huge.txt").write_text("x" * (MAX_FILE_BYTES + 1))
    (workspace / ".env").write_text("HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz012345\n")


async def test_mentioned_files_reach_the_model_refusals_are_one_line_each(
    fake_openai: FakeOpenAI, harness_factory, workspace: Path, tmp_path: Path
) -> None:
    files(workspace)
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours")
    os.symlink(outside, workspace / "link.txt")
    fake_openai.enqueue(Reply(text="seen"))
    h = await harness_factory()
    mentioned = [
        "src/train.py",
        "notes.md",
        "model.bin",
        "huge.txt",
        ".env",
        "link.txt",
        "missing.py",
        "../outside.txt",
    ]
    h.submit(UserInput(text="compare @src/train.py with @notes.md", mentions=mentioned))
    await h.wait_for("turn_complete")
    sent = fake_openai.requests[0].body["messages"]
    assert sent[-2]["content"] == "compare @src/train.py with @notes.md"
    attached = sent[-1]["content"]
    assert '<file path="src/train.py">\nEPOCHS = 3' in attached
    assert '<file path="notes.md">' in attached and "lr 3e-4" in attached
    for refused in ("model.bin", "huge.txt", ".env", "link.txt", "outside.txt", "weights"):
        assert refused not in attached
    assert "hf_abcdefghij" not in str(sent)
    texts = [n.text for n in h.of("notice")]
    assert any(t.startswith("Attached src/train.py (") and "notes.md" in t for t in texts)
    problems = {t.split(" ")[0]: t for t in texts if "not attached" in t}
    assert "binary" in problems["@model.bin"]
    assert "100,000 bytes" in problems["@huge.txt"]
    assert "environment file" in problems["@.env"]
    assert "outside the project" in problems["@link.txt"]
    assert "outside the project" in problems["@../outside.txt"]
    assert "no such file" in problems["@missing.py"]
    # The turn started with the user's own words (and undo gives back only those).
    assert h.of("turn_started")[-1].text == "compare @src/train.py with @notes.md"
    h.submit(Undo())
    undone = await h.wait_for("undone")
    assert undone.text == "compare @src/train.py with @notes.md"


def test_total_budget_and_repeats(tmp_path: Path) -> None:
    for i in range(4):
        (tmp_path / f"f{i}.txt").write_text("y" * 90_000)
    results = attach_all(tmp_path, ["f0.txt", "f0.txt", "f1.txt", "f2.txt", "f3.txt"])
    assert [r.name for r in results] == ["f0.txt", "f1.txt", "f2.txt", "f3.txt"]
    assert [bool(r.text) for r in results] == [True, True, False, False]
    assert "budget" in results[2].problem


def test_a_fifo_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (result,) = attach_all(tmp_path, ["pipe"])
    assert "not a regular file" in result.problem
