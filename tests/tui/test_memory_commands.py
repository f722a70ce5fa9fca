"""``/init`` asks the agent to draft AGENTS.md; ``/memory`` edits it; ``/status`` lists it."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.memory_commands import INIT_PROMPT
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime


def last_notice(app: MLInternApp) -> NoticeBlock | None:
    found = list(app.chat.query(NoticeBlock))
    return found[-1] if found else None


@pytest.fixture
def project(tmp_path: Path, runtime: FakeRuntime) -> Path:
    (tmp_path / ".git").mkdir()
    runtime.at_start = [runtime.ready(cwd=str(tmp_path))]
    return tmp_path


async def test_init_sends_the_drafting_prompt(project: Path, runtime: FakeRuntime) -> None:
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test() as pilot:
        app.run_slash("init", "mention the eval script")
        await wait_for(pilot, lambda: runtime.ops)
        (op,) = runtime.ops
        assert isinstance(op, p.UserInput) and op.text.startswith(INIT_PROMPT)
        assert op.text.endswith("Also: mention the eval script") and app.busy
        app.run_slash("init")
        await wait_for(pilot, lambda: last_notice(app))
        assert "working" in last_notice(app).text  # type: ignore[union-attr]
        assert len(runtime.ops) == 1


async def test_memory_opens_the_editor_and_status_lists_the_file(
    project: Path, runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = project / "editor.py"
    script.write_text("import sys\nopen(sys.argv[1], 'a').write('use uv for installs\\n')\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.delenv("VISUAL", raising=False)
    app = MLInternApp(runtime, clock=fixed_clock)

    @contextlib.contextmanager
    def no_terminal_switch() -> Iterator[None]:  # the test driver has no terminal to hand over
        yield

    monkeypatch.setattr(app, "suspend", no_terminal_switch)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.header.cwd == str(project))
        app.run_slash("memory")
        await wait_for(pilot, lambda: (project / "AGENTS.md").exists() and last_notice(app))
        assert (project / "AGENTS.md").read_text() == "use uv for installs\n"
        assert "next session" in last_notice(app).text  # type: ignore[union-attr]
        app.run_slash("status")
        await wait_for(pilot, lambda: "Project memory" in last_notice(app).text)  # type: ignore[union-attr]
        assert str(project / "AGENTS.md") in last_notice(app).text  # type: ignore[union-attr]


async def test_memory_without_a_terminal_says_where_the_file_is(
    project: Path, runtime: FakeRuntime
) -> None:
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.header.cwd == str(project))
        app.run_slash("memory")
        await wait_for(pilot, lambda: last_notice(app))
        notice = last_notice(app)
        assert notice is not None and notice.level == "error"
        assert str(project / "AGENTS.md") in notice.hint
