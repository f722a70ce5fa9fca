"""Which consent a shell command needs, depending on the sandbox, and how that is said.

Pure policy (no bubblewrap needed): detection with a missing or broken ``bwrap``, the
placement of a call, the bash tool's approvals through the real ``ApprovalPolicy``, and
the one-time warning in the app, in ``/status`` and on headless stderr.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from sandboxing import make_ctx

from ml_intern_tui.core.approval import ApprovalPolicy
from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.protocol import EventBase, Notice, SandboxStatus
from ml_intern_tui.core.tool import RememberRule
from ml_intern_tui.headless import SandboxWarning
from ml_intern_tui.safety.sandbox import (
    INSTALL_HINT,
    Detection,
    Sandbox,
    SandboxAnnouncer,
    detect,
)
from ml_intern_tui.tools.bash import BashArgs, BashTool

WORKS = Detection("/usr/bin/bwrap", None)
BROKEN = Detection("/usr/bin/bwrap", "bubblewrap cannot start here: bwrap: setting up uid map")


def fake_bwrap(directory: Path, stderr: str, code: int = 1) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "bwrap"
    script.write_text(f"#!/bin/sh\necho '{stderr}' >&2\nexit {code}\n")
    script.chmod(0o755)
    return directory


def test_missing_bwrap_says_how_to_install_it(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    found = detect(str(empty))
    assert found == Detection(None, INSTALL_HINT)
    assert found.problem == "bubblewrap is not installed: `sudo apt-get install bubblewrap`"


def test_a_bwrap_that_cannot_start_is_reported_with_its_first_line(tmp_path: Path) -> None:
    path = fake_bwrap(tmp_path / "bin", "bwrap: No permissions to create new namespace\x1b[2J")
    found = detect(str(path))
    assert found.problem == (
        "bubblewrap cannot start here: bwrap: No permissions to create new namespace?[2J"
    )
    sandbox = Sandbox(path=str(path))
    assert not sandbox.active and sandbox.problem == found.problem


def test_a_working_bwrap_is_active(tmp_path: Path) -> None:
    path = fake_bwrap(tmp_path / "ok", "", code=0)
    found = detect(str(path))
    assert (found.bwrap, found.problem) == (os.path.realpath(path / "bwrap"), None)
    assert Sandbox(path=str(path)).active
    assert not Sandbox(mode="off", path=str(path)).active  # off: the user's choice


def request(sandbox: Sandbox | None, tmp_path: Path, command: str, **flags: bool):  # type: ignore[no-untyped-def]
    return BashTool().approval(BashArgs(command=command, **flags), make_ctx(tmp_path, sandbox))


def test_read_only_commands_need_nothing_unless_they_ask_to_leave(tmp_path: Path) -> None:
    active = Sandbox(detection=WORKS)
    assert request(active, tmp_path, "git status") is None
    net = request(active, tmp_path, "git status", network=True)
    assert net is not None and (net.kind, net.operation) == ("unsandboxed", "run_network")
    assert net.reason == "needs the network"
    out = request(active, tmp_path, "cat README.md", outside_sandbox=True)
    assert out is not None and (out.kind, out.operation) == ("unsandboxed", "run_unsandboxed")
    assert "runs OUTSIDE the sandbox" in out.details
    # A credential read outside the sandbox (which hides it) always asks.
    secret = request(active, tmp_path, "cat ~/.ssh/id_rsa", outside_sandbox=True)
    assert secret is not None and secret.kind == "protected"


def test_contained_commands_are_local_and_say_where_they_run(tmp_path: Path) -> None:
    req = request(Sandbox(detection=WORKS), tmp_path, "python train.py")
    assert req is not None and (req.kind, req.operation, req.reason) == ("local", "run", "")
    assert "runs in the sandbox · no network" in req.details
    allow = request(
        Sandbox(detection=WORKS, network="allow"),
        tmp_path,
        "curl -O https://example.org/x",
        network=True,
    )
    assert allow is not None and allow.kind == "local"
    assert "runs in the sandbox · network on" in allow.details


def test_network_deny_needs_no_approval_because_run_refuses(tmp_path: Path) -> None:
    assert (
        request(
            Sandbox(detection=WORKS, network="deny"),
            tmp_path,
            "curl -O https://example.org/x",
            network=True,
        )
        is None
    )


def test_no_sandbox_in_auto_makes_every_changing_command_unsandboxed(tmp_path: Path) -> None:
    broken = Sandbox(detection=BROKEN)
    req = request(broken, tmp_path, "touch x")
    assert req is not None and req.kind == "unsandboxed"
    assert req.reason == f"no OS sandbox here: {BROKEN.problem}"
    assert request(broken, tmp_path, "ls -la") is None  # read-only: the parser gate holds


def test_sandbox_off_and_no_service_behave_as_before(tmp_path: Path) -> None:
    for sandbox in (Sandbox(mode="off", detection=BROKEN), None):
        req = request(sandbox, tmp_path, "python train.py", network=True, outside_sandbox=True)
        assert req is not None and (req.kind, req.operation) == ("local", "run")
        assert "\nruns " not in req.details and "OUTSIDE" not in req.details


def policy(mode: str, rules: list[RememberRule] | None = None) -> ApprovalPolicy:
    return ApprovalPolicy(mode, budget_usd=None, spend=SpendTracker(), rules=rules)  # type: ignore[arg-type]


def test_auto_runs_contained_work_and_asks_to_leave_the_sandbox(tmp_path: Path) -> None:
    active = Sandbox(detection=WORKS)
    assert policy("auto").decide("bash", request(active, tmp_path, "touch x")).action == "run"
    verdict = policy("auto").decide("bash", request(active, tmp_path, "curl -O u", network=True))
    assert verdict.action == "ask" and "needs the network" in (verdict.reason or "")
    broken = policy("auto").decide("bash", request(Sandbox(detection=BROKEN), tmp_path, "touch x"))
    assert broken.action == "ask" and "setting up uid map" in (broken.reason or "")
    yolo = policy("yolo").decide("bash", request(active, tmp_path, "x", outside_sandbox=True))
    assert yolo.action == "run"
    ask = policy("ask").decide("bash", request(active, tmp_path, "touch x"))
    assert ask.action == "ask"


def test_a_remembered_contained_run_does_not_approve_leaving_the_sandbox(tmp_path: Path) -> None:
    active = Sandbox(detection=WORKS)
    contained = request(active, tmp_path, "python train.py --lr 1")
    assert contained is not None
    rules = policy("ask")
    rule = rules.remember("bash", contained)
    assert rule.operation == "run"
    again = request(active, tmp_path, "python train.py --lr 2")
    outside = request(active, tmp_path, "python train.py --lr 2", outside_sandbox=True)
    assert rules.decide("bash", again).action == "run"
    assert rules.decide("bash", outside).action == "ask"


def test_wrapper_isolates_and_grants_the_network_only_when_asked(tmp_path: Path) -> None:
    sandbox = Sandbox(detection=WORKS, tmp_root=tmp_path / "t")
    argv = sandbox.wrapper(project=tmp_path, cwd=tmp_path, session_id="s/../x", network=False)
    for flag in ("--unshare-pid", "--new-session", "--die-with-parent", "--unshare-net"):
        assert flag in argv
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    assert argv[argv.index("--ro-bind") : argv.index("--ro-bind") + 3] == ["--ro-bind", "/", "/"]
    assert argv[argv.index("--proc") + 1] == "/proc"
    assert argv[argv.index("--chdir") + 1] == str(tmp_path) and argv[-1] == "--"
    tmp_dir = Path(argv[argv.index("/tmp") - 1])
    assert tmp_dir.parent.parent == tmp_path / "t" and tmp_dir.name == "s_.._x"
    assert oct(tmp_dir.stat().st_mode & 0o777) == "0o700"
    networked = sandbox.wrapper(project=tmp_path, cwd=tmp_path, session_id="s", network=True)
    assert "--unshare-net" not in networked
    sandbox.cleanup()
    assert not tmp_dir.exists()


def test_summary_and_notice_texts() -> None:
    assert Sandbox(detection=WORKS).summary() == (
        "bubblewrap: writes to the project and a private /tmp; network only when approved"
    )
    assert Sandbox(detection=WORKS).notice() is None
    assert Sandbox(mode="off").notice() is None
    assert Sandbox(mode="off").summary().startswith('off ([sandbox] mode = "off")')
    broken = Sandbox(detection=BROKEN)
    assert broken.summary().startswith("unavailable: bubblewrap cannot start here")
    assert broken.notice() == (
        f"No OS sandbox: {BROKEN.problem}. Shell commands run unconfined, so auto mode asks "
        "before any command that is not read-only."
    )


async def test_announcer_publishes_the_status_and_warns_once_when_missing() -> None:
    events: list[EventBase] = []
    await SandboxAnnouncer(Sandbox(detection=BROKEN), events.append).run()
    status, notice = events
    assert isinstance(status, SandboxStatus) and not status.active
    assert status.problem == BROKEN.problem and status.summary.startswith("unavailable")
    assert isinstance(notice, Notice) and notice.level == "warning"
    working: list[EventBase] = []
    await SandboxAnnouncer(Sandbox(detection=WORKS), working.append).run()
    assert [type(e) for e in working] == [SandboxStatus]


def test_headless_warns_on_stderr_once_even_without_a_terminal() -> None:
    err = io.StringIO()  # not a tty
    warn = SandboxWarning(err)
    status = SandboxStatus(mode="auto", network="ask", active=False, problem=INSTALL_HINT)
    notice = Notice(
        level="warning", text=Sandbox(detection=Detection(None, INSTALL_HINT)).notice() or ""
    )
    warn(status)
    warn(status)
    assert err.getvalue().count("\n") == 1
    assert err.getvalue().startswith(
        "ml-intern-tui: warning: no OS sandbox: bubblewrap is not installed: "
        "`sudo apt-get install bubblewrap`; "
    )
    assert warn.hides(notice)
    quiet = SandboxWarning(io.StringIO())
    quiet(SandboxStatus(mode="auto", network="ask", active=True))
    quiet(SandboxStatus(mode="off", network="ask", active=False))
    assert quiet.err.getvalue() == "" and not quiet.hides(notice)  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", ["auto", "off"])
def test_config_mode_reaches_the_service(mode: str) -> None:
    from ml_intern_tui.config.schema import AppConfig

    cfg = AppConfig.model_validate({"sandbox": {"mode": mode, "network": "deny"}}).sandbox
    sandbox = Sandbox.from_config(cfg, detection=WORKS)
    assert (sandbox.mode, sandbox.network, sandbox.active) == (mode, "deny", mode == "auto")
