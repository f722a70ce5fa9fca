"""Themes from TOML (bundled and the user's), and the layout at different sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_intern_tui.paths import user_themes_dir
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.themes import ThemeFileError, discover_themes, theme_from_toml
from tui import scenes
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime


def test_bundled_themes_load() -> None:
    loaded = discover_themes()
    names = {t.name for t in loaded.themes}
    assert {"ml-intern-dark", "ml-intern-light"} <= names
    assert loaded.errors == []
    light = next(t for t in loaded.themes if t.name == "ml-intern-light")
    assert light.dark is False


def test_bad_theme_files_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("primary = 3\n")
    with pytest.raises(ThemeFileError, match=r"bad\.toml"):
        theme_from_toml(bad)
    bad.write_text('primary = "#fff"\nsparkles = true\n')
    with pytest.raises(ThemeFileError, match="sparkles"):
        theme_from_toml(bad)


async def test_user_theme_is_registered_and_selected(runtime: FakeRuntime) -> None:
    folder = user_themes_dir()
    folder.mkdir(parents=True)
    (folder / "midnight.toml").write_text(
        '# my theme\nprimary = "#88c0d0"\nbackground = "#000010"\n[variables]\n"footer-key-foreground" = "#88c0d0"\n'
    )
    (folder / "broken.toml").write_text("primary = [")
    runtime.settings.ui.theme = "midnight"
    app = MLInternApp(runtime, clock=fixed_clock)
    assert "midnight" in app.available_themes
    assert app.theme == "midnight"
    assert any("broken.toml" in error for error in app.theme_errors)


async def test_unknown_configured_theme_falls_back(runtime: FakeRuntime) -> None:
    runtime.settings.ui.theme = "no-such-theme"
    app = MLInternApp(runtime, clock=fixed_clock)
    assert app.theme == "ml-intern-dark"
    assert any("no-such-theme" in error for error in app.theme_errors)


async def test_wide_layout_shows_side_panes_and_toggles(app: MLInternApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        side = app.query_one("#side")
        assert side.display and side.size.width > 0
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: side.size.width == 0 or not side.display)
        assert app.chat.size.width > 100
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: side.size.width > 0)


async def test_narrow_layout_collapses_side_panes(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        scenes.usage(runtime)
        scenes.job(runtime)
        side = app.query_one("#side")
        await pilot.pause()
        assert app.screen.has_class("-narrow")
        assert side.region.width == 0
        assert app.chat.region.width == 80
        await pilot.press("ctrl+t")  # the side panes replace the chat, nothing overlaps
        await wait_for(pilot, lambda: side.region.width > 0)
        assert app.chat.region.width == 0
        prompt = app.prompt_bar.region
        assert not side.region.overlaps(prompt)
        assert not app.status.region.overlaps(prompt)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: app.chat.region.width == 80)


async def test_focus_next_pane_cycles(app: MLInternApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        seen = []
        for _ in range(4):
            await pilot.press("ctrl+n")
            seen.append(app.focused)
        assert seen == [app.chat.scroller, app.tools, app.jobs.job_list, app.prompt]
