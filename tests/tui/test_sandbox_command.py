"""``/sandbox`` in the app: it submits an op; the real sandbox manager answers in the chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fakes.http_server import FakeHTTPServer
from spaces.space_rig import make_rig

from ml_intern_tui.core.space_ops import SpaceSandboxStatus, SpaceSandboxStop
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[object]:
    server = FakeHTTPServer()
    built = make_rig(server, tmp_path)
    yield built
    await built.manager.aclose()
    await built.jobs.shutdown()
    built.spaces.close()
    server.close()


def chat_text(app: MLInternApp) -> str:
    return "\n".join(str(block.render()) for block in app.chat.query(NoticeBlock))


async def _answer(pilot, app: MLInternApp, runtime: FakeRuntime, manager, kind) -> None:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: runtime.ops_of(kind))
    op = runtime.ops_of(kind)[-1]
    runtime.ops.remove(op)
    assert manager.handle_op(op)


async def test_sandbox_status_and_stop_from_the_prompt(
    app: MLInternApp, runtime: FakeRuntime, rig
) -> None:  # type: ignore[no-untyped-def]
    manager = rig.manager
    manager.publish = lambda event: (rig.events.append(event), runtime.publish(event))
    async with app.run_test() as pilot:
        app.run_slash("sandbox")
        await _answer(pilot, app, runtime, manager, SpaceSandboxStatus)
        await wait_for(pilot, lambda: "No sandbox in this session" in chat_text(app))

        box = await manager.create("t4-small")
        await manager.client(wait_s=30)
        app.run_slash("sandbox", "status")
        await _answer(pilot, app, runtime, manager, SpaceSandboxStatus)
        await wait_for(pilot, lambda: "lifetime left" in chat_text(app))
        assert "t4-small" in chat_text(app) and "$0.40/h" in chat_text(app)

        app.run_slash("sandbox", "stop")
        await _answer(pilot, app, runtime, manager, SpaceSandboxStop)
        await wait_for(
            pilot, lambda: f"Deleted the Space {box.repo_id}" in chat_text(app), tries=3000
        )
        assert rig.spaces.deleted == [box.repo_id]

        app.run_slash("sandbox", "now please")
        await wait_for(pilot, lambda: "Unknown /sandbox argument" in chat_text(app))
        assert not runtime.ops_of(SpaceSandboxStop) and not runtime.ops_of(SpaceSandboxStatus)
