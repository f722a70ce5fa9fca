"""Fixtures for the sandbox tests: a real bubblewrap sandbox (skipped where none can run)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandboxing import MakeSandbox, make_ctx

from ml_intern_tui.core.tool import ToolContext
from ml_intern_tui.safety.sandbox import Sandbox, detect


@pytest.fixture
def bwrap() -> str:
    """The bubblewrap binary, after a real probe; the test is skipped (reason printed) if none."""
    found = detect()
    if found.problem is not None or found.bwrap is None:
        pytest.skip(f"no working bubblewrap here: {found.problem}")
    return found.bwrap


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root.resolve()


@pytest.fixture
def make_sandbox(bwrap: str, tmp_path: Path) -> Iterator[MakeSandbox]:
    """Build active sandboxes whose private tmp lives under the test's tmp_path."""
    made: list[Sandbox] = []

    def make(**kwargs: Any) -> Sandbox:
        kwargs.setdefault("tmp_root", tmp_path / "sandbox-tmp")
        sandbox = Sandbox(**kwargs)
        assert sandbox.active, sandbox.problem
        made.append(sandbox)
        return sandbox

    yield make
    for sandbox in made:
        sandbox.cleanup()


@pytest.fixture
def sandbox(make_sandbox: MakeSandbox) -> Sandbox:
    return make_sandbox()


@pytest.fixture
def ctx(project: Path, sandbox: Sandbox) -> ToolContext:
    """A tool context whose shell commands run in ``sandbox``."""
    return make_ctx(project, sandbox)


@pytest.fixture
def outside() -> Iterator[Path]:
    """A fresh directory outside /tmp (which the sandbox replaces), so it is visible inside."""
    try:
        path = Path(tempfile.mkdtemp(prefix="ml-intern-test-", dir="/var/tmp"))
    except OSError as exc:
        pytest.skip(f"/var/tmp is not writable here: {exc}")
    yield path.resolve()
    shutil.rmtree(path, ignore_errors=True)
