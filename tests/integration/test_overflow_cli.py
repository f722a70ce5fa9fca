"""Overflow with the real command: a session that overflowed resumes headless and goes on."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.llama_server import FakeLlamaCpp
from fakes.openai_server import Reply
from test_cli import cli, events_of

from ml_intern_tui.core.protocol import UserInput

MODEL = "llamacpp/local-model"
PASTE = "".join(f"epoch {i}: train_loss=0.{i:04d} val_loss=0.{i + 7:04d}\n" for i in range(900))


def user_texts(body: dict) -> list[str]:
    return [str(m.get("content")) for m in body["messages"] if m["role"] == "user"]


async def test_overflowed_session_resumes_headless_and_finishes_a_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, harness_factory
) -> None:
    with FakeLlamaCpp(n_ctx=16_384, listing="plain") as fake:
        monkeypatch.setenv("LLAMACPP_BASE_URL", fake.base_url)
        # A three-message session (system, one huge paste, the answer) that overflowed.
        fake.enqueue(Reply(text="Validation loss tracks training loss."))
        h = await harness_factory(MODEL)
        h.submit(UserInput(text="Read this:\n" + PASTE))
        done = await h.wait_for("turn_complete", timeout=60)
        assert done.reason == "done" and fake.overflows >= 2 and h.of("compacted")
        assert [m["role"] for m in h.messages] == ["system", "user", "assistant"]
        await h.close()
        overflows = fake.overflows
        fake.enqueue(Reply(text="Yes: no overfitting."))
        resumed = cli(
            ["--model", MODEL, "--resume", "last", "-p", "Any overfitting?", "--json"],
            cwd=tmp_path,
            env={"LLAMACPP_BASE_URL": fake.base_url},
        )
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        events = events_of(resumed.stdout)
        ready = next(e for e in events if e.type == "ready")
        assert ready.resumed and ready.context_limit == 16_384  # the window was journaled
        done = next(e for e in events if e.type == "turn_complete")
        assert done.reason == "done" and done.final_text == "Yes: no overfitting."
        assert fake.overflows == overflows  # the resumed history fits as it is
        sent = user_texts(fake.requests[-1].body)
        assert sent[-1] == "Any overfitting?" and "tokens cut here" in sent[0]
