"""The app on the real runtime and a llama.cpp-like server: the gauge shows the learned window."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.llama_server import FakeLlamaCpp
from fakes.openai_server import Reply

from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets.chat import NoticeBlock
from tui.conftest import fixed_clock, wait_for

N_CTX = 16_384
PASTE = "".join(f"row {i}: loss=0.{i:04d} lr=3e-4 step={i * 10}\n" for i in range(1200))


async def test_gauge_shows_the_window_learned_from_an_overflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_intern_tui.config.schema import AppConfig
    from ml_intern_tui.runtime.agent import build_runtime

    workspace = tmp_path / "work"
    workspace.mkdir()
    with FakeLlamaCpp(n_ctx=N_CTX, listing="plain") as fake:
        monkeypatch.setenv("LLAMACPP_BASE_URL", fake.base_url)
        fake.enqueue(Reply(text="The loss goes down steadily."))
        runtime = build_runtime(
            AppConfig.model_validate({"model": "llamacpp/local-model"}), cwd=workspace
        )
        app = MLInternApp(runtime, clock=fixed_clock)
        async with app.run_test(size=(140, 45)) as pilot:
            await wait_for(pilot, lambda: app.header.session_id != "", tries=3000)
            assert app.status.limit != N_CTX  # litellm's guess before the server spoke
            app.prompt.set_text("How does this training run look?\n" + PASTE)
            await pilot.press("enter")
            await wait_for(pilot, lambda: fake.overflows >= 2, tries=3000)
            await wait_for(pilot, lambda: not app.busy and fake.requests_count >= 4, tries=3000)
            await wait_for(pilot, lambda: app.status.limit == N_CTX)
            line = app.status.render().plain
            assert "/16.4k" in line, line
            assert app.status.used <= app.status.threshold == int(N_CTX * 0.9)
            notices = " ".join(b.text for b in app.chat.query(NoticeBlock))
            assert "16,384 tokens" in notices and "too long for the context window" in notices
            await pilot.press("ctrl+q")
            await wait_for(pilot, lambda: not app.is_running, tries=1000)
