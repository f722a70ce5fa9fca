"""Terminal-safe text: nothing a model, a tool or a server sends can drive the terminal.

Text from outside (answers, reasoning, tool arguments and outputs, job logs, MCP and
server replies, error messages) may carry escape sequences that set the window title
(OSC 0/2), write the clipboard (OSC 52), plant hyperlinks (OSC 8), clear the screen or
leave the alternate screen (CSI), or hide what a line says (``\\r``, backspaces, bidi
overrides). ``terminal_safe`` turns every such character into a visible stand-in, so a
person sees that something was there and nothing acts:

- C0 controls other than ``\\n`` and ``\\t`` become their Unicode control pictures
  (``ESC`` → ``␛``, ``BEL`` → ``␇``, ``\\b`` → ``␈``, a lone ``\\r`` → ``␍``), DEL → ``␡``.
  An escape sequence thus reads ``␛]0;title␇``: the introducer is gone, its text stays.
- C1 controls (U+0080–U+009F, among them the 8-bit CSI and OSC) become ``\\x9b``.
- Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which can make
  ``rm -rf`` read as something else, become ``\\u202e``.
- ``\\r\\n`` is a line end, and colour codes (``ESC[…m``) and erase-to-end-of-line
  (``ESC[K``) are dropped: every coloured program prints them, and without them the text
  reads as the program meant it (concealed text shows).

The check is one regular-expression search, so ordinary text costs almost nothing and
the stand-ins are applied per character: a sequence split across two streamed chunks is
as harmless as a whole one.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar, cast

T = TypeVar("T")

_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
_UNSAFE_CLASS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_UNSAFE_RE = re.compile(f"[{_UNSAFE_CLASS}]")
_COLOUR_RE = re.compile(r"\x1b\[[0-9;:]*[mK]")

_VISIBLE: dict[str, str] = {chr(c): chr(0x2400 + c) for c in range(0x20) if c not in (0x09, 0x0A)}
_VISIBLE["\x7f"] = "\u2421"
_VISIBLE.update({chr(c): f"\\x{c:02x}" for c in range(0x80, 0xA0)})
_VISIBLE.update({chr(c): f"\\u{c:04x}" for c in _BIDI})

# In JSON, DEL, C1, bidi controls and the two Unicode line separators are legal raw
# characters (``json.dumps(..., ensure_ascii=False)`` and pydantic leave them as they
# are); written to a terminal they act, so ``--json`` escapes them too.
_JSON_UNSAFE_RE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _show(match: re.Match[str]) -> str:
    return _VISIBLE[match.group()]


def is_terminal_safe(text: str) -> bool:
    """True when ``text`` holds nothing a terminal would act on (``\\n``/``\\t`` allowed)."""
    return _UNSAFE_RE.search(text) is None


def terminal_safe(text: str) -> str:
    """``text`` with every control character, escape sequence and bidi control made visible.

    Returns ``text`` itself (not a copy) when there is nothing to change.
    """
    if _UNSAFE_RE.search(text) is None:
        return text
    if "\x1b[" in text:
        text = _COLOUR_RE.sub("", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if text.endswith("\r"):  # the rest of a "\r\n" split across two chunks
            text = text[:-1]
    return _UNSAFE_RE.sub(_show, text)


def terminal_safe_value(value: T) -> T:
    """``value`` with every string in it made terminal-safe (dict keys too, models nested).

    Containers and models are copied only where something changed, so the usual case —
    nothing to change — allocates nothing.
    """
    return cast(T, _safe(value))


_PLAIN = (int, float, bool, type(None))


def _safe(value: Any) -> Any:
    if isinstance(value, str):
        return terminal_safe(value)
    if isinstance(value, _PLAIN):
        return value
    if hasattr(type(value), "model_fields"):  # a pydantic model (events, nested items)
        return _safe_model(value)
    if isinstance(value, dict):
        changed = False
        out: dict[Any, Any] = {}
        for key, item in value.items():
            new_key, new_item = _safe(key), _safe(item)
            changed = changed or new_key is not key or new_item is not item
            out[new_key] = new_item
        return out if changed else value
    if isinstance(value, list | tuple):
        items = [_safe(item) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return items if isinstance(value, list) else tuple(items)
    return value


def _safe_model(model: Any) -> Any:
    changes: dict[str, Any] = {}
    for name, old in model.__dict__.items():  # a model's fields, without getattr's cost
        if isinstance(old, _PLAIN):
            continue
        new = _safe(old)
        if new is not old:
            changes[name] = new
    return model.model_copy(update=changes) if changes else model


def safe_event(event: T) -> T:
    """A copy of an event (any pydantic model) whose text is terminal-safe; itself if clean."""
    return cast(T, _safe(event))


def json_terminal_safe(line: str) -> str:
    """A JSON text with the characters JSON leaves raw but a terminal acts on escaped.

    The JSON still decodes to exactly the same values: the characters become ``\\u``
    escapes (they can only occur inside strings, JSON's own syntax is ASCII).
    """
    if _JSON_UNSAFE_RE.search(line) is None:
        return line
    return _JSON_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


class TerminalSafeWriter:
    """A text stream that writes everything terminal-safe (headless stdout and stderr)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return int(self.stream.write(terminal_safe(text)) or 0)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return bool(self.stream.isatty())

    def fileno(self) -> int:
        return int(self.stream.fileno())
