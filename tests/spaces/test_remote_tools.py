"""bash/read/write/edit with target="sandbox": approvals, bad answers, read-before-write."""

from __future__ import annotations

from pathlib import Path

import pytest
from space_rig import SpaceRig

from ml_intern_tui.core.services import Services
from ml_intern_tui.core.tool import SessionState, ToolContext, ToolError
from ml_intern_tui.spaces.client import SandboxApiError, SandboxClient
from ml_intern_tui.tools.bash import BashArgs, BashTool
from ml_intern_tui.tools.edit import EditArgs, EditTool
from ml_intern_tui.tools.files import ReadArgs, ReadTool, WriteArgs, WriteTool
from ml_intern_tui.tools.sandbox_create import SandboxCreateArgs, SandboxCreateTool


def context(rig: SpaceRig, tmp_path: Path) -> ToolContext:
    services = Services(space_sandbox=rig.manager, jobs=rig.jobs)
    return ToolContext(
        call_id="c1", session_id="s1", cwd=tmp_path, state=SessionState(),
        publish=lambda e: None, services=services,
    )  # fmt: skip


async def test_remote_approvals_keep_the_local_rules_apart(rig: SpaceRig, tmp_path: Path) -> None:
    ctx = context(rig, tmp_path)
    bash = BashTool()
    assert bash.approval(BashArgs(command="ls -la", target="sandbox"), ctx) is None
    run = bash.approval(BashArgs(command="python train.py", target="sandbox"), ctx)
    assert run is not None and run.kind == "local" and run.operation == "sandbox_run"
    assert "in the sandbox" in run.title
    force = bash.approval(BashArgs(command="git push --force origin main", target="sandbox"), ctx)
    assert force is not None and force.kind == "irreversible"
    assert force.operation == "sandbox_run_irreversible"
    write = WriteTool().approval(WriteArgs(path="a.py", content="x", target="sandbox"), ctx)
    assert write is not None and write.operation == "sandbox_write"
    # A local credential path means nothing there: reading it remotely asks nothing.
    assert ReadTool().approval(ReadArgs(path="~/.ssh/id_rsa", target="sandbox"), ctx) is None


async def test_create_approval_shows_price_and_worst_case(rig: SpaceRig, tmp_path: Path) -> None:
    ctx = context(rig, tmp_path)
    tool = SandboxCreateTool()
    paid = tool.approval(SandboxCreateArgs(hardware="a10g-large"), ctx)
    assert paid is not None and paid.kind == "spend"
    assert "$1.50/h" in paid.title and "worst case $1.50 for 60 min" in paid.title
    assert paid.cost_estimate_usd == pytest.approx(1.5)
    free = tool.approval(SandboxCreateArgs(hardware="cpu-basic"), ctx)
    assert free is not None and free.kind == "local" and "free" in free.title
    with pytest.raises(ValueError, match="unknown hardware"):
        SandboxCreateArgs(hardware="h100-imaginary")


async def test_without_a_sandbox_remote_calls_say_so(rig: SpaceRig, tmp_path: Path) -> None:
    ctx = context(rig, tmp_path)
    with pytest.raises(ToolError, match="no sandbox is active: create one with sandbox_create"):
        await BashTool().run(BashArgs(command="ls", target="sandbox"), ctx)


async def test_write_needs_a_read_and_edit_round_trips(rig: SpaceRig, tmp_path: Path) -> None:
    ctx = context(rig, tmp_path)
    await rig.manager.create("cpu-basic")
    await rig.manager.client(wait_s=30)
    root = rig.spaces.last().root
    assert root is not None
    (root / "cfg.txt").write_text("lr = 1e-3\n")
    with pytest.raises(ToolError, match="has not been read"):
        await WriteTool().run(WriteArgs(path="cfg.txt", content="x", target="sandbox"), ctx)
    read = await ReadTool().run(ReadArgs(path="cfg.txt", target="sandbox"), ctx)
    assert "lr = 1e-3" in read.output
    args = EditArgs(path="cfg.txt", old_str="1e-3", new_str="5e-4", target="sandbox")
    edited = await EditTool().run(args, ctx)
    assert "1 replacement" in edited.summary and (root / "cfg.txt").read_text() == "lr = 5e-4\n"
    assert not (tmp_path / "cfg.txt").exists()


async def test_a_401_from_the_sandbox_is_one_clear_line(rig: SpaceRig, tmp_path: Path) -> None:
    await rig.manager.create("cpu-basic")
    real = await rig.manager.client(wait_s=30)
    forged = SandboxClient(real.base_url, "wrong-token-" + "x" * 30)
    rig.manager.active.client = forged  # type: ignore[union-attr]
    with pytest.raises(ToolError) as caught:
        await BashTool().run(BashArgs(command="ls", target="sandbox"), context(rig, tmp_path))
    message = str(caught.value)
    assert message.startswith("the sandbox refused the API token (401") and "\n" not in message
    await forged.aclose()


async def test_an_unreachable_sandbox_is_one_clear_line() -> None:
    client = SandboxClient("http://127.0.0.1:9", "t" * 40)
    with pytest.raises(SandboxApiError) as caught:
        await client.call("bash", {"command": "ls"}, timeout_s=5)
    assert "cannot be reached" in str(caught.value) and "\n" not in str(caught.value)
    await client.aclose()
