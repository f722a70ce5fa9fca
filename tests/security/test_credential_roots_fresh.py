"""Red team: the faster credential check must see the file system as it is at check time.

``credential_roots`` resolves ~70 paths on every ``read`` approval; it now resolves each
shared directory once per check and keeps only the paths as written (a pure function of
the environment). These tests play an attacker who changes the file system (or the
environment) after the check has run once, and check the shared-prefix resolution gives
exactly what ``os.path.realpath`` gives, links, loops and missing parts included.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ml_intern_tui.core.tool import ToolContext
from ml_intern_tui.safety.credentials import _real_with, credential_reason, credential_roots
from ml_intern_tui.tools.files import ReadArgs, ReadTool

SECRET = "[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY\n"


def test_shared_prefix_resolution_equals_realpath(tmp_path: Path) -> None:
    base = tmp_path.resolve()
    (base / "real" / "sub").mkdir(parents=True)
    (base / "real" / "sub" / "file").write_text("x")
    (base / "to_real").symlink_to(base / "real")  # absolute link to a directory
    (base / "rel").symlink_to("real/sub")  # relative link
    (base / "chain").symlink_to("to_real")  # a link to a link
    (base / "loop_a").symlink_to("loop_b")
    (base / "loop_b").symlink_to("loop_a")
    (base / "dangling").symlink_to(base / "nowhere" / "deeper")
    (base / "real" / "up").symlink_to("..")
    (base / "real" / "sub" / "file_link").symlink_to("../../real/sub/file")
    cases = [
        "to_real/sub/file",
        "rel/file",
        "chain/sub/../sub/file",
        "chain/sub/file_link",
        "loop_a/x",
        "loop_b",
        "dangling/more",
        "missing/to_real/sub",
        "real/sub/file/not_a_dir",
        "real/up/to_real/./sub",
        "real/up/real/up/chain",
        "",
    ]
    resolved: dict[str, str] = {}
    for case in cases:
        path = f"{base}/{case}" if case else str(base)
        assert _real_with(path, resolved) == os.path.realpath(path), case
        assert _real_with(path, {}) == os.path.realpath(path), case
    assert _real_with("relative/path", resolved) == os.path.realpath("relative/path")
    assert _real_with("/", resolved) == "/"


def test_a_link_to_a_store_made_after_a_check_is_refused(ctx: ToolContext, home: Path) -> None:
    tool = ReadTool()
    (ctx.cwd / "ordinary.txt").write_text("fine\n")
    assert tool.approval(ReadArgs(path="ordinary.txt"), ctx) is None  # warmed
    store = home / ".aws" / "credentials"
    store.parent.mkdir()
    store.write_text(SECRET)
    (ctx.cwd / "notes.txt").symlink_to(store)
    request = tool.approval(ReadArgs(path="notes.txt"), ctx)
    assert request is not None and request.kind == "protected"
    assert str(store) in request.title


def test_a_store_directory_turned_into_a_link_after_a_check_is_followed(
    tmp_path: Path, home: Path
) -> None:
    # Where ~/.aws really lives decides which files are credentials; a check made
    # before ~/.aws became a link must not decide for the checks after it.
    elsewhere = (tmp_path / "elsewhere").resolve()
    elsewhere.mkdir()
    (elsewhere / "credentials").write_text(SECRET)
    assert credential_reason(elsewhere / "credentials") is None
    roots_before = credential_roots()
    (home / ".aws").symlink_to(elsewhere)
    reason = credential_reason(elsewhere / "credentials")
    assert reason is not None and "holds credentials" in reason
    assert elsewhere in credential_roots() and elsewhere not in roots_before


def test_a_credential_variable_set_after_a_check_counts(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = (tmp_path / "my-token").resolve()
    token.write_text("hf_abcdefghijklmnopqrstuvwxyzABCDEFGH\n")
    assert credential_reason(token) is None
    monkeypatch.setenv("HF_TOKEN_PATH", str(token))
    assert credential_reason(token) is not None
    monkeypatch.delenv("HF_TOKEN_PATH")
    assert credential_reason(token) is None


def test_an_explicit_environment_and_home_are_used(tmp_path: Path, home: Path) -> None:
    other = (tmp_path / "other-home").resolve()
    (other / ".ssh").mkdir(parents=True)
    key = other / ".ssh" / "id_ed25519"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    assert credential_reason(key) is None
    assert credential_reason(key, env={"HOME": str(other)}, home=other) is not None
    assert credential_reason(key) is None
