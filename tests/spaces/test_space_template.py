"""``[sandbox.space] template``: the sandbox is a duplicate of a Space, with our server added."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.http_server import FakeHTTPServer
from space_rig import make_rig

from ml_intern_tui.config.space_schema import SpaceSandboxConfig
from ml_intern_tui.core.protocol import Notice
from ml_intern_tui.spaces.client import SandboxApiError

TEMPLATE = "team/gpu-base"
TEMPLATE_DOCKERFILE = "FROM team/cuda-base\nCOPY space_server.py /srv/\nCMD python /srv/space_server.py\n"  # fmt: skip


async def test_template_is_duplicated_with_secrets_and_our_server(
    fake_hub: FakeHTTPServer, tmp_path: Path
) -> None:
    rig = make_rig(fake_hub, tmp_path, config=SpaceSandboxConfig(template=TEMPLATE))
    rig.spaces.repos.add_repo(
        TEMPLATE, "space", {"Dockerfile": TEMPLATE_DOCKERFILE, "README.md": "team"}, sdk="docker"
    )
    try:
        box = await rig.manager.create("t4-small")
        client = await rig.manager.client(wait_s=30)
        space = rig.spaces.last()
        assert space.duplicated_from == TEMPLATE and space.repo_id == box.repo_id
        assert space.private and space.hardware == "t4-small" and space.sleep_time == 1800
        assert set(space.secrets) == {"SANDBOX_API_TOKEN"}
        files = rig.spaces.repos.repo(box.repo_id, "space").branches["main"]
        # The template's own Dockerfile and README stay; our server is added beside them.
        assert files["Dockerfile"].decode() == TEMPLATE_DOCKERFILE
        assert files["README.md"] == b"team"
        assert b"SANDBOX_API_TOKEN" in files["space_server.py"]
        result = await client.call("bash", {"command": "echo from-template", "timeout": 10})
        assert "from-template" in result["output"]
        # The template itself is never touched, and only the copy is deleted.
        await rig.manager.stop()
        assert rig.spaces.deleted == [box.repo_id]
        assert ("space", TEMPLATE) in rig.spaces.repos.repos
    finally:
        await rig.manager.aclose()
        await rig.jobs.shutdown()
        rig.spaces.close()


async def test_a_missing_template_is_one_line_and_leaves_nothing(
    fake_hub: FakeHTTPServer, tmp_path: Path
) -> None:
    rig = make_rig(fake_hub, tmp_path, config=SpaceSandboxConfig(template="team/gone"))
    try:
        box = await rig.manager.create("t4-small")
        with pytest.raises(SandboxApiError, match="could not duplicate team/gone"):
            await rig.manager.client(wait_s=30)
        assert rig.spaces.spaces == {} and rig.spaces.deleted == []
        assert rig.jobs.require(box.job_id).status == "failed"
        errors = [e.text for e in rig.events if isinstance(e, Notice) and e.level == "error"]
        assert len(errors) == 1 and "404" in errors[0] and "\n" not in errors[0]
    finally:
        await rig.manager.aclose()
        await rig.jobs.shutdown()
        rig.spaces.close()
