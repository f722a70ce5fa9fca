"""Overflow on a llama.cpp-like server: the whole runtime, real litellm, real HTTP.

The fake (``fakes/llama_server.py``) answers a prompt over its window with an empty
200 stream when streaming and a 400 ``context_length_exceeded`` when not, counts tokens
its own way, and may report its window on ``GET /v1/models``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.llama_server import FakeLlamaCpp, count_prompt
from fakes.openai_server import Reply

from ml_intern_tui.core.context import rebuild
from ml_intern_tui.core.journal import load
from ml_intern_tui.core.protocol import Resume, UserInput

MODEL = "llamacpp/local-model"
N_CTX = 16_384
PASTE = "".join(f"line {i}: the quick brown fox jumps over the lazy dog\n" for i in range(700))
"""~38 kB: about 12,700 tokens for the fake, far more than the room its window leaves."""


@pytest.fixture
def llama(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLlamaCpp]:
    with FakeLlamaCpp(n_ctx=N_CTX, listing="plain") as fake:
        monkeypatch.setenv("LLAMACPP_BASE_URL", fake.base_url)
        yield fake


def user_contents(body: dict) -> list[str]:
    return [str(m.get("content")) for m in body["messages"] if m["role"] == "user"]


async def ask(h, text: str):
    mark = h.mark()
    h.submit(UserInput(text=text))
    return await h.wait_for("turn_complete", after=mark, timeout=60), mark


async def test_overflow_on_an_empty_stream_compacts_and_the_turn_continues(
    llama: FakeLlamaCpp, harness_factory
) -> None:
    llama.enqueue(Reply(text="Hello."), Reply(text="I read your log."))
    h = await harness_factory(MODEL)
    await ask(h, "hi")
    done, mark = await ask(h, "Please look at this log:\n" + PASTE + "What failed?")
    assert done.reason == "done" and done.final_text == "I read your log."
    # The streamed request got an empty 200, the same request without streaming the 400.
    streams = [bool(r.body.get("stream")) for r in llama.requests]
    assert streams == [True, True, False, True] and llama.overflows == 2
    # The window came from the error and the gauge shows it.
    usage = h.of("context_usage")[-1]
    assert usage.limit == N_CTX and usage.threshold == int(N_CTX * 0.9)
    notices = [e.text for e in h.events[mark:] if e.type == "notice"]
    assert any(f"{N_CTX:,} tokens (from the server's overflow error)" in t for t in notices)
    # The newest user message was cut to its start and end, and the user was told.
    sent = user_contents(llama.requests[-1].body)[-1]
    assert sent.startswith("Please look at this log:\nline 0: the quick")
    assert sent.rstrip().endswith("What failed?") and "tokens cut here" in sent
    assert any(t.startswith("Your message is too long for the context window") for t in notices)
    assert llama.prompt_counts[-1] < N_CTX
    # The history keeps the cut message: the next turn does not overflow again.
    before = llama.overflows
    llama.enqueue(Reply(text="Still here."))
    done, _ = await ask(h, "thanks")
    assert done.final_text == "Still here." and llama.overflows == before


async def test_gauge_tracks_the_servers_count_not_ours(
    llama: FakeLlamaCpp, harness_factory
) -> None:
    llama.enqueue(Reply(text="a"), Reply(text="b"), Reply(text="c"))
    h = await harness_factory(MODEL)
    for text in ("first question", "x" * 3000, "y" * 6000):
        await ask(h, text)
        usage = h.of("context_usage")[-1]
        session = h.runtime.loop.session
        assert session is not None
        server = llama.prompt_counts[-1]
        ours = session.context.raw_tokens()
        # Ours runs well below the server's; the gauge follows the server within 3%.
        assert ours < 0.8 * server
        assert abs(usage.used - server) <= 0.03 * server + 20, (usage.used, server, ours)


async def test_short_session_that_overflows_recovers_and_resumes(
    llama: FakeLlamaCpp, harness_factory, workspace: Path
) -> None:
    """system + a huge first message: nothing to summarise, the message itself is cut."""
    llama.enqueue(Reply(text="Summarised the paste."))
    h = await harness_factory(MODEL)
    done, _ = await ask(h, PASTE)
    assert done.reason == "done" and done.final_text == "Summarised the paste."
    session = h.runtime.loop.session
    assert session is not None and session.journal is not None
    path, session_id = session.journal.path, session.session_id
    records = load(path).records
    assert any(r.get("kind") == "window" and r.get("limit") == N_CTX for r in records)
    # Resume it: the learned window is known before any call, the next turn just works.
    overflows = llama.overflows
    llama.enqueue(Reply(text="Resumed fine."))
    mark = h.mark()
    h.submit(Resume(session_id=session_id))
    ready = await h.wait_for("ready", after=mark)
    assert ready.resumed and ready.context_limit == N_CTX
    done, _ = await ask(h, "and now?")
    assert done.final_text == "Resumed fine." and llama.overflows == overflows
    assert user_contents(llama.requests[-1].body)[-1] == "and now?"


async def test_a_turn_that_cannot_fit_is_rolled_back_and_the_session_stays_usable(
    monkeypatch: pytest.MonkeyPatch, harness_factory
) -> None:
    # A window smaller than the system prompt and the tool schemas: nothing can fit.
    with FakeLlamaCpp(n_ctx=4_000, listing="plain") as tiny:
        monkeypatch.setenv("LLAMACPP_BASE_URL", tiny.base_url)
        h = await harness_factory(MODEL)
        done, mark = await ask(h, "hello there")
        assert done.reason == "error"
        undone = await h.wait_for("undone", after=mark)
        assert undone.what == "turn" and undone.text == "hello there"
        error = h.of("error")[-1]
        assert "taken back" in error.message and "tool definitions alone" in error.message
        assert "\n" not in error.message
        # Nothing of the failed turn is left to poison the next call or a resume.
        assert [m["role"] for m in h.messages] == ["system"]
        session = h.runtime.loop.session
        assert session is not None and session.journal is not None
        records = load(session.journal.path).records
        assert [m["role"] for m in rebuild(records)] == ["system"]
        assert tiny.overflows >= 1


async def test_window_from_the_model_listing_before_any_call(
    monkeypatch: pytest.MonkeyPatch, harness_factory
) -> None:
    with FakeLlamaCpp(n_ctx=12_288, listing="llamacpp") as fake:
        monkeypatch.setenv("LLAMACPP_BASE_URL", fake.base_url)
        h = await harness_factory(MODEL)
        usage = await h.wait_for("context_usage", lambda e: e.limit == 12_288)
        assert usage.threshold == int(12_288 * 0.9)
        assert fake.models_requests == ["/v1/models"] and fake.requests_count == 0


async def test_vllm_max_model_len_and_the_users_smaller_limit(
    monkeypatch: pytest.MonkeyPatch, harness_factory, wait_until
) -> None:
    with FakeLlamaCpp(n_ctx=32_768, listing="vllm") as fake:
        monkeypatch.setenv("LLAMACPP_BASE_URL", fake.base_url)
        h = await harness_factory(MODEL)
        await h.wait_for("context_usage", lambda e: e.limit == 32_768)
        capped = await harness_factory(MODEL, context={"limit": 20_000})
        loop = capped.runtime.loop
        await wait_until(lambda: len(fake.models_requests) == 2 and not loop._lookups)
        assert capped.of("context_usage")[-1].limit == 20_000
        assert loop.session is not None and loop.session.context.limit == 20_000


def test_fake_counts_more_than_we_do() -> None:
    """The fake's tokenizer must differ from ours, or the calibration is never exercised."""
    from ml_intern_tui.core.llm import count_tokens

    body = {"messages": [{"role": "user", "content": PASTE}]}
    ours = count_tokens("openai/local-model", body["messages"])
    assert count_prompt(body) > 1.2 * ours
    assert json.dumps(body)  # the body is what the fake gets on the wire


