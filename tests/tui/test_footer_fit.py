"""The footer's key hints fit an 80-column terminal: every hint is drawn whole.

Enter (send) and Ctrl+J (new line) are named by the prompt's placeholder and the approval
keys by the drawer's own last line, so the footer keeps its room for the keys nothing else
names (F1 help and Ctrl+P palette last of all).
"""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets.approval import CHOOSE_KEYS
from ml_intern_tui.tui.widgets.prompt import IDLE_PLACEHOLDER
from tui import scenes
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime, make_config


def footer_hints(app: MLInternApp) -> tuple[list[str], list[str]]:
    """Every hint in the footer, and those not drawn whole."""
    footer = app.screen.query_one(Footer)
    keys = list(footer.query(FooterKey))
    cut = [k.description for k in keys if k.region.width == 0 or k.region.right > 80]
    return [key.description for key in keys], cut


def footer_laid_out(app: MLInternApp) -> bool:
    """The footer's first key has been placed (under load the first frames come later);
    a key that does not fit stays unplaced, so only the first one is waited for."""
    keys = list(app.screen.query_one(Footer).query(FooterKey))
    return bool(keys) and keys[0].region.width > 0


async def test_every_footer_hint_is_whole_at_80_columns() -> None:
    app = MLInternApp(FakeRuntime(make_config()), clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        await wait_for(pilot, lambda: footer_laid_out(app))
        await pilot.pause()
        hints, cut = footer_hints(app)
        assert "Help" in hints and "Palette" in hints
        assert cut == [], f"hints cut off at 80 columns: {cut}"
        # what left the footer is still said on screen, by the prompt
        assert "Enter sends" in IDLE_PLACEHOLDER and "Ctrl+J new line" in IDLE_PLACEHOLDER
        assert "Send" not in hints and "New line" not in hints


async def test_while_an_approval_waits_the_footer_still_fits() -> None:
    runtime = FakeRuntime(make_config())
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        runtime.publish(p.TurnStarted(text="Train it", ts=scenes.at(0)))
        scenes.approval(runtime, two=True)
        await wait_for(pilot, lambda: app.drawer.is_open and app.focused is app.drawer)
        await wait_for(pilot, lambda: footer_laid_out(app))
        await pilot.pause()
        hints, cut = footer_hints(app)
        assert cut == [], f"hints cut off at 80 columns: {cut}"
        assert "Help" in hints and "Approve" not in hints
        # the drawer names its keys itself
        assert all(f"[b]{key}[/]" in CHOOSE_KEYS for key in "ynafr")
