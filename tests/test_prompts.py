"""The system prompt carries the session facts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ml_intern_tui.prompts import render_system_prompt


def test_prompt_has_date_user_cwd_and_tools() -> None:
    now = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.UTC)
    text = render_system_prompt(tools=["bash", "hf_jobs"], cwd=Path("/work/p"), user="ada", now=now)
    assert "Date: 2026-11-22 09:30 UTC" in text
    assert "User: ada (Hugging Face)" in text
    assert "Working directory: /work/p" in text
    assert "Tools (2): bash, hf_jobs" in text
    assert "push_to_hub" in text and "timeout" in text  # the jobs pre-flight checklist


def test_without_a_hub_login_the_local_account_is_named() -> None:
    text = render_system_prompt(tools=[], cwd=Path("/"))
    assert "no Hugging Face login" in text
