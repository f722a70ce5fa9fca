"""The incremental dangling-call patch gives exactly what patching the whole history gives."""

from __future__ import annotations

import random
from typing import Any

from ml_intern_tui.core.context import ContextManager, strip_private
from ml_intern_tui.core.guards import DanglingPatcher, patch_dangling_tool_calls

Message = dict[str, Any]


def random_message(rng: random.Random, n: int) -> Message:
    """Assistant messages with 0-3 calls, results (some late, some orphaned or doubled),
    user messages and guard notes: every shape the patch repairs."""
    kind = rng.choice(["assistant", "assistant", "tool", "tool", "tool", "user"])
    if kind == "assistant":
        calls = [
            {"id": f"c{n}-{k}", "type": "function", "function": {"name": "read", "arguments": "{}"}}
            for k in range(rng.choice([0, 1, 1, 2, 3]))
        ]
        return {"role": "assistant", "content": f"a{n}", **({"tool_calls": calls} if calls else {})}
    if kind == "tool":
        owner = rng.randrange(max(1, n))
        call_id = f"c{owner}-{rng.randrange(3)}"
        return {"role": "tool", "tool_call_id": call_id, "content": f"r{n}", "_origin": "tool"}
    return {"role": "user", "content": f"u{n}", "_origin": rng.choice(["user", "guard"])}


def test_appends_give_the_same_patch_as_the_whole_history() -> None:
    for seed in range(40):
        rng = random.Random(seed)
        patcher = DanglingPatcher()
        history: list[Message] = [{"role": "system", "content": "S"}]
        for n in range(120):
            history.append(random_message(rng, n))
            if rng.random() < 0.4:  # not every append is followed by a model call
                continue
            got = patcher.patch(history)
            want = patch_dangling_tool_calls(history)
            assert got == want, (seed, n)
            assert all(
                a is b
                for a, b in zip(got, want, strict=True)
                if a.get("role") != "tool" or not a["content"].startswith("[SYSTEM")
            )


def test_a_shrunk_or_different_history_is_patched_from_scratch() -> None:
    rng = random.Random(7)
    history: list[Message] = [{"role": "system", "content": "S"}]
    for n in range(60):
        history.append(random_message(rng, n))
    patcher = DanglingPatcher()
    assert patcher.patch(history) == patch_dangling_tool_calls(history)
    shorter = history[:20]
    assert patcher.patch(shorter) == patch_dangling_tool_calls(shorter)
    assert patcher.patch(history) == patch_dangling_tool_calls(history)
    # A message replaced in the middle: the owner says so (ContextManager does, on every
    # change that is not an append).
    other = [*history[:10], {"role": "assistant", "content": "new"}, *history[11:]]
    patcher.reset()
    assert patcher.patch(other) == patch_dangling_tool_calls(other)


def test_for_llm_follows_undo_and_restore() -> None:
    cm = ContextManager("SYS", limit=10**9, counter=lambda m: len(m))
    rng = random.Random(3)
    for turn in range(6):
        cm.start_turn(f"turn {turn}")
        for n in range(15):
            cm.add(random_message(rng, turn * 100 + n))
            assert cm.for_llm() == strip_private(patch_dangling_tool_calls(cm.messages))
        if turn % 2:
            cm.undo()
            assert cm.for_llm() == strip_private(patch_dangling_tool_calls(cm.messages))
    kept = cm.messages[:9]
    cm.restore(kept)
    assert cm.for_llm() == strip_private(patch_dangling_tool_calls(cm.messages))
    cm.add({"role": "assistant", "content": "after restore"})
    assert cm.for_llm() == strip_private(patch_dangling_tool_calls(cm.messages))
