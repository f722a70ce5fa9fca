"""Piped standard input for a headless run: ``echo X | ml-intern-tui -p "summarize"``.

The prompt may come from the command line, from stdin (``-p -``, or no prompt at all), or
both: piped text next to a prompt is appended to it as a fenced block, so the model sees
both and can tell which is which. Input is capped (``MAX_STDIN_BYTES``; the rest is not
read and a notice says so), must be UTF-8 text (binary is refused with one line), and a
stdin that is neither a pipe nor a file (a terminal, ``/dev/null``, a socket) is never
read, so a run can not hang on an input nobody will close. A pipe that stays silent gets
one notice on stderr saying what the run is waiting for. Standard library only (it runs
before anything heavy is imported).
"""

from __future__ import annotations

import codecs
import os
import select
import stat
import sys
from dataclasses import dataclass
from typing import BinaryIO, TextIO

MAX_STDIN_BYTES = 256 * 1024
"""Piped input kept for the prompt (about 64k tokens of English); the rest is not read."""
SILENT_PIPE_NOTICE_S = 2.0
"""How long a pipe may stay silent before the run says it is waiting for it."""
_CHUNK = 64 * 1024


class StdinError(Exception):
    """Piped input that cannot be used (binary, or ``-`` with nothing piped): one line."""


@dataclass(frozen=True)
class StdinText:
    """What was read: the text, and whether the cap cut it."""

    text: str
    truncated: bool


def stdin_is_piped(stream: BinaryIO | TextIO | None = None) -> bool:
    """True when stdin is a pipe or a regular file (the only inputs worth reading)."""
    stream = stream if stream is not None else sys.stdin
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def _wait_readable(fd: int, err: TextIO) -> None:
    """Block until ``fd`` has data or EOF; say once on stderr when that takes a while."""
    try:
        ready, _, _ = select.select([fd], [], [], SILENT_PIPE_NOTICE_S)
    except (OSError, ValueError):  # pragma: no cover - select on an odd descriptor
        return
    if not ready:
        err.write(
            "ml-intern-tui: waiting for piped input on stdin (close it, or pass "
            "< /dev/null to run without it)\n"
        )
        err.flush()


def read_stdin(
    stream: BinaryIO | None = None, *, limit: int = MAX_STDIN_BYTES, err: TextIO | None = None
) -> StdinText:
    """Read up to ``limit`` bytes of UTF-8 text from piped stdin.

    Raises ``StdinError`` for binary input (a NUL byte or bytes that are not UTF-8).
    """
    raw = stream if stream is not None else sys.stdin.buffer
    with_fd = _fileno(raw)
    if with_fd is not None:
        _wait_readable(with_fd, err or sys.stderr)
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = (
            os.read(with_fd, min(_CHUNK, limit + 1 - size))
            if with_fd is not None
            else raw.read(min(_CHUNK, limit + 1 - size))
        )
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    data = b"".join(chunks)
    truncated = len(data) > limit
    data = data[:limit]
    if b"\x00" in data:
        raise StdinError(
            "stdin holds binary data, not text; pipe text (or attach the file by path in "
            "the prompt)"
        )
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        # Not final when cut: a character split by the cap is dropped, not an error.
        text = decoder.decode(data, final=not truncated)
    except UnicodeDecodeError:
        raise StdinError(
            "stdin is not UTF-8 text (binary data?); pipe text (or convert it with iconv)"
        ) from None
    return StdinText(text=text, truncated=truncated)


def _fileno(stream: BinaryIO) -> int | None:
    try:
        return stream.fileno()
    except (OSError, ValueError, AttributeError):
        return None


def fence(text: str) -> str:
    """``text`` in a Markdown code fence longer than any backtick run inside it."""
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    marks = "`" * max(3, longest + 1)
    return f"{marks}\n{text.rstrip(chr(10))}\n{marks}"


def with_piped_input(prompt: str, piped: str) -> str:
    """The prompt with the piped text appended as a fenced block (unchanged when empty)."""
    if not piped.strip():
        return prompt
    return f"{prompt}\n\nInput piped on stdin:\n\n{fence(piped)}"


def truncation_notice(limit: int = MAX_STDIN_BYTES) -> str:
    """The one line said when piped input was longer than the cap."""
    return (
        f"warning: piped input is longer than {limit // 1024} KiB; the model sees only "
        f"the first {limit // 1024} KiB (put big inputs in a file and name it in the prompt)"
    )
