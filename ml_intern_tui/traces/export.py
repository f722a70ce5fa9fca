"""A session journal as Claude-Code-style JSONL, the format of the Hub's Agent Trace Viewer.

One JSON object per line. Conversation lines have ``type`` ``user`` / ``assistant`` /
``system``, a ``uuid``, the previous line's ``parentUuid``, ``sessionId``, an ISO
``timestamp``, ``cwd``, ``version``, ``gitBranch``, ``isSidechain`` and ``userType``, and a
``message``: assistant content is a list of ``thinking`` / ``text`` / ``tool_use`` blocks,
and each tool result comes back as a ``user`` line holding one ``tool_result`` block. The
file starts with a ``summary`` line (the session's title).

What the trace shows — what happened, not only what the model last saw:

- Every message in the order it was written, even when a compaction later replaced it
  with a summary or a placeholder. A compaction adds a ``compact_boundary`` system line
  followed by the summary the model got instead. The system prompt is a ``system``
  line at the start (journals since it is recorded have it), and again wherever a
  resume replaced it with a different one.
- The model's reasoning (journaled as one ``reasoning_delta`` event per stretch, or kept
  on the message) becomes ``thinking`` blocks of its assistant line.
- An undone turn stays in the file; the next message hangs off the last message that
  survived the undo (``parentUuid``), so the undone turn is a side branch of the tree,
  as when a Claude Code conversation is rewound.
- Messages the agent injected (guard prompts) are ``user`` lines marked ``isMeta``.
- Sub-agent (``research``) steps are not part of the conversation and are left out.

Timestamps: journal messages carry no time of their own; each line takes the time of the
latest event written before it (or the session's start). Uuids are derived from the
session id and the record's position, so exporting the same journal twice gives the same
bytes. Every line is scrubbed with ``redact`` before it is written or uploaded.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml_intern_tui.core.context import strip_private
from ml_intern_tui.core.journal import load, missing_system_slot
from ml_intern_tui.core.redact import redact

_NAMESPACE = uuid.UUID("6f1e4c1e-5b7a-4f43-9a55-2f3c8e7d9b10")
TITLE_CHARS = 80
REASONING_KEYS = ("reasoning_content", "reasoning", "thinking")
"""Message keys that may hold the model's reasoning (litellm and providers differ)."""


