"""The start-up credential check and ``/login``: a background service of the app.

At start it asks ``core/first_run.missing_credentials`` (off the event loop: it may ask
huggingface_hub for a stored token) and publishes ``credential_status``, which the app
shows as a banner above the chat before the first message. ``login`` ops (``/login``)
are taken here: the token goes to ``store_hf_token`` (huggingface_hub checks it with the
Hub and stores it), the Hub client switches to it, its value joins the known secrets
(scrubbed from anything shown or written), and the status is sent again. The token
itself is never published, logged or journaled: only its owner's name is said.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ml_intern_tui.core import known_secrets
from ml_intern_tui.core.first_run import LoginError, missing_credentials, store_hf_token
from ml_intern_tui.core.login_op import Login
from ml_intern_tui.core.protocol import CredentialStatus, EventBase, Notice, SetModel

log = logging.getLogger(__name__)


class CredentialService:
    """Says which credential the model lacks, and stores an HF token on ``/login``."""

    name = "credentials"

    def __init__(
        self,
        settings: Any,
        publish: Callable[[EventBase], None],
        *,
        hub: Any = None,
        model: Callable[[], str] | None = None,
    ) -> None:
        self.settings = settings
        self.publish = publish
        self.hub = hub
        self._model = model or (lambda: str(settings.model))
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        await self.check(self._model())

    async def check(self, model: str) -> list[str]:
        """Publish what ``model`` lacks (an empty list clears the banner)."""
        try:
            missing = await asyncio.to_thread(missing_credentials, model, self.settings)
        except Exception:  # a check that fails says nothing rather than something wrong
            log.debug("credential check failed", exc_info=True)
            return []
        self.publish(CredentialStatus(model=model, missing=missing))
        return missing

    def handle_op(self, op: Any) -> bool:
        """Take ``login``; watch ``set_model`` (the loop still handles it) to check again."""
        if isinstance(op, Login):
            self._spawn(self.login(op.token.get_secret_value()))
            return True
        if isinstance(op, SetModel):
            self._spawn(self.check(op.model))
        return False

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def login(self, token: str) -> None:
        """Store ``token``; one notice says who is logged in, or why it was refused."""
        endpoint = getattr(getattr(self.settings, "hub", None), "endpoint", None)
        # Scrubbed from now on, even from an error that might quote it.
        known_secrets.register(token.strip(), "HF_TOKEN")
        self.publish(Notice(text="Checking the token with the Hugging Face Hub…"))
        try:
            done = await asyncio.to_thread(store_hf_token, token, endpoint=endpoint)
        except LoginError as exc:
            self.publish(Notice(level="error", text=f"/login: {exc}"))
            return
        except Exception as exc:  # never a traceback, never the token
            log.debug("login failed", exc_info=True)
            self.publish(Notice(level="error", text=f"/login failed: {type(exc).__name__}"))
            return
        if self.hub is not None:
            self.hub.use_token(token.strip())
        self.publish(Notice(level="success", text=done))
        await self.check(self._model())

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
