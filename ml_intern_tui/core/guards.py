"""Guards that keep a turn on the rails: repairs and corrective prompts, no I/O.

The loop calls these before each LLM call (dangling tool calls, repetition, malformed
arguments) and after each response (text-only answer with an unfinished plan, output cut
by the token limit). Every prompt the loop injects starts with a ``[SYSTEM: ...]`` tag so
the model, the journal and a reader can tell it apart from what the user typed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ml_intern_tui.core.protocol import PlanItem

Message = dict[str, Any]

REPETITION_TAG = "[SYSTEM: REPETITION GUARD]"
MALFORMED_TAG = "[SYSTEM: MALFORMED TOOL CALLS]"
CONTINUATION_TAG = "[SYSTEM: CONTINUATION GUARD]"
TRUNCATION_TAG = "[SYSTEM: OUTPUT TRUNCATED]"
NOT_COMPLETED_TAG = "[SYSTEM: TOOL CALL NOT COMPLETED]"

MALFORMED_PREFIX = "[MALFORMED TOOL ARGUMENTS] tool="
"""Start of the tool result the loop writes for a call whose arguments were not valid
JSON; the tool name follows up to the first colon (see ``malformed_result``)."""

LOOKBACK = 30
"""Messages at the end of the history the repetition detector looks at."""


# ------------------------------------------------------------- dangling tool calls


def _call_ids(message: Message) -> list[str]:
    return [str(call.get("id", "")) for call in message.get("tool_calls") or []]


def _call_names(message: Message) -> dict[str, str]:
    names: dict[str, str] = {}
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        names[str(call.get("id", ""))] = str(function.get("name", "unknown"))
    return names


def not_completed_result(call_id: str, tool: str) -> Message:
    """The synthetic tool message that stands in for a result that never arrived."""
    return {
        "role": "tool",
        "tool_call_id": call_id,
        "name": tool,
        "content": (
            f"{NOT_COMPLETED_TAG} The call to `{tool}` was not completed: it was "
            "interrupted, abandoned or failed before returning a result. Its effect is "
            "unknown; check the current state before repeating it."
        ),
    }


def patch_dangling_tool_calls(messages: Sequence[Message]) -> list[Message]:
    """Return a copy of ``messages`` the chat APIs accept.

    Every tool call of an assistant message is followed by exactly one tool result:
    results that arrived later (before the next assistant message) are moved up to the
    assistant's block, missing ones get a synthetic "not completed" result placed after
    the existing ones, and tool messages that answer no call (or answer one twice) are
    dropped. Unchanged messages are the same dict objects as in the input.
    """
    out: list[Message] = []
    i, n = 0, len(messages)
    while i < n:
        message = messages[i]
        if message.get("role") == "tool":
            i += 1  # a result not claimed by the assistant before it: orphaned
            continue
        out.append(message)
        i += 1
        if message.get("role") != "assistant" or not message.get("tool_calls"):
            continue
        wanted = _call_ids(message)
        # The span this assistant message owns: everything up to the next assistant.
        end = i
        while end < n and messages[end].get("role") != "assistant":
            end += 1
        results: list[Message] = []
        others: list[Message] = []
        seen: set[str] = set()
        for follower in messages[i:end]:
            if follower.get("role") != "tool":
                others.append(follower)
                continue
            call_id = str(follower.get("tool_call_id", ""))
            if call_id in wanted and call_id not in seen:
                seen.add(call_id)
                results.append(follower)
        names = _call_names(message)
        stubs = [not_completed_result(cid, names[cid]) for cid in wanted if cid not in seen]
        out.extend(results)
        out.extend(stubs)
        out.extend(others)
        i = end
    return out


class DanglingPatcher:
    """:func:`patch_dangling_tool_calls` of a history that grows by appends, redone only
    from the last assistant message on.

    An assistant message's span ends at the next assistant message, so the patched
    history is the patched part before the last assistant message (final: nothing
    appended later can change it) followed by the patched rest. That first part is kept;
    a call looks only at the messages since. Whoever removes or replaces messages calls
    :meth:`reset`.
    """

    def __init__(self) -> None:
        self._head: list[Message] = []
        """The patched messages before ``_upto`` (an assistant message, or 0)."""
        self._upto = 0
        self._last: Message | None = None
        """``messages[_upto - 1]`` when the head was made (a cheap check of the prefix)."""

    def reset(self) -> None:
        self._head, self._upto, self._last = [], 0, None

    def patch(self, messages: Sequence[Message]) -> list[Message]:
        """The same list as ``patch_dangling_tool_calls(messages)`` (a new list)."""
        upto = self._upto
        if upto > len(messages) or (upto and messages[upto - 1] is not self._last):
            self.reset()
            upto = 0
        boundary = next(
            (
                i
                for i in range(len(messages) - 1, upto, -1)
                if messages[i].get("role") == "assistant"
            ),
            upto,
        )
        if boundary > upto:
            self._head.extend(patch_dangling_tool_calls(messages[upto:boundary]))
            self._upto, self._last = boundary, messages[boundary - 1]
        return self._head + patch_dangling_tool_calls(messages[self._upto :])


# ------------------------------------------------------------- repetition guard


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:12]


def _args_hash(arguments: Any) -> str:
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments)
        except ValueError:
            return _digest(arguments)
    else:
        parsed = arguments
    try:
        return _digest(json.dumps(parsed, sort_keys=True, separators=(",", ":")))
    except (TypeError, ValueError):
        return _digest(repr(parsed))


@dataclass(frozen=True)
class _Call:
    signature: tuple[str, str, str | None]
    """(tool name, arguments hash, result hash or None when no result yet)."""
    position: int
    """Index of the assistant message in the checked history."""

    @property
    def name(self) -> str:
        return self.signature[0]


@dataclass
class LoopFinding:
    """A repetition the model should break out of."""

    kind: Literal["repeat", "cycle"]
    detail: str
    """One line for the UI's ``loop_warning``."""
    prompt: str
    """The corrective message the loop injects (starts with ``REPETITION_TAG``)."""