def iso_time(ts: float) -> str:
    """``1700000000.5`` → ``2023-11-14T22:13:20.500Z``."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(content: Any) -> str:
    """Plain text of an OpenAI message ``content`` (string or list of parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
            else:
                parts.append(json.dumps(part, ensure_ascii=False, default=str))
        return "\n".join(parts)
    return json.dumps(content, ensure_ascii=False, default=str)


def _user_content(content: Any) -> str | list[dict[str, Any]]:
    """User content as Claude Code writes it: a string, or text blocks."""
    if isinstance(content, list):
        blocks: list[dict[str, Any]] = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                blocks.append({"type": "text", "text": str(part.get("text") or "")})
            elif isinstance(part, dict) and part.get("type") == "image_url":
                blocks.append({"type": "text", "text": "[image]"})
            else:
                blocks.append({"type": "text", "text": _text([part])})
        return blocks
    return _text(content)


def _reasoning(message: dict[str, Any]) -> list[str]:
    texts: list[str] = []
    for key in REASONING_KEYS:
        value = message.get(key)
        if isinstance(value, str) and value.strip():
            texts.append(value)
    for block in message.get("thinking_blocks") or []:
        if isinstance(block, dict) and isinstance(block.get("thinking"), str):
            texts.append(block["thinking"])
    return list(dict.fromkeys(texts))


def _arguments(raw: Any) -> dict[str, Any]:
    """Tool-call arguments as an object; unparsable text is kept under ``_raw``."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {"_raw": raw}
    return value if isinstance(value, dict) else {"_value": value}


def _usage(message: dict[str, Any]) -> dict[str, int] | None:
    """Token usage in Anthropic's names, when the message recorded any."""
    usage = message.get("usage") or message.get("_usage")
    if not isinstance(usage, dict):
        return None
    prompt = usage.get("input_tokens", usage.get("prompt_tokens"))
    completion = usage.get("output_tokens", usage.get("completion_tokens"))
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return {"input_tokens": prompt, "output_tokens": completion}


def _fingerprint(message: dict[str, Any]) -> str:
    return json.dumps(strip_private([message])[0], sort_keys=True, default=str)


@dataclass
class _Trace:
    """The conversion state while walking one journal's records."""

    session_id: str
    cwd: str
    version: str
    git_branch: str
    model: str
    ts: float
    call_ok: dict[str, bool]
    lines: list[dict[str, Any]] = field(default_factory=list)
    parent: str | None = None
    live: list[str | None] = field(default_factory=list)
    """The uuid of each message of the rebuilt history (``None``: not in the trace)."""
    system_first: bool = False
    """Whether ``live`` starts with the system prompt's slot."""
    seen: dict[str, str] = field(default_factory=dict)
    """Fingerprint of every message already in the trace → the uuid of its line."""
    pending_thinking: list[str] = field(default_factory=list)
    """Reasoning journaled before its assistant message (it streamed ahead of the text)."""
    last_assistant: dict[str, Any] | None = None
    """The assistant line of the latest message record, while its reasoning may follow."""

    def new_uuid(self, key: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"{self.session_id}:{key}"))

    def emit(self, key: str, kind: str, body: dict[str, Any]) -> str:
        """Append one line; ``key`` (the record's position) makes its uuid."""
        line_uuid = self.new_uuid(key)
        line: dict[str, Any] = {
            "type": kind,
            "uuid": line_uuid,
            "parentUuid": self.parent,
            "sessionId": self.session_id,
            "timestamp": iso_time(self.ts),
            "cwd": self.cwd,
            "version": self.version,
            "gitBranch": self.git_branch,
            "isSidechain": False,
            "userType": "external",
        }
        line.update(body)
        self.lines.append(line)
        self.parent = line_uuid
        return line_uuid

    # ------------------------------------------------------------ messages

    def message(self, key: str, message: dict[str, Any]) -> str | None:
        """Add the line(s) of one message; the uuid of its last line (or ``None``)."""
        role = message.get("role")
        if role == "system":
            body = {"content": _text(message.get("content")), "isMeta": True, "level": "info"}
            return self.emit(key, "system", body)
        if role == "user":
            body = {"message": {"role": "user", "content": _user_content(message.get("content"))}}
            if message.get("_origin") not in (None, "user"):
                body["isMeta"] = True
            return self.emit(key, "user", body)
        if role == "tool":
            call_id = str(message.get("tool_call_id") or "")
            block = {
                "type": "tool_result",
                "tool_use_id": call_id,
                "content": _text(message.get("content")),
                "is_error": not self.call_ok.get(call_id, True),
            }
            return self.emit(key, "user", {"message": {"role": "user", "content": [block]}})
        if role == "assistant":
            return self._assistant(key, message)
        return None

    def _assistant(self, key: str, message: dict[str, Any]) -> str | None:
        thoughts = list(dict.fromkeys([*self.pending_thinking, *_reasoning(message)]))
        blocks: list[dict[str, Any]] = [{"type": "thinking", "thinking": t} for t in thoughts]
        text = _text(message.get("content"))
        if text.strip():
            blocks.append({"type": "text", "text": text})
        calls = [c for c in message.get("tool_calls") or [] if isinstance(c, dict)]
        for call in calls:
            function = call.get("function") or {}
            blocks.append(
                {
                    "type": "tool_use",
                    "id": str(call.get("id") or ""),
                    "name": str(function.get("name") or ""),
                    "input": _arguments(function.get("arguments")),
                }
            )
        if not blocks:
            return None  # an empty turn (no text, no calls) says nothing
        self.pending_thinking.clear()
        body: dict[str, Any] = {
            "id": "msg_" + self.new_uuid(f"{key}:message").replace("-", "")[:24],
            "type": "message",
            "role": "assistant",
            "model": str(message.get("_model") or self.model or "unknown"),
            "content": blocks,
            "stop_reason": "tool_use" if calls else "end_turn",
        }
        usage = _usage(message)
        if usage is not None:
            body["usage"] = usage
        return self.emit(key, "assistant", {"message": body})

    # ------------------------------------------------------------ records

    def add(self, index: int, message: dict[str, Any]) -> None:
        line_uuid = self.message(str(index), message)
        self.live.append(line_uuid)
        if len(self.live) == 1:
            self.system_first = message.get("role") == "system"
        self.last_assistant = None
        if line_uuid is not None:
            self.seen[_fingerprint(message)] = line_uuid
            line = self.lines[-1]
            if line["type"] == "assistant" and not _has_thinking(line):
                self.last_assistant = line

    def reasoning(self, text: str) -> None:
        """A stretch of reasoning: it belongs to the assistant message of the same call.

        The journal writes it when the next event comes: before the message when the
        answer text streamed after it, after the message when the call only made tool
        calls. So it goes to the message just written if that has none yet, else to the
        next assistant message.
        """
        if not text.strip():
            return
        if self.last_assistant is not None:
            content = self.last_assistant["message"]["content"]
            content.insert(0, {"type": "thinking", "thinking": text})
            self.last_assistant = None
        else:
            self.pending_thinking.append(text)

    def system(self, index: int, message: dict[str, Any]) -> None:
        """A new system prompt (a resume): shown where it happened, and in the history it
        takes the first slot, as ``rebuild`` does; one already shown is not repeated."""
        self.last_assistant = None
        line_uuid = self.seen.get(_fingerprint(message))
        if line_uuid is None:
            line_uuid = self.message(str(index), message)
            if line_uuid is not None:
                self.seen[_fingerprint(message)] = line_uuid
        if self.system_first:
            self.live[0] = line_uuid
        else:
            self.live.insert(0, line_uuid)
            self.system_first = True

    def truncate(self, length: int) -> None:
        """An undone turn: later lines hang off the last message that survived."""
        del self.live[max(0, length) :]
        self.system_first = self.system_first and bool(self.live)
        self.parent = next((u for u in reversed(self.live) if u is not None), None)

    def replace(
        self, index: int, messages: list[dict[str, Any]], compacted: dict[str, Any]
    ) -> None:
        """A compaction (or its undo): only messages the trace has not shown yet are added."""
        live: list[str | None] = []
        boundary = False
        for part, message in enumerate(messages, start=1):
            known = self.seen.get(_fingerprint(message))
            if known is not None or message.get("_origin") == "placeholder":
                live.append(known)
                continue
            if message.get("_origin") == "summary" and not boundary:
                boundary = True
                meta = {k: v for k, v in compacted.items() if v is not None}
                body = {
                    "subtype": "compact_boundary",
                    "content": "Conversation compacted",
                    "isMeta": False,
                    "level": "info",
                    **({"compactMetadata": meta} if meta else {}),
                }
                self.emit(f"{index}:compacted", "system", body)
            line_uuid = self.message(f"{index}:{part}", message)
            if line_uuid is not None:
                self.seen[_fingerprint(message)] = line_uuid
            live.append(line_uuid)
        self.live = live
        self.system_first = bool(messages) and messages[0].get("role") == "system"


