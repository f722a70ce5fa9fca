"""The footer's key hints fit an 80-column terminal: every hint is drawn whole.

Enter (send) and Ctrl+J (new line) are named by the prompt's placeholder, so the footer
keeps its room for the keys nothing else names (F1 help, Ctrl+P palette last of all).
"""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets.prompt import IDLE_PLACEHOLDER
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime, make_config


async def test_every_footer_hint_is_whole_at_80_columns() -> None:
    app = MLInternApp(FakeRuntime(make_config()), clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        await pilot.pause()
        footer = app.screen.query_one(Footer)
        keys = list(footer.query(FooterKey))
        descriptions = [key.description for key in keys]
        assert "Help" in descriptions and "Palette" in descriptions
        right_edge = footer.region.right
        cut = [k.description for k in keys if k.region.width == 0 or k.region.right > right_edge]
        assert cut == [], f"hints cut off at 80 columns: {cut}"
        # what left the footer is still said on screen, by the prompt
        assert "Enter sends" in IDLE_PLACEHOLDER and "Ctrl+J new line" in IDLE_PLACEHOLDER
        assert "Send" not in descriptions and "New line" not in descriptions