def _signatures(messages: Sequence[Message], start: int) -> list[_Call]:
    calls: list[_Call] = []
    for index in range(start, len(messages)):
        message = messages[index]
        if message.get("role") != "assistant" or not message.get("tool_calls"):
            continue
        results: dict[str, str] = {}
        for follower in messages[index + 1 :]:
            if follower.get("role") in ("assistant", "user"):
                break
            if follower.get("role") == "tool":
                key = str(follower.get("tool_call_id", ""))
                results.setdefault(key, _digest(str(follower.get("content") or "")))
        for call in message["tool_calls"]:
            function = call.get("function") or {}
            name = str(function.get("name", "unknown"))
            signature = (
                name,
                _args_hash(function.get("arguments", "")),
                results.get(call.get("id", "")),
            )
            calls.append(_Call(signature, index))
    return calls


class DoomLoopDetector:
    """Spots a model calling the same tools with the same results over and over.

    A call's signature is its tool name, its arguments (JSON-normalised) and its result.
    Including the result is the polling exception: asking for a job's status again is
    not a loop while the status changes. Two rules over the last ``LOOKBACK`` messages:
    at least ``repeat_min`` identical signatures in a row, or a cycle of 2..5 signatures
    repeated at least twice at the end.

    A finding is reported once. It fires again only when the repetition continues with
    calls made after the last report (after the last repetition guard message in the
    history, or after the history length at the last report when nothing was injected).
    """

    def __init__(self, *, lookback: int = LOOKBACK, repeat_min: int = 3) -> None:
        self.lookback = lookback
        self.repeat_min = repeat_min
        self._reported_len = 0

    def reset(self) -> None:
        """Forget earlier reports (a new session or a rewritten history)."""
        self._reported_len = 0

    def check(self, messages: Sequence[Message]) -> LoopFinding | None:
        if len(messages) < self._reported_len:
            self._reported_len = 0  # history shrank (undo, compaction): start over
        start = max(0, len(messages) - self.lookback)
        boundary = self._reported_len
        for index in range(len(messages) - 1, start - 1, -1):
            message = messages[index]
            if message.get("role") == "user" and str(message.get("content") or "").startswith(
                REPETITION_TAG
            ):
                boundary = max(boundary, index)
                break
        calls = _signatures(messages, start)
        finding = self._repeat(calls, boundary) or self._cycle(calls, boundary)
        if finding is not None:
            self._reported_len = len(messages)
        return finding

    def _repeat(self, calls: list[_Call], boundary: int) -> LoopFinding | None:
        run_start = 0
        for i in range(1, len(calls) + 1):
            if i < len(calls) and calls[i].signature == calls[run_start].signature:
                continue
            run = calls[run_start:i]
            if len(run) >= self.repeat_min and run[-1].position >= boundary:
                name = run[0].name
                return LoopFinding(
                    kind="repeat",
                    detail=f"{name} called {len(run)} times in a row with the same arguments and result",
                    prompt=(
                        f"{REPETITION_TAG} You have called `{name}` {len(run)} times in a "
                        "row with the same arguments and got the same result each time. "
                        "Repeating it will not change the outcome. Stop and change your "
                        "approach: use a different tool, change the arguments in a "
                        "meaningful way, or explain to the user what is blocking you and "
                        "ask how to proceed."
                    ),
                )
            run_start = i
        return None

    def _cycle(self, calls: list[_Call], boundary: int) -> LoopFinding | None:
        if not calls or calls[-1].position < boundary:
            return None
        sigs = [call.signature for call in calls]
        for length in range(2, 6):
            pattern = sigs[-length:]
            if len(sigs) < 2 * length or len(set(pattern)) == 1:
                continue
            reps, end = 0, len(sigs)
            while end - length >= 0 and sigs[end - length : end] == pattern:
                reps += 1
                end -= length
            if reps >= 2:
                cycle = " → ".join(sig[0] for sig in pattern)
                return LoopFinding(
                    kind="cycle",
                    detail=f"cycling through [{cycle}] {reps} times with the same results",
                    prompt=(
                        f"{REPETITION_TAG} You are going round in a cycle: [{cycle}] has "
                        f"now run {reps} times with the same arguments and the same "
                        "results. Another round will not help. Step back and take a "
                        "fundamentally different approach: break the problem down "
                        "differently, use other tools, or ask the user for guidance."
                    ),
                )
        return None