def _has_thinking(line: dict[str, Any]) -> bool:
    content = line.get("message", {}).get("content")
    return isinstance(content, list) and any(b.get("type") == "thinking" for b in content)


def _prescan(records: list[dict[str, Any]]) -> tuple[dict[str, bool], dict[int, dict[str, Any]]]:
    """Tool-call outcomes by call id, and each ``replace`` record's ``compacted`` numbers."""
    call_ok: dict[str, bool] = {}
    compactions: dict[int, dict[str, Any]] = {}
    open_replace: int | None = None
    for index, record in enumerate(records):
        kind = record.get("kind")
        if kind == "replace":
            open_replace = index
        elif kind == "message":
            open_replace = None
        event = record.get("event") if kind == "event" else None
        if not isinstance(event, dict):
            continue
        if event.get("type") == "tool_result" and event.get("call_id"):
            call_ok[str(event["call_id"])] = bool(event.get("ok", True))
        elif event.get("type") == "compacted" and open_replace is not None:
            compactions[open_replace] = {
                "preTokens": event.get("before"),
                "postTokens": event.get("after"),
            }
            open_replace = None
    return call_ok, compactions


def _title(records: Iterable[dict[str, Any]]) -> str:
    for record in records:
        message = record.get("message") if record.get("kind") == "message" else None
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        if message.get("_origin") not in (None, "user"):
            continue
        line = " ".join(_text(message.get("content")).split())
        if line:
            return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"
    return ""


