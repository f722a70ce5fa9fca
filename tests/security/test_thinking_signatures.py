"""Thinking signatures against redaction, and secrets hidden in thinking blocks.

A signature is an opaque base64 blob the provider checks byte for byte: if redaction
rewrote one, every resumed tool loop would be refused. And the model's (or a hostile
server's) thinking is text like any other: a secret in it must not reach the journal,
and a block redaction did change must not be sent back as if it were intact.
"""

from __future__ import annotations

import base64
import random
from pathlib import Path

from ml_intern_tui.core import known_secrets
from ml_intern_tui.core.context import rebuild
from ml_intern_tui.core.journal import Journal, load
from ml_intern_tui.core.llm import LLMClient
from ml_intern_tui.core.models import ModelRoute
from ml_intern_tui.core.redact import redact

CLAUDE = ModelRoute(
    "anthropic/claude-sonnet-4-5", "anthropic/claude-sonnet-4-5", None, None, "native", True
)
HF_TOKEN = "hf_" + "Qx7Lm2Np9Rs4Tv6Wy8Za1Bc3De5Fg7Hj9Kq"
SECRETS = {
    "HF_TOKEN": HF_TOKEN,
    "GITHUB_TOKEN": "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "OPENAI_API_KEY": "sk-proj-" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}
CALL = [{"id": "t1", "type": "function", "function": {"name": "read", "arguments": "{}"}}]


def signatures(count: int, seed: int = 11) -> list[str]:
    """Signatures shaped like Anthropic's: base64 of a protobuf-like binary blob."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        size = rng.randrange(180, 1400)
        blob = b"\x12" + bytes([rng.randrange(256) for _ in range(size)])
        out.append(base64.b64encode(blob).decode("ascii"))
    return out


def test_redaction_leaves_signatures_byte_for_byte() -> None:
    for name, value in SECRETS.items():
        known_secrets.register(value, name)
    for signature in signatures(2500):
        block = {"type": "thinking", "thinking": "Let me check.", "signature": signature}
        assert redact(block) == block
        assert known_secrets.scrub_value(block) == block
        redacted = {"type": "redacted_thinking", "data": signature}
        assert redact(redacted) == redacted


def _journaled(tmp_path: Path, blocks: list[dict[str, str]]) -> list[dict]:
    """Blocks written to a journal with their message and read back for a resume."""
    journal = Journal.create(tmp_path, "s1", {"model": CLAUDE.model_id})
    message = {"role": "assistant", "content": None, "tool_calls": CALL, "thinking_blocks": blocks}
    for record in (
        {"kind": "message", "message": {"role": "user", "content": "go"}},
        {"kind": "message", "message": message},
        {"kind": "message", "message": {"role": "tool", "tool_call_id": "t1", "content": "x"}},
    ):
        journal.append(record)
    journal.close()
    return rebuild(load(journal.path).records)


def test_a_resumed_tool_loop_gets_its_signatures_back_intact(tmp_path: Path) -> None:
    sig = signatures(1, seed=3)[0]
    blocks = [
        {"type": "thinking", "thinking": "Read the file.", "signature": sig},
        {"type": "redacted_thinking", "data": signatures(1, seed=4)[0]},
    ]
    messages = _journaled(tmp_path, blocks)
    assert messages[1]["thinking_blocks"] == blocks
    kwargs = LLMClient(CLAUDE, reasoning_effort="low").request_kwargs(messages, None, True)
    assert kwargs["messages"][1]["thinking_blocks"] == blocks
    assert kwargs["reasoning_effort"] == "low"


def test_a_secret_in_the_thinking_never_reaches_the_journal_or_a_request(tmp_path: Path) -> None:
    """The model (or a hostile server) writes a known secret into its thinking."""
    known_secrets.register(HF_TOKEN, "HF_TOKEN")
    block = {"type": "thinking", "thinking": f"The token is {HF_TOKEN}.", "signature": "EqA1"}
    messages = _journaled(tmp_path, [block])
    on_disk = (tmp_path / "s1.jsonl").read_text()
    assert HF_TOKEN not in on_disk and "[REDACTED_HF_TOKEN]" in on_disk
    kwargs = LLMClient(CLAUDE, reasoning_effort="low").request_kwargs(
        [
            {"role": "user", "content": "go"},
            {**messages[1], "thinking_blocks": [block]},
            messages[2],
        ],
        None,
        True,
    )
    assert HF_TOKEN not in repr(kwargs["messages"])


def test_a_signature_redaction_changed_is_dropped_not_sent(tmp_path: Path) -> None:
    """A hostile server hides a token in a signature: the journal scrubs it, and the
    resumed request leaves the spoiled block out instead of sending a marker."""
    known_secrets.register(HF_TOKEN, "HF_TOKEN")
    block = {"type": "thinking", "thinking": "ok", "signature": f"Eq{HF_TOKEN}AAAA"}
    messages = _journaled(tmp_path, [block])
    assert "[REDACTED" in messages[1]["thinking_blocks"][0]["signature"]
    kwargs = LLMClient(CLAUDE, reasoning_effort="low").request_kwargs(messages, None, True)
    sent = repr(kwargs["messages"])
    assert "[REDACTED" not in sent and HF_TOKEN not in sent
    # without its block the tool loop cannot think this call (the API would refuse it)
    assert "reasoning_effort" not in kwargs
