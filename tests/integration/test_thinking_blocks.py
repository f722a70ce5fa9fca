"""Anthropic thinking blocks across tool calls, an invalid signature healed, and resume.

The real runtime and litellm's real ``anthropic/`` provider against the fake Messages
API, which checks signatures and the thinking rules of the tool loop as the API does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fakes.anthropic_server import AnthropicReply, FakeAnthropic
from fakes.http_server import FakeHTTPServer
from integration.conftest import Harness, make_settings

from ml_intern_tui.core.protocol import UserInput
from ml_intern_tui.runtime.agent import build_runtime

SONNET = "anthropic/claude-sonnet-4-5"
READ = ("read", json.dumps({"path": "notes.txt"}))


@pytest.fixture
def hub() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as server:
        yield server


@pytest.fixture
def anthropic(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        monkeypatch.setenv("ANTHROPIC_API_BASE", fake.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-fake")
        yield fake


def settings(hub: FakeHTTPServer, **more: Any) -> dict[str, Any]:
    llm = {"max_retries": 0, "retry_base_delay_s": 0.01}
    return {"llm": llm, "hub": {"endpoint": hub.base_url}, "reasoning_effort": "low", **more}


async def started(h: Harness) -> Harness:
    """Wait for the start-up probe (it takes the fake's default answer)."""
    await h.wait_for("effort", lambda e: e.state == "probed")
    return h


async def turn(h: Harness, text: str) -> Any:
    mark = h.mark()
    h.submit(UserInput(text=text))
    return await h.wait_for("turn_complete", after=mark)


def assistant_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The content blocks of the request's last assistant message."""
    assistant = [m for m in body["messages"] if m["role"] == "assistant"][-1]
    return assistant["content"]


async def test_thinking_blocks_go_back_with_their_signature_after_a_tool_result(
    anthropic: FakeAnthropic, hub: FakeHTTPServer, harness_factory, workspace
) -> None:
    (workspace / "notes.txt").write_text("alpha\n")
    h = await started(await harness_factory(SONNET, **settings(hub)))
    anthropic.enqueue(
        AnthropicReply(thinking="The notes first.", text="", tool_calls=[READ], signature="sig-A"),
        AnthropicReply(thinking="Now answer.", text="They say alpha."),
    )
    done = await turn(h, "what do the notes say?")
    assert done.reason == "done" and done.final_text == "They say alpha."
    first, second = (r.body for r in anthropic.requests[-2:])
    assert first["thinking"]["type"] == "enabled" and second["thinking"]["type"] == "enabled"
    # the call after the tool result carries the thinking block exactly as issued
    blocks = assistant_blocks(second)
    assert blocks[0] == {"type": "thinking", "thinking": "The notes first.", "signature": "sig-A"}
    assert blocks[1]["type"] == "tool_use"
    # kept in the history and in the journal, signature untouched
    kept = [m for m in h.messages if m.get("thinking_blocks")]
    assert kept[0]["thinking_blocks"][0]["signature"] == "sig-A"
    assert kept[-1]["thinking_blocks"][0]["thinking"] == "Now answer."
    journal = h.runtime.loop.session.journal
    assert journal is not None and '"signature":"sig-A"' in journal.path.read_text()
    # the reasoning was shown as it streamed, once per stretch
    assert "".join(e.text for e in h.of("reasoning_delta")).startswith("The notes first.")


async def test_an_invalid_signature_heals_once_and_the_turn_finishes(
    anthropic: FakeAnthropic, hub: FakeHTTPServer, harness_factory, workspace
) -> None:
    (workspace / "notes.txt").write_text("alpha\n")
    h = await started(await harness_factory(SONNET, **settings(hub)))
    # the server will not honour the signature it sends (a rotated key, another model)
    anthropic.enqueue(
        AnthropicReply(thinking="Read first.", text="", tool_calls=[READ], signature_valid=False),
        AnthropicReply(text="They say alpha."),
    )
    before = len(anthropic.requests)
    done = await turn(h, "what do the notes say?")
    assert done.reason == "done" and done.final_text == "They say alpha."
    assert not h.of("error")
    requests = anthropic.requests[before:]
    assert len(requests) == 3  # the call, the refused call, the call again
    refused, healed = requests[1].body, requests[2].body
    assert assistant_blocks(refused)[0]["type"] == "thinking"
    # again without the stored block; thinking off for this one call (the API wants the
    # tool loop's block when it is on)
    assert [b["type"] for b in assistant_blocks(healed)] == ["tool_use"]
    assert "thinking" not in healed
    notices = [n for n in h.of("notice") if n.text.startswith("Thinking blocks:")]
    assert len(notices) == 1 and notices[0].level == "warning"
    assert "Invalid `signature` in `thinking` block" in notices[0].text
    assert not any(m.get("thinking_blocks") for m in h.messages)

    # the next turn thinks again
    anthropic.enqueue(AnthropicReply(thinking="Easy.", text="Yes."))
    await turn(h, "sure?")
    assert anthropic.requests[-1].body["thinking"]["type"] == "enabled"


async def test_a_refused_signature_twice_in_one_call_ends_the_turn_as_an_error(
    anthropic: FakeAnthropic, hub: FakeHTTPServer, harness_factory, workspace
) -> None:
    (workspace / "notes.txt").write_text("alpha\n")
    h = await started(await harness_factory(SONNET, **settings(hub)))
    anthropic.enqueue(
        AnthropicReply(thinking="Read.", text="", tool_calls=[READ], signature_valid=False),
        AnthropicReply.error(
            400,
            "invalid_request_error",
            "messages.1.content.0: Invalid `signature` in `thinking` block",
        ),
    )
    done = await turn(h, "go")
    assert done.reason == "error"
    errors = h.of("error")
    assert len(errors) == 1 and "Invalid `signature`" in errors[0].message
    assert len([n for n in h.of("notice") if n.text.startswith("Thinking blocks:")]) == 1


async def test_a_resumed_session_sends_the_stored_blocks_of_its_open_tool_loop(
    anthropic: FakeAnthropic, hub: FakeHTTPServer, harness_factory, workspace
) -> None:
    h = await started(await harness_factory(SONNET, **settings(hub, mode="ask")))
    write = ("bash", json.dumps({"command": "pip install --user left-pad"}))
    anthropic.enqueue(
        AnthropicReply(thinking="Write it.", text="", tool_calls=[write], signature="sig-W")
    )
    mark = h.mark()
    h.submit(UserInput(text="write out.txt"))
    await h.wait_for("approval_required", after=mark)
    session_id = h.of("ready")[-1].session_id
    await h.close()

    runtime = build_runtime(
        make_settings(SONNET, **settings(hub, mode="ask")), cwd=workspace, resume=session_id
    )
    resumed = await Harness(runtime).start()
    try:
        assert resumed.of("ready")[-1].resumed
        await resumed.wait_for("effort", lambda e: e.state == "probed")
        anthropic.enqueue(AnthropicReply(thinking="Fine.", text="Done."))
        done = await turn(resumed, "never mind, just say done")
        assert done.reason == "done" and done.final_text == "Done."
        blocks = assistant_blocks(anthropic.requests[-1].body)
        assert blocks[0] == {"type": "thinking", "thinking": "Write it.", "signature": "sig-W"}
    finally:
        await resumed.close()


async def test_signed_blocks_never_reach_a_model_that_is_not_claude(
    anthropic: FakeAnthropic, hub: FakeHTTPServer, harness_factory, workspace, fake_openai
) -> None:
    from fakes.openai_server import Reply

    from ml_intern_tui.core.protocol import SetModel

    (workspace / "notes.txt").write_text("alpha\n")
    h = await started(await harness_factory(SONNET, **settings(hub, mode="auto")))
    anthropic.enqueue(
        AnthropicReply(thinking="Read.", text="", tool_calls=[READ], signature="sig-R"),
        AnthropicReply(thinking="Done.", text="alpha"),
    )
    await turn(h, "read")
    mark = h.mark()
    h.submit(SetModel(model="vllm/fake"))
    await h.wait_for("ready", after=mark)
    fake_openai.enqueue(Reply(text="local"))
    await turn(h, "and now?")
    body = fake_openai.requests[-1].body
    assert "sig-R" not in json.dumps(body["messages"])
    assert not any("thinking_blocks" in m or "reasoning_content" in m for m in body["messages"])
    assert "reasoning_effort" not in body
    assert any(m.get("thinking_blocks") for m in h.messages)  # kept for a switch back
