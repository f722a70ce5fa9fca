"""Checks on dataset rows shared by ``hf_dataset_inspect``: column types, chat columns, trainer fit.

Pure functions over a column -> type map and a few sample rows (dicts), whatever the
source (the dataset viewer or a local file). The trainer check names the column layouts
TRL's SFT, DPO and GRPO trainers accept and what a dataset is missing for each.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

CELL_CHARS = 150
EXAMPLE_CHARS = 100
_CHAT_KEYS = ("role", "content", "tool_calls", "tool_call_id", "name", "function_call")


def cell_text(value: Any, limit: int = CELL_CHARS) -> str:
    """A cell as one line of at most ``limit`` characters."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------------ types


def feature_type(spec: Any) -> str:
    """A viewer feature spec as a short type name (``string``, ``list<{role: string}>``)."""
    if isinstance(spec, list):
        return f"list<{feature_type(spec[0]) if spec else '?'}>"
    if not isinstance(spec, dict):
        return str(spec)
    kind = spec.get("_type")
    if kind == "Value":
        return str(spec.get("dtype", "?"))
    if kind in ("List", "Sequence", "LargeList"):
        return f"list<{feature_type(spec.get('feature'))}>"
    if kind == "ClassLabel":
        return f"class_label({', '.join(map(str, spec.get('names', [])[:5]))})"
    if kind:
        return str(kind).lower()
    return "{" + ", ".join(f"{k}: {feature_type(v)}" for k, v in spec.items()) + "}"


def infer_types(rows: list[dict[str, Any]], *, from_text: bool) -> dict[str, str]:
    types: dict[str, set[str]] = {}
    for row in rows:
        for key, value in row.items():
            seen = types.setdefault(key, set())
            kind = _text_type(value) if from_text else _value_type(value)
            if kind != "null":
                seen.add(kind)
    result = {}
    for key, kinds in types.items():
        if kinds == {"int64", "float64"}:
            kinds = {"float64"}
        result[key] = "|".join(sorted(kinds)) or "null"
    return result


def _text_type(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        return "null"
    if re.fullmatch(r"[-+]?\d+", text):
        return "int64"
    if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|nan|inf", text, re.I):
        return "float64"
    return "bool" if text.lower() in ("true", "false") else "string"


def _value_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, list):
        inner = {_value_type(v) for v in value[:20]} - {"null"}
        return f"list<{'|'.join(sorted(inner)) or '?'}>"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value_type(v)}" for k, v in list(value.items())[:8]) + "}"
    return "string"


# ------------------------------------------------------------------ chat columns


def _message_lists(values: list[Any]) -> tuple[list[list[dict[str, Any]]], bool]:
    """The values that are lists of message dicts, and whether they were JSON text."""

    def is_messages(v: Any) -> bool:
        return isinstance(v, list) and bool(v) and all(isinstance(m, dict) for m in v)

    found = [v for v in values if is_messages(v)]
    if found:
        return found, False
    parsed = []
    for v in values:
        if isinstance(v, str) and v.lstrip().startswith("["):
            try:
                parsed.append(json.loads(v))
            except ValueError:
                continue
    return [v for v in parsed if is_messages(v)], True


def is_chat_column(column: str, rows: list[dict[str, Any]]) -> bool:
    """True when the column's values are lists of {role, content} messages."""
    lists, from_text = _message_lists([r.get(column) for r in rows])
    return not from_text and any("role" in m and "content" in m for v in lists for m in v)


