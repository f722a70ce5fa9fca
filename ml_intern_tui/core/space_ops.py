"""The ops of ``/sandbox`` (part of ``protocol.Op``; here so protocol.py stays small)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class SpaceSandboxStatus(BaseModel):
    """Ask how the remote sandbox Space is doing (``/sandbox``; answered by a ``notice``)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["space_sandbox_status"] = "space_sandbox_status"


class SpaceSandboxStop(BaseModel):
    """Delete the remote sandbox's Space now (``/sandbox stop``; answered by a ``notice``)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["space_sandbox_stop"] = "space_sandbox_stop"