async def test_rolled_back_turn_does_not_poison_a_resume_on_a_bigger_server(
    monkeypatch: pytest.MonkeyPatch, harness_factory
) -> None:
    with FakeLlamaCpp(n_ctx=4_000, listing="plain") as tiny:
        monkeypatch.setenv("LLAMACPP_BASE_URL", tiny.base_url)
        h = await harness_factory(MODEL)
        done, _ = await ask(h, "poison pill prompt")
        assert done.reason == "error"
        session = h.runtime.loop.session
        assert session is not None
        session_id = session.session_id
    # The user restarts the server with a larger window and resumes the session.
    with FakeLlamaCpp(n_ctx=32_768, listing="plain") as big:
        monkeypatch.setenv("LLAMACPP_BASE_URL", big.base_url)
        big.enqueue(Reply(text="Fresh start works."))
        mark = h.mark()
        h.submit(Resume(session_id=session_id))
        ready = await h.wait_for("ready", after=mark)
        assert ready.resumed and ready.messages == 0 and ready.context_limit == 4_000
        done, mark = await ask(h, "hello again")
        assert done.reason == "done" and done.final_text == "Fresh start works."
        assert user_contents(big.requests[-1].body) == ["hello again"]  # no poison pill
        # The window learned from the small server was outgrown, not kept.
        notices = [e.text for e in h.events[mark:] if e.type == "notice"]
        assert any("more than the window learned earlier (4,000)" in t for t in notices)
        assert h.of("context_usage")[-1].limit > 32_768 // 2
