"""The one place that talks to the Hugging Face Hub through ``huggingface_hub``.

``HubClient`` builds ``HfApi`` lazily (endpoint from config / ``HF_ENDPOINT``, token from
huggingface_hub's usual sources), resolves the user and their orgs once, and runs every
blocking call in a thread so the event loop never waits on the network. Tools get it as
``require(ctx.services.hub, "hub")``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ml_intern_tui.core.tool import ToolError

T = TypeVar("T")

NO_TOKEN = (
    "no Hugging Face token: set HF_TOKEN or run `hf auth login` "
    "(local models and local tools keep working without one)"
)


@dataclass
class HubUser:
    name: str
    orgs: list[str] = field(default_factory=list)
    fullname: str = ""


class HubClient:
    """Lazy ``HfApi`` plus a cached identity; blocking calls run off the event loop."""

    def __init__(
        self, endpoint: str, token: str | None = None, *, token_from_env: bool = True
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self._token_from_env = token_from_env and token is None
        self._api: Any = None
        self._user: HubUser | None = None
        self._user_lock = asyncio.Lock()

    @property
    def token(self) -> str | None:
        if self._token is None and self._token_from_env:
            self._token_from_env = False
            try:
                from huggingface_hub import get_token

                self._token = get_token()
            except Exception:  # a broken token cache means "no token", not a crash
                self._token = None
        return self._token

    def use_token(self, token: str) -> None:
        """Switch to ``token`` (after ``/login``): the next call builds a new ``HfApi``."""
        self._token, self._token_from_env = token, False
        self._api, self._user = None, None

    def require_token(self) -> str:
        """The token, or a ToolError the model (and the user) can act on."""
        token = self.token
        if not token:
            raise ToolError(NO_TOKEN)
        return token

    @property
    def api(self) -> Any:
        """``huggingface_hub.HfApi`` for this endpoint and token (imported on first use)."""
        if self._api is None:
            from huggingface_hub import HfApi

            self._api = HfApi(endpoint=self.endpoint, token=self.token or False)
        return self._api

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking huggingface_hub call in a thread."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def whoami(self) -> HubUser:
        """The token's user and orgs (asked once per session)."""
        async with self._user_lock:
            if self._user is None:
                self.require_token()
                info = await self.run(self.api.whoami)
                orgs = [o.get("name", "") for o in info.get("orgs") or [] if isinstance(o, dict)]
                self._user = HubUser(
                    name=str(info.get("name") or ""),
                    orgs=[o for o in orgs if o],
                    fullname=str(info.get("fullname") or ""),
                )
            return self._user

    def url(self, path: str) -> str:
        return f"{self.endpoint}/{path.lstrip('/')}"


def hub_error_message(exc: BaseException) -> str:
    """One line for a failed Hub call (status, what the Hub said)."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"Hub request failed ({status}): {detail}" if status else f"Hub request failed: {detail}"
