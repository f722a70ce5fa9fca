"""The conversation history: token accounting, compaction and undo.

Messages are OpenAI-format dicts. Keys starting with ``_`` are our bookkeeping (``_origin``
says where a message came from) and never reach the model (``for_llm`` strips them).
Every change is reported to ``on_change`` as a journal record, and ``rebuild`` replays
those records, so a session can be resumed exactly as it was. Token counts are ours
(plus the tool schemas, ``overhead``) mapped onto the server's scale by ``calibration``.

Counting is per message: a request's count is the count of an empty request plus each
message's own share (litellm's counter adds up that way), and a message's share is
counted once and kept while it is in the history (messages are never changed in place).
After a model call only the new messages are counted and added to a running sum
(``token_shares.py``), so the cost does not grow with the session; a big new message is
counted in a worker thread (``count_in_thread``). ``for_llm`` likewise re-patches only
the history since the last assistant message (``guards.DanglingPatcher``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ml_intern_tui.core.calibration import TokenCalibration
from ml_intern_tui.core.fitting import Cut, shrink
from ml_intern_tui.core.guards import DanglingPatcher, patch_dangling_tool_calls
from ml_intern_tui.core.token_shares import TokenShares

Message = dict[str, Any]
TokenCounter = Callable[[list[dict[str, Any]]], int]
"""Counts the tokens of a list of (stripped) messages for the current model."""
Summarizer = Callable[[list[dict[str, Any]], str | None], Awaitable[str]]
"""Summarises messages, optionally focused on a hint from the user, into text."""
Record = dict[str, Any]

SUMMARY_PREFIX = "[Summary of the earlier conversation, condensed to save context]"
CUT_NOTICE = "[cut for compaction: {tokens} tokens; the full text is in the session journal]"
DROPPED_NOTICE = (
    "[{count} earlier messages were removed to fit the model's context window (no summary "
    "could be written: {why}); the full text is in the session journal]"
)
INLINE_COUNT_CHARS = 32_000
"""New text up to this size is counted on the event loop (a thread hop costs more)."""
FIT_PASSES = 3
"""Rounds of cutting before compaction gives up (each recounts what the cuts left)."""
NOTE_KINDS = frozenset({"window", "token_calibration"})
"""Journal records that describe the model's window and token scale, not the history."""


class CompactionError(Exception):
    """Compaction could not bring the context under the threshold (or failed outright).

    The history is left usable: unchanged, or compacted as far as it got (``after``).
    """

    def __init__(self, message: str, *, before: int = 0, after: int = 0) -> None:
        super().__init__(message)
        self.before = before
        self.after = after


@dataclass
class _Checkpoint:
    kind: Literal["turn", "compaction"]
    index: int = 0
    """For a turn: position of its real user message (undo truncates to it)."""
    text: str = ""
    previous: list[Message] = field(default_factory=list)
    """For a compaction: the history before it."""
    compacted_len: int = 0
    """For a compaction: length of the compacted history (later messages survive undo)."""


def strip_private(messages: Iterable[Message]) -> list[Message]:
    """Copies of ``messages`` without the ``_`` bookkeeping keys."""
    return [{k: v for k, v in m.items() if not k.startswith("_")} for m in messages]


def is_real_user(message: Message) -> bool:
    """Whether this is something the user typed (also after it became a placeholder)."""
    return message.get("role") == "user" and "user" in (
        message.get("_origin"),
        message.get("_replaced_origin"),
    )


def _size(message: Message) -> int:
    """About how much text a message holds (to choose where to count it)."""
    size = len(str(message.get("content") or ""))
    for call in message.get("tool_calls") or ():
        function = call.get("function") if isinstance(call, dict) else None
        size += len(str(function.get("arguments") or "")) if isinstance(function, dict) else 0
    return size


def _dropped(count: int, why: BaseException) -> Message:
    reason = " ".join(str(why).split())[:160] or type(why).__name__
    content = DROPPED_NOTICE.format(count=count, why=reason)
    return {"role": "assistant", "content": content, "_origin": "summary"}


