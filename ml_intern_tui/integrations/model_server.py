"""What a local model server says about itself: ``GET {base}/models`` (OpenAI-compatible).

llama.cpp reports the window it runs with (``n_ctx``, or only the model's trained
``meta.n_ctx_train``), vLLM its ``max_model_len``; the answer is read once per server
and never delays anything (the caller runs it in the background, with a short timeout).
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT_S = 3.0
MAX_BYTES = 1_000_000
"""A model listing larger than this is not one (a misdirected URL): ignored."""


async def fetch_model_listing(
    api_base: str, api_key: str | None = None, *, timeout_s: float = LOOKUP_TIMEOUT_S
) -> dict[str, Any] | None:
    """The JSON of ``GET {api_base}/models``, or ``None`` (unreachable, not JSON, too big)."""
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    url = api_base.rstrip("/") + "/models"
    try:
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as client:
            response = await client.get(url, headers=headers)
        if response.status_code != 200 or len(response.content) > MAX_BYTES:
            return None
        body = response.json()
    except Exception as exc:  # offline, refused, not JSON: the window is learned otherwise
        log.debug("model listing %s: %s", url, exc)
        return None
    return body if isinstance(body, dict) else None
