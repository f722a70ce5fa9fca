"""What a local model server says about itself: ``GET {base}/models`` (OpenAI-compatible).

llama.cpp reports the window it runs with (``n_ctx``, or only the model's trained
``meta.n_ctx_train``), vLLM its ``max_model_len``; the answer is read once per server
and never delays anything (the caller runs it in the background, with a short timeout).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT_S = 3.0
MAX_BYTES = 1_000_000
"""A model listing larger than this is not one (a misdirected URL): ignored."""


async def fetch_model_listing(
    api_base: str, api_key: str | None = None, *, timeout_s: float = LOOKUP_TIMEOUT_S
) -> dict[str, Any] | None:
    """The JSON of ``GET {api_base}/models``, or ``None`` (unreachable, not JSON, too big,
    or slower than ``timeout_s`` in all: a server dripping bytes cannot hold it)."""
    try:
        return await asyncio.wait_for(_fetch(api_base, api_key, timeout_s), timeout_s)
    except TimeoutError:
        log.debug("model listing %s: no answer in %ss", api_base, timeout_s)
        return None


async def _fetch(api_base: str, api_key: str | None, timeout_s: float) -> dict[str, Any] | None:
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    url = api_base.rstrip("/") + "/models"
    try:
        # Made in a thread: the first client of a process imports httpx's transport and
        # builds an SSL context (~0.3 s), right when the user's first call is due.
        client = await asyncio.to_thread(
            httpx.AsyncClient, timeout=timeout_s, follow_redirects=False
        )
        async with client, client.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                return None
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:  # read no further than that
                    return None
        body = json.loads(bytes(data))
    except Exception as exc:  # offline, refused, not JSON: the window is learned otherwise
        log.debug("model listing %s: %s", url, exc)
        return None
    return body if isinstance(body, dict) else None
