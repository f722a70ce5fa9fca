"""Where files live (XDG) and how the bundled configs and themes are found."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ml_intern_tui import paths, resources

ROOT = Path(__file__).resolve().parents[2]


def test_xdg_directories(tmp_path: Path) -> None:
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "c"),
        "XDG_DATA_HOME": str(tmp_path / "d"),
        "XDG_CACHE_HOME": str(tmp_path / "k"),
    }
    assert paths.config_dir(env) == tmp_path / "c" / "ml-intern-tui"
    assert paths.data_dir(env) == tmp_path / "d" / "ml-intern-tui"
    assert paths.cache_dir(env) == tmp_path / "k" / "ml-intern-tui"
    assert paths.sessions_dir(env) == tmp_path / "d" / "ml-intern-tui" / "sessions"
    assert paths.user_themes_dir(env) == tmp_path / "c" / "ml-intern-tui" / "themes"
    assert paths.user_config_path(env) == tmp_path / "c" / "ml-intern-tui" / "config.toml"


def test_unset_or_relative_xdg_falls_back_to_home(monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path.home()
    assert paths.config_dir({}) == home / ".config" / "ml-intern-tui"
    assert paths.data_dir({"XDG_DATA_HOME": "relative/dir"}) == home / ".local/share/ml-intern-tui"
    assert paths.cache_dir({}) == home / ".cache" / "ml-intern-tui"


def test_process_environment_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert paths.config_dir() == tmp_path / "ml-intern-tui"


def test_ml_intern_config_overrides_the_user_config_path(tmp_path: Path) -> None:
    env = {"ML_INTERN_CONFIG": "~/custom.toml", "XDG_CONFIG_HOME": str(tmp_path)}
    assert paths.user_config_path(env) == Path.home() / "custom.toml"


def test_project_config_path(tmp_path: Path) -> None:
    assert paths.project_config_path(tmp_path) == tmp_path / ".ml-intern" / "config.toml"


def test_bundled_configs_are_found_in_the_checkout() -> None:
    assert resources.bundled_dir("configs") == ROOT / "configs"
    assert resources.default_config_path() == ROOT / "configs" / "default.toml"
    assert resources.default_config_path().is_file()


def test_wheel_copy_wins_over_a_neighbouring_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site-packages" / "ml_intern_tui"
    (package / "_data" / "themes").mkdir(parents=True)
    (tmp_path / "site-packages" / "themes").mkdir()  # some other distribution's folder
    monkeypatch.setattr(resources, "_PACKAGE_DIR", package)
    assert resources.bundled_dir("themes") == package / "_data" / "themes"
    with pytest.raises(FileNotFoundError, match="reinstall"):
        resources.bundled_dir("configs")


def test_config_package_imports_no_heavy_library() -> None:
    code = (
        "import sys, ml_intern_tui.config, ml_intern_tui.config.writer, ml_intern_tui.paths;"
        "heavy = {'tomlkit', 'litellm', 'textual', 'huggingface_hub', 'fastmcp', 'httpx'};"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
