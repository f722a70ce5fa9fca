"""How the file tools change local files safely: who must approve, and a write that stays put.

Four rules, for ``write`` and ``edit`` alike:

- Inside the project nothing is asked. Outside it, scratch space and the sandbox's
  configured writable paths are ``local`` (auto mode approves them, as it approves a
  sandboxed command writing there); anywhere else is ``unsandboxed``: auto asks.
- A protected target (``.git/``, ``.ml-intern/``, shell start-up files, ``~/.ssh``, this
  app's config and data; see ``safety.protected``) asks a person in every mode, inside
  the project or not, and is never remembered.
- A call only writes a protected path it was asked about: if the path resolves
  somewhere protected when the call runs but did not when it was approved (a symlink
  planted in between by a concurrent command), the call fails and nothing is written.
- The write itself opens each directory on the way without following symlinks and
  renames a temporary file into place, so a directory swapped for a link at the last
  moment fails the write instead of redirecting it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from ml_intern_tui.core.tool import ApprovalRequest, ToolContext, ToolError
from ml_intern_tui.safety.protected import protected_reason

_REMEMBERED_CALLS = 512
"""Protected calls kept between approval and run (calls never run are dropped oldest first)."""
_NO_FOLLOW = {os.open, os.mkdir, os.stat, os.rename, os.unlink} <= os.supports_dir_fd and hasattr(
    os, "O_NOFOLLOW"
)
"""Directory descriptors work here (``os.replace`` takes them wherever ``os.rename`` does)."""


def write_approval(
    path: Path, ctx: ToolContext, operation: str, details: str
) -> ApprovalRequest | None:
    """What writing ``path`` needs: nothing inside the project, ``protected`` always asks,
    elsewhere ``local`` (scratch space) or ``unsandboxed``."""
    reason = protected_reason(path, project=ctx.cwd)
    if reason is not None:
        return ApprovalRequest(
            kind="protected",
            title=f"{operation.capitalize()} a protected path: {path}",
            details=details,
            risk="high",
            operation=operation,
            scope_value=str(path),
            reason=reason,
        )
    if path.is_relative_to(ctx.cwd.resolve()):
        return None
    contained = _sandbox_writable(path, ctx)
    return ApprovalRequest(
        # Where a sandboxed command may write too (scratch space, the configured
        # writable paths) auto mode approves; anywhere else is what the sandbox keeps
        # commands from, so auto asks: a file in ~/.local/bin, the user site or a
        # config dir runs later, outside any sandbox.
        kind="local" if contained else "unsandboxed",
        title=f"Write outside the project: {path}",
        details=details,
        risk="medium",
        operation=operation,
        scope_value=str(path),
        scope_pattern=f"{path.parent}/*",
        reason=""
        if contained
        else "it writes outside the project, where sandboxed commands cannot",
    )


def _sandbox_writable(path: Path, ctx: ToolContext) -> bool:
    """``path`` is in scratch space or a configured ``[sandbox] writable_paths`` entry."""
    from ml_intern_tui.safety.shell_paths import inside, real, temp_roots

    sandbox = ctx.services.sandbox
    extra = [Path(p) for p in getattr(sandbox, "writable_paths", None) or ()]
    target = real(path)
    return any(
        inside(target, real(root)) and target != real(root) for root in [*temp_roots(), *extra]
    )


class ProtectedTargets:
    """The protected paths a person was asked about, by call id, until the call runs.

    ``judge`` says why a path is protected (writes: ``protected_reason``; reads of
    credential files pass their own); ``outcome`` ends the refusal message.
    """

    def __init__(
        self,
        judge: Callable[[Path, ToolContext], str | None] | None = None,
        outcome: str = "nothing was written",
    ) -> None:
        self._asked: OrderedDict[str, Path] = OrderedDict()
        self._lock = threading.Lock()
        self._judge = judge or (lambda path, ctx: protected_reason(path, project=ctx.cwd))
        self._outcome = outcome

    def note(self, call_id: str, request: ApprovalRequest | None, path: Path) -> None:
        """Remember ``path`` when ``request`` asks about it as protected."""
        if request is None or request.kind != "protected":
            return
        with self._lock:
            self._asked[call_id] = path
            while len(self._asked) > _REMEMBERED_CALLS:
                self._asked.popitem(last=False)

    def check(self, call_id: str, path: Path, ctx: ToolContext) -> None:
        """Refuse a protected ``path`` this call was not approved for (``ToolError``)."""
        with self._lock:
            asked = self._asked.pop(call_id, None)
        reason = self._judge(path, ctx)
        if reason is not None and asked != path:
            raise ToolError(
                f"{reason}; this call was not approved for that path (it resolved elsewhere "
                f"when it was checked); {self._outcome}"
            )


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename, keeping the file's mode.

    ``path`` must be absolute and resolved. Missing directories are created. Raises
    ``OSError`` (with a readable ``strerror``) when a directory on the way is a link.
    """
    if not _NO_FOLLOW:  # pragma: no cover - platforms without dir_fd (Windows)
        _atomic_write_plain(path, data)
        return
    directory = _open_directory(path.parent)
    try:
        _write_in(directory, path.name, data)
    finally:
        os.close(directory)


def _open_directory(folder: Path) -> int:
    """A descriptor of ``folder``, each component opened without following links."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(folder.anchor or "/", os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in folder.parts[1:]:
            try:
                child = os.open(part, flags, dir_fd=fd)
            except FileNotFoundError:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o777, dir_fd=fd)
                child = os.open(part, flags, dir_fd=fd)
            os.close(fd)
            fd = child
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise OSError(
                exc.errno,
                f"{folder} is no longer a plain directory (a part of it is now a symbolic "
                "link or a file); read the path again",
            ) from exc
        raise
    return fd


def _write_in(directory: int, name: str, data: bytes) -> None:
    mode: int | None = None
    try:
        current = os.stat(name, dir_fd=directory, follow_symlinks=False)
    except FileNotFoundError:
        current = None
    if current is not None and stat.S_ISREG(current.st_mode):
        mode = stat.S_IMODE(current.st_mode)
    temp = f".{name}.{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    handle = os.open(temp, flags, 0o666, dir_fd=directory)
    try:
        with os.fdopen(handle, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
        # rename() replaces a link at ``name`` itself; it never writes through one.
        os.replace(temp, name, src_dir_fd=directory, dst_dir_fd=directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=directory)
        raise


def _atomic_write_plain(path: Path, data: bytes) -> None:  # pragma: no cover - see above
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
