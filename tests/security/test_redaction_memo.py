"""Red team: remembered redaction answers never outlive the secrets they were made for."""

from __future__ import annotations

import pytest

from ml_intern_tui.core import known_secrets
from ml_intern_tui.core.redact import redact_text


def test_a_secret_registered_after_a_text_was_scrubbed_is_scrubbed_next_time() -> None:
    # Scrubbed texts are remembered (the same output is journaled and printed several
    # times); a value registered later must not slip through a remembered answer.
    value = "tok-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    for text in (f"the run printed {value} once", f"{value}\n" + "log line\n" * 600):
        assert redact_text(text) == text  # not known yet: nothing looks like a secret
        try:
            assert known_secrets.register(value, "run_token")
            scrubbed = redact_text(text)
            assert value not in scrubbed and "REDACTED" in scrubbed
        finally:
            known_secrets.clear()
        assert redact_text(text) == text


def test_an_answer_stored_late_by_another_thread_is_never_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A thread that started scrubbing before a value was registered stores its answer
    # after the caches were cleared: the answer carries the old generation in its key.
    from ml_intern_tui.core import redact

    value = "tok-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    text = f"step 3 used {value}"
    before = redact._generation
    try:
        assert known_secrets.register(value, "run_token")
        with monkeypatch.context() as patch:  # the scrub as it ran with the old values
            patch.setattr(redact, "_redact_text", lambda text: text)
            assert redact._redact_short(text, before) == text  # stored late, stale
        assert value not in redact_text(text)
    finally:
        known_secrets.clear()


def test_a_clean_verdict_stored_late_is_never_used_for_new_values() -> None:
    # Requests scrub every message against the known values; long strings found clean
    # are remembered. A verdict stored by a scrub that ran with the values of before a
    # ``register`` must not let the new value out.
    value = "tok-77aa88bb99cc00dd11ee22ff33aa44bb"
    text = "x" * 300 + value
    assert known_secrets.register("tok-unrelated-0123456789abcdef0123", "other")
    try:
        old = known_secrets._finder
        assert known_secrets.register(value, "run_token")
        known_secrets._clean[id(text)] = (text, old)  # the late, stale verdict
        assert value not in known_secrets.scrub(text)
        assert value not in str(known_secrets.scrub_value([{"content": text}]))
    finally:
        known_secrets.clear()


def test_scrubbing_a_history_copies_only_what_held_a_value() -> None:
    value = "tok-5566778899aabbccddeeff0011223344"
    call = {"id": "c1", "type": "function", "function": {"name": "bash", "arguments": value}}
    leaked = {"role": "assistant", "content": None, "tool_calls": [call], "n": 3}
    clean = {"role": "tool", "tool_call_id": "c1", "content": "fine " * 80, "ok": True}
    history = [clean, leaked, ("pair", value), clean]
    assert known_secrets.register(value, "run_token")
    try:
        out = known_secrets.scrub_value(history)
        assert value not in repr(out)
        assert out is not history and out[0] is clean and out[3] is clean
        assert list(out[1]) == list(leaked)  # same keys, same order
        assert out[1]["n"] == 3 and out[1]["content"] is None
        assert out[1]["tool_calls"][0]["function"]["arguments"] == "[REDACTED_RUN_TOKEN]"
        assert out[1]["tool_calls"][0]["id"] == "c1"
        assert out[2] == ("pair", "[REDACTED_RUN_TOKEN]") and isinstance(out[2], tuple)
        assert call["function"]["arguments"] == value  # the original is untouched
        untouched = [clean, {"role": "user", "content": "hello there"}]
        assert known_secrets.scrub_value(untouched) is untouched
    finally:
        known_secrets.clear()
