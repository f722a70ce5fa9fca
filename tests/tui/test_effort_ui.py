"""Reasoning effort on screen: /effort (completion, ops, report), the header, /status,
and — on the real runtime and the fake router — a runtime heal shown as a notice."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.openai_server import EffortPolicy, Reply
from fakes.router_server import FakeRouter

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.effort import EffortStore, LevelBook
from ml_intern_tui.core.effort_control import route_key
from ml_intern_tui.core.models import resolve_model
from ml_intern_tui.paths import cache_dir
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime

KIMI = "moonshotai/Kimi-K2.6"


def notices(app: MLInternApp) -> list[NoticeBlock]:
    return list(app.chat.query(NoticeBlock))


def last_notice(app: MLInternApp) -> str:
    found = notices(app)
    return found[-1].text if found else ""


async def test_effort_completes_its_levels_and_submits_the_op(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test() as pilot:
        await pilot.press("slash", *"effort", "space", "x", "h")
        popup = app.prompt_bar.popup
        await wait_for(pilot, lambda: popup.display and popup.option_count == 1)
        await pilot.press("tab")
        assert app.prompt.text == "/effort xhigh"
        await pilot.press("enter")
        await wait_for(pilot, lambda: runtime.ops_of(p.SetEffort))
        assert runtime.ops_of(p.SetEffort) == [p.SetEffort(level="xhigh")]

        app.run_slash("effort", "off")
        await wait_for(pilot, lambda: len(runtime.ops_of(p.SetEffort)) == 2)
        assert runtime.ops_of(p.SetEffort)[-1].level is None

        app.run_slash("effort", "hihg")
        await wait_for(pilot, lambda: "hihg" in last_notice(app))
        assert "use minimal, low, medium, high, xhigh, max or off" in last_notice(app)
        assert len(runtime.ops_of(p.SetEffort)) == 2


async def test_header_effort_and_status_report(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(160, 40)) as pilot:
        runtime.publish(runtime.ready())
        await wait_for(pilot, lambda: app.header.session_id)
        runtime.publish(
            p.EffortStatus(model="test/model", preference="max", level="max", state="probing")
        )
        await wait_for(pilot, lambda: "effort max…" in app.header.render().plain)
        runtime.publish(
            p.EffortStatus(
                model="test/model",
                preference="max",
                level="high",
                state="probed",
                accepted=["high"],
                refused=["xhigh", "max"],
            )
        )
        await wait_for(pilot, lambda: "effort max→high" in app.header.render().plain)
        app.run_slash("effort")
        await wait_for(pilot, lambda: "Reasoning effort:" in last_notice(app))
        assert last_notice(app) == (
            "Reasoning effort: max; test/model gets 'high' (checked; takes high; refused xhigh, max)."
        )
        app.run_slash("status")
        await wait_for(pilot, lambda: last_notice(app).startswith("Model test/model"))
        assert "Reasoning effort: max; test/model gets 'high'" in last_notice(app)
        # a local model gets none: the header says nothing about it
        runtime.publish(p.EffortStatus(model="test/model", preference="high", state="not_sent"))
        await wait_for(pilot, lambda: "effort" not in app.header.render().plain)


async def test_a_runtime_heal_shows_as_a_notice_in_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_intern_tui.config.schema import AppConfig
    from ml_intern_tui.runtime.agent import build_runtime

    workspace = tmp_path / "work"
    workspace.mkdir()
    with FakeRouter() as router:
        monkeypatch.setenv("HF_TOKEN", "hf_fake_router_token")
        route = resolve_model(KIMI, hf_token="x", router_base=router.base_url)
        book = LevelBook()
        book.accept("max")  # the books say max; today the provider takes up to high
        EffortStore(cache_dir() / "effort.json").save(route_key(route), book)
        router.effort = EffortPolicy(accepted=("low", "medium", "high"))
        router.enqueue(Reply(text="ok"), Reply(text="Answered at high."))
        settings = AppConfig.model_validate(
            {
                "model": KIMI,
                "reasoning_effort": "max",
                "llm": {"hf_router_base": router.base_url, "max_retries": 0},
            }
        )
        app = MLInternApp(build_runtime(settings, cwd=workspace), clock=fixed_clock)
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_for(pilot, lambda: "effort max" in app.header.render().plain, tries=3000)
            app.prompt.set_text("hello")
            await pilot.press("enter")
            await wait_for(pilot, lambda: not app.busy and router.requests_count >= 3, tries=3000)
            heal = [b for b in notices(app) if "refused 'max'" in b.text]
            assert len(heal) == 1 and heal[0].level == "warning"
            assert "using 'high' from now on" in heal[0].text
            await wait_for(pilot, lambda: "effort max→high" in app.header.render().plain)
            assert [r.body.get("reasoning_effort") for r in router.requests] == [
                "max",
                "high",
                "high",
            ]
            await pilot.press("ctrl+q")
            await wait_for(pilot, lambda: not app.is_running, tries=1000)
