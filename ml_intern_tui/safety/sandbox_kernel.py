"""Kernel state a bubblewrap sandbox still shares with the host, and how it is closed.

Mount, PID, IPC and (without the network) network namespaces isolate most of the
machine, but two doors stay open:

- **kernel keyrings** are per user, not per namespace: a sandboxed command could read
  the secrets the user's other programs keep in their user keyring (``keyctl read``)
  and plant keys there. A seccomp filter (``keyring_filter``) makes ``add_key``,
  ``request_key`` and ``keyctl`` fail with ``EPERM``, as Docker's default profile does.
- **abstract Unix sockets** (``@name``, no file) belong to the network namespace: a
  command granted the network shares the host's, and could talk to any daemon listening
  on one (X11, D-Bus, containerd shims). Landlock's scoping (Linux 6.12, ABI 6) closes
  it: ``scope_preexec`` restricts bubblewrap (and so the command) to sockets created
  inside its own domain, in the forked child just before bubblewrap starts; where
  bubblewrap is set-uid (the no-new-privileges flag Landlock needs would disarm it),
  ``landlock_helper`` does the same inside the sandbox, before the shell.

The seccomp program is classic BPF built here (no library), for x86-64 (with its x32
and i386 ABIs) and arm64 (with 32-bit arm); on other architectures it allows everything.
"""

from __future__ import annotations

import ctypes
import functools
import os
import struct
import sys
from collections.abc import Callable

_LD_W_ABS = 0x20
_JEQ_K = 0x15
_AND_K = 0x54
_RET_K = 0x06
_ALLOW = 0x7FFF0000
_ERRNO_EPERM = 0x00050000 | 1
_NR, _ARCH = 0, 4  # offsets in struct seccomp_data

KEYRING_SYSCALLS: tuple[tuple[int, int | None, tuple[int, ...]], ...] = (
    (0xC000003E, 0xBFFFFFFF, (248, 249, 250)),  # x86-64 (x32: the same numbers | 1 << 30)
    (0x40000003, None, (286, 287, 288)),  # i386 on x86-64
    (0xC00000B7, None, (217, 218, 219)),  # arm64
    (0x40000028, None, (309, 310, 311)),  # 32-bit arm on arm64
)
"""(audit arch, mask for the syscall number, add_key/request_key/keyctl numbers)."""

Instruction = tuple[int, int | str, int | str, int]


def keyring_filter() -> bytes:
    """A seccomp BPF program (``struct sock_filter[]``, native byte order) that makes the
    keyring system calls fail with ``EPERM`` and allows everything else."""
    program: list[Instruction] = []
    labels: dict[str, int] = {}
    for index, (arch, mask, numbers) in enumerate(KEYRING_SYSCALLS):
        labels[f"arch{index}"] = len(program)
        program.append((_LD_W_ABS, 0, 0, _ARCH))
        program.append((_JEQ_K, 0, f"arch{index + 1}", arch))
        program.append((_LD_W_ABS, 0, 0, _NR))
        if mask is not None:
            program.append((_AND_K, 0, 0, mask))
        program += [(_JEQ_K, "deny", 0, number) for number in numbers]
        program.append((_RET_K, 0, 0, _ALLOW))
    labels[f"arch{len(KEYRING_SYSCALLS)}"] = len(program)
    program.append((_RET_K, 0, 0, _ALLOW))  # another architecture
    labels["deny"] = len(program)
    program.append((_RET_K, 0, 0, _ERRNO_EPERM))

    def offset(target: int | str, at: int) -> int:
        if isinstance(target, int):
            return target
        jump = labels[target] - at - 1
        assert 0 <= jump < 256, "seccomp jump out of range"
        return jump

    return b"".join(
        struct.pack("=HBBI", code, offset(jt, at), offset(jf, at), k)
        for at, (code, jt, jf, k) in enumerate(program)
    )


def seccomp_fd(program: bytes) -> int:
    """A readable descriptor holding ``program`` then EOF, for ``bwrap --seccomp FD``
    (a pipe: no file on disk; the caller closes it once the child has it)."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, program)  # a few hundred bytes: far below a pipe's buffer
    finally:
        os.close(write_end)
    return read_end


LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 1
LANDLOCK_SCOPE_SIGNAL = 2
SCOPED_ABI = 6
"""The first Landlock ABI with scopes (Linux 6.12)."""
_SYS_LANDLOCK_CREATE_RULESET = 444  # the same number on every architecture
_LANDLOCK_CREATE_RULESET_VERSION = 1


@functools.cache
def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0 when there is none, or not on Linux)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        version = libc.syscall(
            _SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), _LANDLOCK_CREATE_RULESET_VERSION
        )
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


LANDLOCK_HELPER = (
    "import ctypes,os,struct,sys\n"
    "c=ctypes.CDLL(None,use_errno=True);c.syscall.restype=ctypes.c_long\n"
    "a=ctypes.create_string_buffer(struct.pack('=QQQ',0,0,"
    f"{LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL}))\n"
    "f=c.syscall(444,a,ctypes.c_size_t(24),0)\n"
    "if f<0 or c.syscall(446,f,0)!=0:\n"
    " sys.stderr.write('bwrap: the sandbox could not scope abstract sockets (Landlock)\\n')\n"
    " sys.exit(126)\n"
    "os.close(f);os.execv(sys.argv[1],sys.argv[1:])\n"
)
"""Python run inside the sandbox before the shell: restrict to sockets (and signals) of
its own Landlock domain, then exec the rest of its arguments. Fails closed."""


def landlock_helper() -> list[str]:
    """The argv prefix that runs a program under the abstract-socket scope, or ``[]`` when
    the kernel cannot scope (Landlock ABI < 6)."""
    if landlock_abi() < SCOPED_ABI:
        return []
    # The interpreter itself, not the virtualenv's link to it: a virtualenv under /tmp or
    # /run is hidden inside the sandbox (both are replaced there); the helper needs only
    # the standard library, which lives beside the real interpreter.
    return [os.path.realpath(sys.executable), "-I", "-S", "-c", LANDLOCK_HELPER]


_PR_SET_NO_NEW_PRIVS = 38
_SYS_LANDLOCK_RESTRICT_SELF = 446


def scope_preexec() -> Callable[[], None] | None:
    """A ``preexec_fn`` that puts the forked child (bubblewrap, then the command) under
    the abstract-socket and signal scope, or ``None`` when the kernel cannot scope.

    Everything is prepared here, before the fork: the child only makes three system
    calls (no import, no allocation outside the interpreter), and raises -- so the
    command does not start -- when one fails.
    """
    if landlock_abi() < SCOPED_ABI:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    syscall = libc.syscall
    syscall.restype = ctypes.c_long
    prctl = libc.prctl
    scopes = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL
    attr = ctypes.create_string_buffer(struct.pack("=QQQ", 0, 0, scopes))
    size = ctypes.c_size_t(len(attr.raw))

    def restrict() -> None:
        if prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "no_new_privs")
        ruleset = syscall(_SYS_LANDLOCK_CREATE_RULESET, attr, size, 0)
        if ruleset < 0 or syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock")
        os.close(ruleset)

    return restrict
