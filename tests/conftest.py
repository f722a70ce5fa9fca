"""Test-wide setup: offline-safe environment and per-test data/config directories."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from support import pid_gone, wait_until

from ml_intern_tui import envdefaults

envdefaults.apply()
os.environ.setdefault("ML_INTERN_TEST", "1")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test away from the real user's config, data and HF cache."""
    base = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "cache"))
    monkeypatch.setenv("HF_HOME", str(base / "hf"))
    real_services = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "GITHUB_TOKEN", "ML_INTERN_CONFIG")
    real_services += (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_API_BASE",
        "ANTHROPIC_BASE_URL",
        "OPENAI_API_KEY",
        "OPENAI_API_BASE",
        "OPENAI_BASE_URL",
    )
    slack = ("SLACK_BOT_TOKEN", "SLACK_CHANNEL", "SLACK_CHANNEL_ID", "SLACK_WEBHOOK_URL")
    for var in real_services + slack:
        monkeypatch.delenv(var, raising=False)
    for var in list(os.environ):
        if var.startswith("ML_INTERN_") and var != "ML_INTERN_TEST":
            monkeypatch.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def _no_known_secrets() -> Iterator[None]:
    """Secret values registered by one test (a runtime wired in-process) stay in it."""
    from ml_intern_tui.core import known_secrets

    known_secrets.clear()
    yield
    known_secrets.clear()


@pytest.fixture(autouse=True)
def _static_job_prices() -> Iterator[None]:
    """Live job prices a test loaded must not leak into the next test."""
    from ml_intern_tui.core.cost import JOB_PRICES

    yield
    JOB_PRICES.clear()


@pytest.fixture
def python_exe() -> str:
    return sys.executable


@pytest.fixture(name="pid_gone")
def _pid_gone_fixture() -> Callable[[int], bool]:
    return pid_gone


@pytest.fixture(name="wait_until")
def _wait_until_fixture() -> Callable[..., Awaitable[None]]:
    return wait_until
