"""Money on screen: the status line, /cost, /budget and the /model catalog picker.

An unpriced model call must never read as $0.00; cache hits and savings show in /cost;
the /model picker fills in providers, prices, window and tool support when the
catalog answer arrives.
"""

from __future__ import annotations

from textual.widgets import OptionList

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.screens.picker import PickerScreen
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime


def last_notice_text(app: MLInternApp) -> str:
    found = list(app.chat.query(NoticeBlock))
    return found[-1].text if found else ""


def status_text(app: MLInternApp) -> str:
    return str(app.status.render())


async def test_unpriced_spend_never_shows_as_zero_dollars(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(140, 40)) as pilot:
        runtime.publish(p.Spend(llm_usd=0.0, jobs_usd=0.0, budget_usd=5.0, unpriced_calls=2))
        await wait_for(pilot, lambda: app.status.unpriced_calls == 2)
        text = status_text(app)
        assert "unpriced" in text and "$0.00" not in text.replace("/$5.00", "")

        runtime.publish(p.Spend(llm_usd=0.5, jobs_usd=0.0, unpriced_calls=1))
        await wait_for(pilot, lambda: "$0.50+unpriced" in status_text(app))

        runtime.publish(p.Spend(llm_usd=0.5, jobs_usd=0.0, estimated_calls=3))
        await wait_for(pilot, lambda: "~$0.50" in status_text(app))

        runtime.publish(p.Spend(llm_usd=0.0, jobs_usd=0.0, unpriced_calls=4, budget_usd=5.0))
        await wait_for(pilot, lambda: app.status.unpriced_calls == 4)
        app.run_slash("cost")
        await wait_for(pilot, lambda: "Unpriced" in last_notice_text(app))
        report = last_notice_text(app)
        assert "Spent unpriced" in report and "4 calls with no known price" in report
        assert "unpriced calls cannot be counted" in report
        app.run_slash("budget")
        await wait_for(pilot, lambda: "Budget $5.00; spent unpriced" in last_notice_text(app))


async def test_cost_reports_cache_hits_and_savings(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(140, 40)) as pilot:
        runtime.publish(
            p.Spend(
                llm_usd=0.12,
                jobs_usd=0.0,
                llm_calls=10,
                prompt_tokens=100_000,
                completion_tokens=2_000,
                cached_tokens=80_000,
                cache_write_tokens=5_000,
                cache_saved_usd=0.2125,
            )
        )
        await wait_for(pilot, lambda: app.status.llm_usd == 0.12)
        app.run_slash("cost")
        await wait_for(pilot, lambda: "prompt cache" in last_notice_text(app))
        report = last_notice_text(app)
        assert "model calls $0.12 (10 calls)" in report
        assert "100k in, 2k out" in report and "80% hits (80k read, 5k written)" in report
        assert "saved $0.21" in report


async def test_model_picker_fills_in_the_catalog(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(140, 40)) as pilot:
        app.run_slash("model")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        await wait_for(pilot, lambda: runtime.ops_of(p.ListModels))
        runtime.publish(
            p.ModelCatalog(
                models=[
                    p.ModelInfo(
                        id="test/model",
                        current=True,
                        in_catalog=True,
                        providers=["novita", "together"],
                        provider="novita",
                        price_in=0.6,
                        price_out=2.5,
                        context=131_072,
                        tools=True,
                    ),
                    p.ModelInfo(
                        id="test/other",
                        in_catalog=True,
                        warnings=["no provider serves test/other right now (none is live)"],
                    ),
                    p.ModelInfo(id="[bold]odd[/bold]", kind="native", price_in=3, price_out=15),
                ],
                source="router catalog, fetched just now",
            )
        )
        options = app.screen.query_one(OptionList)
        await wait_for(pilot, lambda: options.option_count == 3 and "novita" in labels(options))
        text = labels(options)
        assert "2 live: novita, together" in text and "$0.6/$2.5 per M (novita)" in text
        assert "128k ctx" in text and "tools" in text
        assert "no provider serves test/other" in text
        assert "[bold]odd[/bold] · $3/$15 per M" in text  # shown as typed, not as markup
        footnote = app.screen.query_one("#picker-footnote")
        assert "router catalog, fetched just now" in str(footnote.render())
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: runtime.ops_of(p.SetModel))
        assert runtime.ops_of(p.SetModel)[0].model == "test/other"


def labels(options: OptionList) -> str:
    return "\n".join(
        str(options.get_option_at_index(i).prompt) for i in range(options.option_count)
    )
