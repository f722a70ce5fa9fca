"""Each message's share of a request's token count, counted once, and their running sum.

A request's count is the count of an empty request plus each message's own share
(litellm's counter adds up that way). A share is counted once and kept with its message
(by identity: messages are never changed in place; a replaced message is a new dict and
is counted anew). The history's total is a running sum: after an append only the new
messages are looked at, so a model call's accounting does not grow with the session.
Whoever removes or replaces messages calls :meth:`TokenShares.rewound`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

Message = dict[str, Any]


def _stripped(message: Message) -> Message:
    return {k: v for k, v in message.items() if not k.startswith("_")}


class TokenShares:
    """Token shares of messages by identity, and the sum over a history's prefix."""

    def __init__(self, counter: Callable[[list[Message]], int]) -> None:
        self._counter = counter
        self._shares: dict[int, tuple[Message, int]] = {}
        """Each counted message's share, by ``id`` (the message is kept with it, so an id
        cannot be reused while its entry lives)."""
        self._empty: int | None = None
        self._summed = 0
        """How many leading messages of the history ``_sum`` adds up."""
        self._sum = 0
        self._last: Message | None = None
        """The last message summed (a cheap check that the prefix is still the same)."""

    def __len__(self) -> int:
        return len(self._shares)

    def empty(self) -> int:
        """The counter's figure for a request without messages."""
        if self._empty is None:
            self._empty = int(self._counter([]))
        return self._empty

    def known(self, message: Message) -> bool:
        """Whether ``message``'s share is counted already."""
        entry = self._shares.get(id(message))
        return entry is not None and entry[0] is message

    def share(self, message: Message) -> int:
        """What ``message`` adds to a request's count (cached while it is kept)."""
        entry = self._shares.get(id(message))
        if entry is not None and entry[0] is message:
            return entry[1]
        share = int(self._counter([_stripped(message)])) - self.empty()
        self._shares[id(message)] = (message, share)
        return share

    def count(self, messages: Iterable[Message]) -> int:
        """A request with ``messages`` (any list: a compaction's parts, a placeholder)."""
        return self.empty() + sum(self.share(m) for m in messages)

    def history(self, messages: Sequence[Message]) -> int:
        """A request with the whole history: the running sum, plus the messages appended
        since the last call."""
        empty = self.empty()
        summed = self._summed_of(messages)
        total = self._sum if summed else 0
        for index in range(summed, len(messages)):
            total += self.share(messages[index])
        self._summed, self._sum = len(messages), total
        self._last = messages[-1] if messages else None
        return empty + total

    def unsummed(self, messages: Sequence[Message]) -> list[Message]:
        """The history's messages not counted yet (only those after the summed prefix
        are looked at)."""
        start = self._summed_of(messages)
        return [m for m in messages[start:] if not self.known(m)]

    def _summed_of(self, messages: Sequence[Message]) -> int:
        """How many leading messages of ``messages`` the running sum covers (0 when they
        are not the prefix summed before)."""
        summed = self._summed
        if summed > len(messages) or (summed and messages[summed - 1] is not self._last):
            return 0
        return summed

    def rewound(self, kept: Sequence[Message]) -> None:
        """Messages were removed or replaced: restart the sum, forget the shares of
        messages no longer in ``kept`` (the history now)."""
        self._summed = self._sum = 0
        self._last = None
        alive = {id(m) for m in kept}
        for key in [k for k in self._shares if k not in alive]:
            del self._shares[key]
