"""The ``user_shell`` op (kept apart so ``protocol.py`` stays under the module size cap)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class UserShell(BaseModel):
    """``!cmd`` typed by the user: run it in the sandbox, no approval, add it to context."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["user_shell"] = "user_shell"
    command: str
