"""One place decides the sessions directory and where run data goes."""

from __future__ import annotations

import sys
from pathlib import Path

from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.paths import configured_sessions_dir, data_dir, run_data_dir, sessions_dir


def test_default_and_configured_sessions_directory(tmp_path: Path) -> None:
    default = AppConfig()
    assert configured_sessions_dir(default) == sessions_dir() == data_dir() / "sessions"
    assert run_data_dir(default) == data_dir()
    custom = AppConfig.model_validate({"sessions": {"dir": str(tmp_path / "s")}})
    assert configured_sessions_dir(custom) == tmp_path / "s"
    assert run_data_dir(custom) == tmp_path  # job and MCP logs sit beside the sessions


def test_headless_takes_its_exit_codes_without_importing_the_cli() -> None:
    import subprocess

    code = "import sys, ml_intern_tui.headless; print('ml_intern_tui.cli' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
