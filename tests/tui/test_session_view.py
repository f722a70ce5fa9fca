"""One view of the session: the header, the status line, /status, /cost and /budget agree.

The app reads the validated ``AppConfig`` (no defaults of its own): what the config says
is what the panes use, and config text is drawn terminal-safe like any event.
"""

from __future__ import annotations

from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.session_view import SessionView
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime, make_config


def notices(app: MLInternApp) -> list[str]:
    return [block.text for block in app.chat.query(NoticeBlock)]


def test_the_view_folds_what_the_core_says_and_ignores_the_rest() -> None:
    view = SessionView.from_config(make_config(model="org/configured", budget_usd=3))
    assert (view.model, view.mode, view.budget_usd, view.session_id) == (
        "org/configured",
        "ask",
        3.0,
        "",
    )
    ready = p.Ready(model="org/live", mode="auto", tools=[], cwd="/w", context_limit=64_000)
    ready.session_id = "s-1"
    assert view.fold(ready)
    assert (view.model, view.mode, view.session_id, view.cwd, view.limit) == (
        "org/live",
        "auto",
        "s-1",
        "/w",
        64_000,
    )
    assert view.fold(p.ContextUsage(used=1_000, limit=32_000, threshold=28_000))
    assert (view.used, view.limit, view.threshold) == (1_000, 32_000, 28_000)
    assert view.fold(p.Spend(llm_usd=0.25, jobs_usd=1.0, budget_usd=None, unpriced_calls=2))
    assert (view.llm_usd, view.jobs_usd, view.unpriced_calls, view.budget_usd) == (
        0.25,
        1.0,
        2,
        None,  # /budget off: the spend event says so
    )
    assert not view.fold(p.AssistantDelta(text="hi"))


def test_before_any_spend_the_view_reports_zero_against_the_configured_budget() -> None:
    view = SessionView.from_config(make_config(budget_usd=2.5))
    spend = view.spend_now()
    assert (spend.llm_usd, spend.jobs_usd, spend.budget_usd) == (0.0, 0.0, 2.5)
    assert view.spend is None  # /cost says nothing was spent yet, not "$0.00 of events"


async def test_header_status_line_and_commands_read_the_same_figures() -> None:
    runtime = FakeRuntime(make_config(budget_usd=4))
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        assert "$0.00/$4.00" in str(app.status.render())  # the configured budget, at once
        runtime.publish(
            p.Ready(model="org/switched", mode="yolo", tools=[], cwd="/p", context_limit=100_000),
            p.ContextUsage(used=45_000, limit=100_000, threshold=90_000),
            p.Spend(llm_usd=1.5, jobs_usd=0.5, budget_usd=6.0),
        )
        await wait_for(pilot, lambda: "$2.00" in str(app.status.render()))
        header, status = str(app.header.render()), str(app.status.render())
        assert "org/switched" in header and "yolo" in header and "/p" in header
        assert "45%" in status and "/$6.00" in status and "org/switched" in status
        app.run_slash("status")
        await wait_for(pilot, lambda: any("Model org/switched" in n for n in notices(app)))
        report = notices(app)[-1]
        assert "mode yolo" in report and "session s-test" in report
        assert "Context 45k/100k tokens (compacts at 90k)" in report
        assert "Spend $2.00 of $6.00" in report and "Working directory /p" in report
        app.run_slash("cost")
        await wait_for(pilot, lambda: "$2.00" in notices(app)[-1] and notices(app)[-1] != report)
        app.run_slash("budget")
        await wait_for(pilot, lambda: "Budget $6.00; spent $2.00." in notices(app)[-1])


async def test_the_app_uses_the_configs_own_defaults() -> None:
    """No shadow defaults: a config that leaves ``[ui]`` out gets the schema's values."""
    runtime = FakeRuntime(AppConfig.model_validate({"model": "org/plain"}))
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        defaults = AppConfig().ui
        assert app.chat.max_blocks == defaults.max_chat_blocks == 200
        assert app.chat.show_reasoning is defaults.show_reasoning
        assert app.theme == defaults.theme
        assert app.attention.mode == defaults.notify


async def test_hostile_config_text_is_drawn_terminal_safe() -> None:
    """A model id or suggested model with escape sequences (a project config, a typo'd
    paste) is shown as text before any event arrives, never sent to the terminal."""
    evil = "org/m\x1b]52;c;cHduZWQ=\x07x"
    settings = make_config(suggested_models=[evil, "org/ok"])
    settings.model = evil  # as a loaded config could hold it (the validator takes it)
    runtime = FakeRuntime(settings)
    app = MLInternApp(runtime, clock=fixed_clock, serve=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        header = str(app.header.render())
        assert "\x1b" not in header and "\x07" not in header and "org/m" in header
        choices = app.arg_choices("models")
        assert choices and all("\x1b" not in c and "\x07" not in c for c in choices)
        assert "org/ok" in choices
