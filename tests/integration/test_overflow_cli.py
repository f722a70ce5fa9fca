"""Overflow with the real command: a session that overflowed resumes headless and goes on."""

from __future__ import annotations

from pathlib import Path

from fakes.llama_server import FakeLlamaCpp
from fakes.openai_server import Reply
from test_cli import cli, events_of

MODEL = "llamacpp/local-model"
PASTE = "".join(f"epoch {i}: train_loss=0.{i:04d} val_loss=0.{i + 7:04d}\n" for i in range(900))


def user_texts(body: dict) -> list[str]:
    return [str(m.get("content")) for m in body["messages"] if m["role"] == "user"]


def test_overflowed_session_resumes_headless_and_finishes_a_turn(tmp_path: Path) -> None:
    with FakeLlamaCpp(n_ctx=16_384, listing="plain") as fake:
        env = {"LLAMACPP_BASE_URL": fake.base_url}
        fake.enqueue(Reply(text="Validation loss tracks training loss."))
        first = cli(
            ["--model", MODEL, "-p", "Read this:\n" + PASTE, "--json"], cwd=tmp_path, env=env
        )
        assert first.returncode == 0, first.stderr[-2000:]
        events = events_of(first.stdout)
        assert fake.overflows >= 2 and any(e.type == "compacted" for e in events)
        assert [e for e in events if e.type == "turn_complete"][-1].reason == "done"
        overflows = fake.overflows
        fake.enqueue(Reply(text="Yes: no overfitting."))
        resumed = cli(
            ["--model", MODEL, "--resume", "last", "-p", "Any overfitting?", "--json"],
            cwd=tmp_path,
            env=env,
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
