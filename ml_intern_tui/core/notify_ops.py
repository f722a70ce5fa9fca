"""The op of ``/slack test`` (part of ``protocol.Op``; here so protocol.py stays small)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class SlackTest(BaseModel):
    """Post a test message to the Slack destinations (all, or the one named), so a person
    sees the set-up works before a real notification matters. The notifier answers with
    one ``notice`` per destination: sent, or the one-line reason it failed."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["slack_test"] = "slack_test"
    destination: str | None = None