def chat_sections(columns: list[str], rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """One report section per column that holds lists of chat messages."""
    sections = []
    for column in columns:
        lists, from_text = _message_lists([r.get(column) for r in rows])
        if lists:
            sections.append((f"Chat column: {column}", _analyze(lists, from_text)))
    return sections


def _analyze(lists: list[list[dict[str, Any]]], from_text: bool) -> str:
    messages = [m for v in lists for m in v]
    roles = Counter(str(m.get("role", m.get("from", "?"))) for m in messages)
    keys = {k for m in messages for k in m}
    calls = sum(1 for m in messages if m.get("tool_calls") or m.get("function_call"))
    results = sum(1 for m in messages if m.get("role") == "tool" or "tool_call_id" in m)
    lines = [
        f"{len(lists)} conversations checked, {len(messages)} messages",
        "roles: " + ", ".join(f"{r} ×{n}" for r, n in roles.most_common()),
        "keys: " + ", ".join(f"{k} {'✓' if k in keys else '✗'}" for k in _CHAT_KEYS),
        f"tool calls: {calls or 'none'}; tool results: {results or 'none'}",
    ]
    other = sorted(keys - set(_CHAT_KEYS))
    if other:
        lines.append(f"other keys: {', '.join(other)}")
    example = next((m for m in messages if m.get("content")), messages[0])
    shown = {k: (cell_text(v, EXAMPLE_CHARS) if k == "content" else v) for k, v in example.items()}
    lines.append(f"example: {cell_text(shown, 300)}")
    issues = []
    if from_text:
        issues.append("stored as JSON text: parse it (json.loads) into a list of messages first")
    if {"from", "value"} <= keys and "role" not in keys:
        issues.append(
            "ShareGPT style (from/value): map from→role (human→user, gpt→assistant) and value→content"
        )
    elif (missing := sum(1 for m in messages if "role" not in m or "content" not in m)) > 0:
        issues.append(f"{missing} messages lack role or content")
    if "role" in keys and "assistant" not in roles:
        issues.append("no assistant turns: nothing for a model to learn to answer")
    lines += [f"issue: {text}" for text in issues]
    return "\n".join(lines)


# ------------------------------------------------------------------ trainer formats


def trainer_check(types: dict[str, str], rows: list[dict[str, Any]]) -> tuple[str, str]:
    """The TRL trainer formats the columns satisfy: (report lines, one-line verdict)."""
    cols = set(types) or {k for r in rows for k in r}

    def chat(column: str) -> bool:
        return is_chat_column(column, rows) or "role" in types.get(column, "")

    results = [_sft(cols, chat), _dpo(cols, chat), _grpo(cols, chat)]
    text = "\n".join(f"- {name}: {'✓' if ok else '✗'} {why}" for name, ok, why in results)
    verdict = " ".join(f"{name} {'✓' if ok else '✗'}" for name, ok, _ in results)
    return text, verdict


def _sft(cols: set[str], chat: Any) -> tuple[str, bool, str]:
    if "messages" in cols:
        if chat("messages"):
            return "SFT", True, "messages (conversational; the chat template is applied)"
        return "SFT", False, "messages is not a list of {role, content} messages"
    if "text" in cols:
        return "SFT", True, "text (plain language modelling)"
    if {"prompt", "completion"} <= cols:
        return "SFT", True, "prompt + completion (loss on the completion)"
    hint = "; rename conversations to messages with role/content" if "conversations" in cols else ""
    return "SFT", False, f"needs messages, or text, or prompt + completion{hint}"


def _dpo(cols: set[str], chat: Any) -> tuple[str, bool, str]:
    missing = [c for c in ("prompt", "chosen", "rejected") if c not in cols]
    if not missing:
        return "DPO", True, "prompt + chosen + rejected"
    if missing == ["prompt"] and chat("chosen"):
        return "DPO", True, "chosen + rejected conversations (implicit prompt)"
    return "DPO", False, f"missing {', '.join(missing)} (needs prompt + chosen + rejected)"


def _grpo(cols: set[str], chat: Any) -> tuple[str, bool, str]:
    if "prompt" in cols:
        extra = sorted(cols - {"prompt"})
        passed = f"; other columns reach reward functions: {', '.join(extra[:8])}" if extra else ""
        return "GRPO", True, f"prompt{' (conversational)' if chat('prompt') else ''}{passed}"
    hint = (
        "; derive prompt from messages (the turns before the last answer)"
        if "messages" in cols
        else ""
    )
    return "GRPO", False, f"missing prompt{hint}"