def trace_records(journal_path: Path) -> list[dict[str, Any]]:
    """The trace of one session journal: scrubbed JSON objects, one per future line."""
    loaded = load(Path(journal_path))
    meta = loaded.meta
    records = loaded.records
    call_ok, compactions = _prescan(records)
    created = meta.get("created")
    trace = _Trace(
        session_id=str(meta.get("session_id") or Path(journal_path).stem),
        cwd=str(meta.get("cwd") or ""),
        version=str(meta.get("version") or ""),
        git_branch=str(meta.get("git_branch") or ""),
        model=str(meta.get("model") or ""),
        ts=float(created)
        if isinstance(created, int | float)
        else Path(journal_path).stat().st_mtime,
        call_ok=call_ok,
    )
    if missing_system_slot(records):  # an older journal: undo lengths count the prompt
        trace.live, trace.system_first = [None], True
    for index, record in enumerate(records):
        kind = record.get("kind")
        if isinstance(record.get("ts"), int | float):
            trace.ts = max(trace.ts, float(record["ts"]))
        if kind == "event":
            event = record.get("event")
            if isinstance(event, dict):
                if isinstance(event.get("ts"), int | float):
                    trace.ts = max(trace.ts, float(event["ts"]))
                if event.get("type") == "ready" and event.get("model"):
                    trace.model = str(event["model"])
                elif event.get("type") == "reasoning_delta" and not event.get("parent_id"):
                    trace.reasoning(str(event.get("text") or ""))
        elif kind == "message" and isinstance(record.get("message"), dict):
            trace.add(index, dict(record["message"]))
        elif kind == "truncate":
            trace.last_assistant = None
            trace.truncate(int(record.get("length") or 0))
        elif kind == "replace" and isinstance(record.get("messages"), list):
            trace.last_assistant = None
            messages = [dict(m) for m in record["messages"] if isinstance(m, dict)]
            trace.replace(index, messages, compactions.get(index, {}))
        elif kind == "system":
            trace.system(index, {"role": "system", "content": record.get("content")})
    lines = trace.lines
    if lines:
        summary = {"type": "summary", "summary": _title(records), "leafUuid": lines[-1]["uuid"]}
        lines = [summary, *lines]
    return [redact(line) for line in lines]


def trace_bytes(journal_path: Path) -> bytes:
    """The trace as JSONL bytes (UTF-8, one object per line, trailing newline)."""
    lines = trace_records(journal_path)
    text = "".join(json.dumps(line, ensure_ascii=False, default=str) + "\n" for line in lines)
    return text.encode("utf-8")


def session_created(journal_path: Path) -> float:
    """When the session started (the journal's ``meta.created``, else the file's mtime)."""
    created = load(Path(journal_path)).meta.get("created")
    if isinstance(created, int | float):
        return float(created)
    return Path(journal_path).stat().st_mtime


def write_trace(journal_path: Path, out_path: Path) -> Path:
    """Write the trace of ``journal_path`` to ``out_path`` (atomically, owner-only)."""
    data = trace_bytes(journal_path)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, out_path)
    return out_path
