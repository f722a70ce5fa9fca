"""The history's token count is a running sum: flat per call, and always equal to a recount."""

from __future__ import annotations

from typing import Any

from ml_intern_tui.core.context import ContextManager
from ml_intern_tui.core.token_shares import TokenShares

Message = dict[str, Any]


def count(messages: list[Message]) -> int:
    """Three tokens per request, plus one per character of content."""
    return 3 + sum(len(str(m.get("content") or "")) for m in messages)


class Counting:
    """The counter above, remembering how many messages it was shown."""

    def __init__(self) -> None:
        self.shown = 0

    def __call__(self, messages: list[Message]) -> int:
        self.shown += len(messages)
        return count(messages)


def recount(cm: ContextManager) -> int:
    """What a fresh count of the whole history gives (private keys stripped)."""
    plain = [{k: v for k, v in m.items() if not k.startswith("_")} for m in cm.messages]
    return count(plain)


def test_only_new_messages_are_counted_after_each_call() -> None:
    counter = Counting()
    cm = ContextManager("SYS", limit=10**9, counter=counter)
    cm.start_turn("go")
    assert cm.raw_tokens() == recount(cm)
    for i in range(200):
        cm.add({"role": "assistant", "content": f"call {i}"})
        cm.add({"role": "tool", "tool_call_id": f"c{i}", "content": "x" * (i % 17)})
        before = counter.shown
        assert cm.raw_tokens() == recount(cm)
        assert counter.shown - before == 2  # the two new messages, not the history


def test_the_sum_follows_undo_compaction_like_rewrites_and_a_new_system_prompt() -> None:
    cm = ContextManager("SYS", limit=10**9, counter=count)
    cm.start_turn("first")
    cm.add({"role": "assistant", "content": "one"})
    assert cm.raw_tokens() == recount(cm)
    cm.start_turn("second turn")
    cm.add({"role": "assistant", "content": "two two"})
    assert cm.raw_tokens() == recount(cm)
    assert cm.undo()[0] == "turn"
    assert cm.raw_tokens() == recount(cm)
    cm.add({"role": "assistant", "content": "after undo"})
    assert cm.raw_tokens() == recount(cm)
    cm.replace_system_prompt("a much longer system prompt")
    assert cm.raw_tokens() == recount(cm)
    assert cm.drop_thinking() == 0
    cm.add({"role": "assistant", "content": "x", "reasoning_content": "hmm"})
    assert cm.raw_tokens() == recount(cm)
    assert cm.drop_thinking() == 1
    cm.restore([{"role": "user", "content": "resumed", "_origin": "user"}])
    assert cm.raw_tokens() == recount(cm)
    assert len(cm._shares) == len(cm.messages)


def test_a_different_list_of_the_same_length_is_summed_anew() -> None:
    shares = TokenShares(count)
    first = [{"role": "user", "content": "aaaa"}, {"role": "assistant", "content": "b"}]
    assert shares.history(first) == count(first)
    other = [first[0], {"role": "assistant", "content": "a replaced, longer answer"}]
    assert shares.history(other) == count(other)
    assert shares.history(other[:1]) == count(other[:1])
    fresh = {"role": "user", "content": "not counted yet"}
    assert shares.unsummed([*other, fresh]) == [fresh]


class Watched(list[Message]):
    """A history that counts how many of its messages were looked at."""

    looked = 0

    def __getitem__(self, index: Any) -> Any:
        Watched.looked += 1
        return super().__getitem__(index)


def test_a_call_looks_only_at_the_messages_appended_since_the_last() -> None:
    shares = TokenShares(count)
    history = Watched({"role": "user", "content": f"m{i}"} for i in range(500))
    assert shares.history(history) == count(list(history))
    history.append({"role": "assistant", "content": "new"})
    Watched.looked = 0
    assert shares.history(history) == count(list(history))
    assert Watched.looked <= 3  # the prefix check and the new message, not 501
