"""Opening a file someone else named (a project, a model) without hanging or exhausting memory.

A hostile repository can ship ``.ml-intern/config.toml`` as a symbolic link to
``/dev/zero`` (read forever), to a FIFO (the open blocks), or to ``/dev/tty`` (a read
takes the user's keystrokes); a model can ask the ``read`` tool for the same. Only
regular files are opened here: the type is checked before opening (so a device is never
opened at all), the open never blocks (``O_NONBLOCK``), and the descriptor is checked
again after it, so a file swapped for something else in between is refused too. Reads
are bounded.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotReadable(Exception):
    """The path is not a regular file, or is larger than allowed; the message says which."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        """What is wrong, without the path (``is a named pipe (FIFO), not a regular file``)."""
        super().__init__(f"{path} {reason}")


def kind_of(mode: int) -> str:
    """``a named pipe (FIFO)`` for a FIFO's ``st_mode``, and so on."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(path: Path) -> int:
    """A read-only descriptor of ``path`` (symlinks followed) when it is a regular file.

    Raises ``NotReadable`` for anything else and ``OSError`` when it cannot be opened.
    """
    before = os.stat(path)
    if not stat.S_ISREG(before.st_mode):
        raise NotReadable(path, f"is {kind_of(before.st_mode)}, not a regular file")
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        after = os.fstat(fd)
        if not stat.S_ISREG(after.st_mode) or (after.st_dev, after.st_ino) != (
            before.st_dev,
            before.st_ino,
        ):
            raise NotReadable(path, "changed into something else while it was opened")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``; ``NotReadable`` past ``limit`` bytes."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise NotReadable(path, f"is larger than {limit:,} bytes")
    return data
