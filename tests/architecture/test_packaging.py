"""The version lives in one place, and the installed package reports it."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import ml_intern_tui

ROOT = Path(__file__).resolve().parents[2]


def test_the_version_is_written_once() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "ml_intern_tui.__version__"
    }
    assert importlib.metadata.version("ml-intern-tui") == ml_intern_tui.__version__