# ------------------------------------------------------------- malformed arguments


def malformed_result(tool: str, error: str) -> str:
    """The tool result the loop records for a call whose arguments were not valid JSON."""
    return (
        f"{MALFORMED_PREFIX}{tool}: the arguments were not valid JSON ({error}). The call "
        "was not executed. Send valid JSON; if the payload is large, send it in smaller "
        "pieces."
    )


def malformed_tool(content: str | None) -> str | None:
    """The tool name of a ``malformed_result`` text, or ``None`` for any other text."""
    if not content or not content.startswith(MALFORMED_PREFIX):
        return None
    name = content[len(MALFORMED_PREFIX) :].split(":", 1)[0].strip()
    return name or None


def malformed_repetition(messages: Sequence[Message], *, repeats: int = 2) -> str | None:
    """A corrective prompt when the last ``repeats`` tool results are malformed-argument
    errors for the same tool; ``None`` otherwise.

    Reported once: a malformed guard message after those results silences it until new
    malformed results arrive.
    """
    tools: list[str | None] = []
    for message in reversed(messages):
        role = message.get("role")
        if role == "user" and str(message.get("content") or "").startswith(MALFORMED_TAG):
            return None
        if role != "tool":
            continue
        tools.append(malformed_tool(str(message.get("content") or "")))
        if len(tools) == repeats:
            break
    if len(tools) < repeats or tools[0] is None or len(set(tools)) != 1:
        return None
    tool = tools[0]
    return (
        f"{MALFORMED_TAG} Your last {repeats} calls to `{tool}` had arguments that were "
        "not valid JSON, so none of them ran. Do not send the same call shape again. "
        "Produce smaller, valid JSON arguments: for large file contents prefer a bash "
        "heredoc (cat > file <<'EOF' ... EOF), or make several smaller edits instead of "
        "one big one."
    )


# ------------------------------------------------------------- continuation guard


def continuation_prompt(unfinished: Sequence[PlanItem], *, shown: int = 4) -> str:
    """The nudge for a text-only answer while plan items are still open."""
    lines = [f"{item.id}. {item.content} [{item.status}]" for item in unfinished[:shown]]
    if len(unfinished) > shown:
        lines.append(f"... and {len(unfinished) - shown} more")
    listing = "\n".join(f"- {line}" for line in lines)
    return (
        f"{CONTINUATION_TAG} You answered without a tool call, but your plan still has "
        f"unfinished items:\n{listing}\n\nDo not hand control back yet. Continue with the "
        "next item and make at least one tool call. If something really blocks you, "
        "check the current state with a tool to confirm it, then explain the blocker "
        "and what you need from the user."
    )


class ContinuationGuard:
    """Decides whether a text-only answer with an unfinished plan gets another nudge.

    At most ``limit`` nudges in a row; a response with tool calls resets the count, and
    so does giving up (the turn then ends normally).
    """

    def __init__(self, limit: int = 2) -> None:
        self.limit = limit
        self.count = 0

    def reset(self) -> None:
        self.count = 0

    def should_nudge(self, has_tool_calls: bool, unfinished: Sequence[object]) -> bool:
        if has_tool_calls or not unfinished:
            self.count = 0
            return False
        if self.count >= self.limit:
            self.count = 0
            return False
        self.count += 1
        return True


# ------------------------------------------------------------- truncated output


def truncated_output_prompt(dropped_tools: Sequence[str]) -> str:
    """The notice for a response cut by the max-token limit whose tool calls were lost."""
    names = ", ".join(f"`{name}`" for name in dropped_tools) or "your tool calls"
    return (
        f"{TRUNCATION_TAG} Your last response hit the output token limit before it was "
        f"complete, so these tool calls were dropped and did not run: {names}. Do not "
        "resend the same large payload, it will be cut again. Write large files in "
        "smaller pieces (several writes or edits, or a bash heredoc per part) and keep "
        "each tool call's arguments short."
    )
