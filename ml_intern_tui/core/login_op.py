"""The op of ``/login`` (part of ``protocol.Op``; here so ops.py stays small).

The token is a ``SecretStr``: printed, logged or serialised, the op shows ``**********``,
never the token (only ``get_secret_value()`` gives it, to huggingface_hub's login).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr


class Login(BaseModel):
    """Store a Hugging Face token (``/login``; answered by ``credential_status`` and a
    ``notice``). Taken by the credential service, never journaled."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["login"] = "login"
    token: SecretStr