def rebuild(records: Iterable[Record]) -> list[Message]:
    """Replay ``on_change`` journal records into the message list they describe."""
    messages: list[Message] = []
    for record in records:
        kind = record.get("kind")
        if kind == "message":
            messages.append(dict(record["message"]))
        elif kind == "truncate":
            del messages[int(record["length"]) :]
        elif kind == "replace":
            messages = [dict(m) for m in record["messages"]]
        elif kind == "system":
            system = {"role": "system", "content": record["content"]}
            if messages and messages[0].get("role") == "system":
                messages[0] = system
            else:
                messages.insert(0, system)
    return messages


class ContextManager:
    """The message history of one session, system prompt first."""

    def __init__(
        self,
        system_prompt: str,
        *,
        limit: int,
        counter: TokenCounter,
        threshold_ratio: float = 0.9,
        keep_recent: int = 5,
        per_message_cap: int = 50_000,
        on_change: Callable[[Record], None] | None = None,
        overhead: Callable[[], int] | None = None,
    ) -> None:
        self._messages: list[Message] = []
        self._overhead = overhead
        """Our count of what every request carries besides the messages (tool schemas)."""
        self.calibration = TokenCalibration()
        """Maps our counts onto the server's (learned from the usage it reports)."""
        self.cuts: list[Cut] = []
        """Messages the last compaction cut to fit (the turn tells the user)."""
        self.model = ""
        """The model the window and calibration notes belong to (journaled with them)."""
        self.threshold_ratio = threshold_ratio
        self.keep_recent = keep_recent
        self.per_message_cap = per_message_cap
        self.on_change = on_change
        """Receives every journal record; may be attached after construction."""
        self._limit = limit
        self._threshold = int(limit * threshold_ratio)
        self.base_limit = limit
        """The window before any server said otherwise (config, litellm's model map)."""
        self._checkpoints: list[_Checkpoint] = []
        self._shares = TokenShares(counter)
        """Each message's share of a request, counted once; their running sum."""
        self._counting = asyncio.Lock()
        self._patcher = DanglingPatcher()
        """``for_llm``'s patched history, redone only from the last assistant message."""
        self._tokens: int | None = None
        self._version = 0
        """Bumped on every change, so a count made in a thread knows if it is still true."""
        self._rewrites = 0
        """Bumped when messages are removed or replaced (not on append)."""
        self._append({"role": "system", "content": system_prompt})

    # ------------------------------------------------------------ reading

    @property
    def messages(self) -> list[Message]:
        """The history (a new list; do not mutate the dicts)."""
        return list(self._messages)

    @property
    def limit(self) -> int:
        """The model's context window in tokens; setting it recomputes the threshold."""
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        self._limit = value
        self._threshold = int(value * self.threshold_ratio)

    @property
    def threshold(self) -> int:
        """Usage above which ``compact`` acts without ``force``."""
        return self._threshold

    @threshold.setter
    def threshold(self, value: int) -> None:
        self._threshold = value

    def tokens(self) -> int:
        """Tokens of a request with the whole history, on the server's scale when known."""
        return self.calibration.estimate(self.raw_tokens())

    def raw_tokens(self) -> int:
        """Our own count of a request with the whole history (messages cached until they
        change), tool schemas included."""
        if self._tokens is None:
            self._tokens = self._shares.history(self._messages)
        return self._tokens + self.overhead()

    def overhead(self) -> int:
        """Our count of the tool schemas every request carries."""
        if self._overhead is None:
            return 0
        try:
            return max(0, int(self._overhead()))
        except Exception:  # a tool whose schema cannot be counted must not stop the turn
            return 0

    def observe(self, sent_raw: int, server_prompt_tokens: int) -> bool:
        """The server counted ``server_prompt_tokens`` for a request we counted as
        ``sent_raw``: recalibrate (journaled). False when the pair was not usable."""
        if not self.calibration.observe(sent_raw, server_prompt_tokens):
            return False
        self.note({"kind": "token_calibration", **self.calibration.state()})
        return True

    def note(self, record: Record) -> None:
        """Journal a record about the window or token scale (not a history change)."""
        if self.on_change is not None:
            self.on_change({**record, "model": self.model} if self.model else record)

    async def count_in_thread(self) -> None:
        """Count the messages not counted yet; in a worker thread when they are big
        (a long tool output, a resumed history), so the event loop stays free.

        The total is kept only if nothing changed meanwhile (then ``tokens()`` counts).
        """
        # One count at a time: a second caller (the turn starting while a resumed history
        # is counted in the background) waits for the first, then finds it all counted.
        async with self._counting:
            if self._tokens is not None:
                return
            version = self._version
            messages = list(self._messages)
            new = self._shares.unsummed(messages)
            if sum(_size(m) for m in new) > INLINE_COUNT_CHARS:
                await asyncio.to_thread(self._count, new)
            if version == self._version:
                self._tokens = self._shares.history(messages)

    def usage(self) -> tuple[int, int, int]:
        """(used, limit, threshold) for the ``context_usage`` event."""
        return self.tokens(), self._limit, self.threshold

    def needs_compaction(self) -> bool:
        return self.tokens() > self.threshold

    def newest_user_index(self) -> int | None:
        """Position of the newest message the user typed, if any."""
        return next(
            (i for i in range(len(self._messages) - 1, 0, -1) if is_real_user(self._messages[i])),
            None,
        )

    def for_llm(self) -> list[Message]:
        """What the model gets: bookkeeping stripped, dangling tool calls answered."""
        return strip_private(self._patcher.patch(self._messages))

    def last_user_text(self) -> str | None:
        for message in reversed(self._messages):
            if is_real_user(message):
                return str(message.get("content") or "")
        return None

    def turn_count(self) -> int:
        """Turns started and not undone (including those compacted into a summary)."""
        return sum(1 for cp in self._checkpoints if cp.kind == "turn")

    # ------------------------------------------------------------ writing

    def add(self, message: Message) -> None:
        """Append a message as is (assistant replies, tool results)."""
        if "role" not in message:
            raise ValueError("a message needs a 'role'")
        self._append(dict(message))

    def start_turn(self, text: str) -> None:
        """Append what the user typed and remember where the turn began (for undo)."""
        self._checkpoints.append(_Checkpoint("turn", index=len(self._messages), text=text))
        self._append({"role": "user", "content": text, "_origin": "user"})

    def inject(self, text: str, origin: str = "guard") -> None:
        """Append a user-role message written by the agent itself (guards, notices).

        Injected messages never start a turn, so undo goes past them.
        """
        if origin == "user":
            raise ValueError("injected messages cannot have origin 'user'; use start_turn")
        self._append({"role": "user", "content": text, "_origin": origin})

    def replace_system_prompt(self, text: str) -> None:
        self._messages[0] = {"role": "system", "content": text}
        self._changed({"kind": "system", "content": text})

    def drop_thinking(self) -> int:
        """Remove the thinking kept on messages (a provider refused it); journaled.

        Returns how many messages lost theirs.
        """
        keys = ("thinking_blocks", "reasoning_content")
        changed = sum(1 for m in self._messages if any(k in m for k in keys))
        if changed:
            self._replace([{k: v for k, v in m.items() if k not in keys} for m in self._messages])
        return changed

    def restore(self, messages: Sequence[Message]) -> None:
        """Load a resumed history; each real user message becomes an undoable turn."""
        restored = [dict(m) for m in messages]
        if not restored or restored[0].get("role") != "system":
            restored.insert(0, dict(self._messages[0]))
        self._checkpoints = [
            _Checkpoint("turn", index=i, text=str(m.get("content") or ""))
            for i, m in enumerate(restored)
            if is_real_user(m)
        ]
        self._replace(restored)

    def undo(self) -> tuple[Literal["turn", "compaction", "nothing"], str]:
        """Take back the latest turn or compaction.

        A turn is cut back to just before its real user message (guard messages inside
        it go too) and its text is returned so the user can edit and resend it.
        """
        if not self._checkpoints:
            return "nothing", ""
        checkpoint = self._checkpoints.pop()
        if checkpoint.kind == "compaction":
            # Messages added after the compaction (the rest of that turn) are kept.
            later = self._messages[checkpoint.compacted_len :]
            self._replace([*checkpoint.previous, *later])
            return "compaction", ""
        length = max(1, min(checkpoint.index, len(self._messages)))
        del self._messages[length:]
        self._rewrites += 1
        self._changed({"kind": "truncate", "length": length})
        return "turn", checkpoint.text

    def rollback_turn(self) -> str | None:
        """Take back the current turn and the compactions made during it.

        The history is left as it was before the turn (a turn that cannot fit must not
        stay in it: every later call, and every resume, would fail the same way). Returns
        what the user typed, or ``None`` when there is no turn to take back.
        """
        if not any(cp.kind == "turn" for cp in self._checkpoints):
            return None
        while self._checkpoints:
            what, text = self.undo()
            if what == "turn":
                return text
        return None  # pragma: no cover - a turn checkpoint was found above

    # ------------------------------------------------------------ compaction

    async def compact(
        self,
        summarize: Summarizer,
        *,
        focus: str | None = None,
        force: bool = False,
        fit: bool = False,
        target: int | None = None,
    ) -> tuple[int, int]:
        """Summarise the middle of the history; return tokens (before, after).

        Keeps the system prompt, the first real user message and a recent tail that never
        starts inside a tool-call block; messages over ``per_message_cap`` there become
        placeholders (not the newest user message). When that is not enough to get under
        ``target`` (the threshold by default) the biggest messages are cut, the newest
        user message last (``cuts`` lists them). With ``fit`` (an overflow: the request
        must shrink whatever it takes) a summary that cannot be written drops the middle
        instead of failing. Without ``force`` it only acts above the threshold. Raises
        ``CompactionError`` when the summary fails (history unchanged) or the result is
        still over the threshold (kept if it helped, and undoable).
        """
        self.cuts = []
        before = self.tokens()
        if not force and before <= self.threshold:
            return before, before
        goal = min(target, self.threshold) if target else self.threshold
        rewrites = self._rewrites
        head_end, tail_start = self._split()
        middle = self._messages[head_end:tail_start]
        summary: list[Message] = []
        if middle:
            try:
                summary = await self._summarise(summarize, middle, focus, before)
            except CompactionError as exc:
                if not fit:
                    raise
                summary = [_dropped(len(middle), exc.__cause__ or exc)]
        if self._rewrites != rewrites:
            raise CompactionError(
                "compaction abandoned: the history was rewritten (undo or resume) while the "
                "summary was being written; run /compact again",
                before=before,
                after=self.tokens(),
            )
        # Messages appended while the summary was written belong to the tail.
        before = self.tokens()
        newest = self.newest_user_index()
        kept = [*range(1, head_end), *range(tail_start, len(self._messages))]
        capped = {
            i: self._messages[i] if i == newest else self._capped(self._messages[i]) for i in kept
        }
        head = [capped[i] for i in range(1, head_end)]
        tail = [capped[i] for i in range(tail_start, len(self._messages))]
        compacted = [self._messages[0], *head, *summary, *tail]
        spare = None
        if newest is not None and newest in capped:
            spare = newest if newest < head_end else newest - tail_start + head_end + len(summary)
        compacted, cuts, after = self._fit(compacted, goal, spare)
        changed = bool(middle or cuts) or any(
            m.get("_origin") == "placeholder" for m in capped.values()
        )
        after = after if changed else before
        if changed and after < before:
            previous = list(self._messages)
            self._replace(compacted)
            self.cuts = cuts
            self._checkpoints.append(
                _Checkpoint("compaction", previous=previous, compacted_len=len(compacted))
            )
        else:
            after = before
        if after > self.threshold:
            raise CompactionError(self._still_over(after), before=before, after=after)
        return before, after

    def _fit(
        self, messages: list[Message], goal: int, spare: int | None
    ) -> tuple[list[Message], list[Cut], int]:
        """Cut the biggest messages until the request is under ``goal`` (server tokens).

        Returns the messages, what was cut, and the size of the request they make.
        """
        cuts: dict[int, Cut] = {}
        total = self._total(messages)
        for _ in range(FIT_PASSES):
            if total <= goal:
                break
            # The cut is planned in our tokens; a little extra covers the rounding.
            ours = self.calibration.unscale(total - goal) + max(16, goal // 100)
            messages, made = shrink(messages, self._count, ours, spare)
            if not made:
                break
            for cut in made:
                first = cuts.get(cut.index)
                cuts[cut.index] = cut if first is None else replace(cut, before=first.before)
            total = self._total(messages)
        return messages, [cuts[i] for i in sorted(cuts)], total

    def _still_over(self, after: int) -> str:
        fixed = self._total([self._messages[0]])
        if fixed > self.threshold:
            return (
                f"the system prompt and tool definitions alone take {fixed:,} tokens, more "
                f"than this model's context window allows ({self._limit:,} tokens, compacting "
                f"at {self.threshold:,}): switch to a model with a larger window, or start the "
                "local server with a larger context size"
            )
        return (
            f"context still over the threshold after compaction ({after:,} > "
            f"{self.threshold:,} tokens); /undo recent turns, start a /new session or "
            "switch to a model with a larger context window"
        )

    async def _summarise(
        self, summarize: Summarizer, middle: list[Message], focus: str | None, before: int
    ) -> list[Message]:
        """The summary message for ``middle``; ``CompactionError`` if none can be had."""
        try:
            text = await summarize(strip_private(patch_dangling_tool_calls(middle)), focus)
        except Exception as exc:
            raise CompactionError(
                f"compaction failed, history unchanged: the summary call raised "
                f"{type(exc).__name__}: {exc}; try /compact again or /undo the last turn",
                before=before,
                after=before,
            ) from exc
        if not text.strip():
            raise CompactionError(
                "compaction failed, history unchanged: the summary came back empty; "
                "try /compact again",
                before=before,
                after=before,
            )
        content = f"{SUMMARY_PREFIX}\n\n{text.strip()}"
        return [{"role": "assistant", "content": content, "_origin": "summary"}]

    def _split(self) -> tuple[int, int]:
        """(end of the kept head, start of the kept tail) in the current history."""
        first_user = next((i for i, m in enumerate(self._messages) if is_real_user(m)), None)
        if first_user is None:
            first_user = next(
                (i for i, m in enumerate(self._messages) if m.get("role") == "user"), 0
            )
        head_end = first_user + 1
        n = len(self._messages)
        start = max(n - self.keep_recent, head_end)
        # Never start the tail inside a tool-call block: its results would be orphaned.
        back = start
        while back > head_end and self._starts_inside(back):
            back -= 1
        if self._starts_inside(back):
            # Walked back into the head: move forward instead and summarise the block.
            while self._starts_inside(back):
                back += 1
        return head_end, back

    def _starts_inside(self, index: int) -> bool:
        return index < len(self._messages) and self._messages[index].get("role") == "tool"

    def _capped(self, message: Message) -> Message:
        """``message``, or a placeholder for it when it is over ``per_message_cap``."""
        tokens = self._count([message])
        if tokens <= self.per_message_cap:
            return message
        placeholder: Message = {
            k: v
            for k, v in message.items()
            if k in ("role", "tool_call_id", "tool_calls", "name") or k.startswith("_")
        }
        placeholder["content"] = CUT_NOTICE.format(tokens=tokens)
        placeholder["_replaced_origin"] = message.get("_origin")
        placeholder["_origin"] = "placeholder"
        if placeholder.get("tool_calls") and self._count([placeholder]) > self.per_message_cap:
            # The bulk is in the call arguments (a huge write): cut those too.
            note = json.dumps({"note": CUT_NOTICE.format(tokens=tokens)})
            placeholder["tool_calls"] = [
                {**call, "function": {**call.get("function", {}), "arguments": note}}
                for call in placeholder["tool_calls"]
            ]
        return placeholder

    # ------------------------------------------------------------ internals

    def _count(self, messages: Sequence[Message]) -> int:
        """Our count of a request with ``messages`` (each message counted once, ever)."""
        return self._shares.count(messages)

    def _total(self, messages: Sequence[Message]) -> int:
        """A request with these messages, on the server's scale when known."""
        return self.calibration.estimate(self._count(messages) + self.overhead())

    def _append(self, message: Message) -> None:
        self._messages.append(message)
        self._changed({"kind": "message", "message": dict(message)})

    def _replace(self, messages: list[Message]) -> None:
        self._messages = list(messages)
        self._rewrites += 1
        self._changed({"kind": "replace", "messages": [dict(m) for m in messages]})

    def _changed(self, record: Record) -> None:
        if record["kind"] != "message":  # removed or replaced: the running sum restarts
            self._shares.rewound(self._messages)
            self._patcher.reset()
        self._tokens = None
        self._version += 1
        if self.on_change is not None:
            self.on_change(record)
