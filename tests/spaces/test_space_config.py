"""``[sandbox.space] poll_s``: how often the app checks a sandbox, bounded and wired."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_intern_tui.config import ConfigError, load_config
from ml_intern_tui.spaces.manager import Timing
from ml_intern_tui.spaces.wiring import sandbox_manager


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    user = tmp_path / "user.toml"
    user.write_text(text, encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    return load_config(cwd=project, env={"ML_INTERN_CONFIG": str(user), "HOME": str(tmp_path)})


def test_poll_s_sets_how_often_the_hub_and_the_meter_are_checked(tmp_path: Path) -> None:
    settings = _load(tmp_path, "[sandbox.space]\npoll_s = 0.2\n").settings
    manager = sandbox_manager(
        settings, jobs=None, hub=None, publish=lambda e: None, spend=None, budget_usd=lambda: None
    )
    assert manager.timing.runtime_poll_s == 0.2
    assert manager.timing.meter_s == pytest.approx(0.4)
    assert manager.timing.health_poll_s == 0.2


def test_default_poll_is_the_production_timing(tmp_path: Path) -> None:
    settings = _load(tmp_path, "").settings
    assert settings.sandbox.space.poll_s == 5.0
    assert Timing.every(5.0) == Timing()


@pytest.mark.parametrize("value", ["0", "0.01", "-1", "120", '"fast"'])
def test_poll_s_out_of_bounds_is_one_clear_problem(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, f"[sandbox.space]\npoll_s = {value}\n")
    assert "poll_s" in str(caught.value)
