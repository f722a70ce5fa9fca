"""Process environment defaults that keep the dependency stack offline-safe and quiet.

Set before litellm, huggingface_hub or fastmcp are imported (see
``shared/reference/offline-stack.md``). ``setdefault`` so a user can still override.
"""

from __future__ import annotations

import os

OFFLINE_SAFE_ENV = {
    # litellm: no cost-map fetch at import, no .env loading into our process.
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_MODE": "PRODUCTION",
    # litellm: no scan of every request's messages for base64 to shorten in its logging
    # payload (we give it no logger): on a 150k-token history, a pass over ~600 kB after
    # every call, partly in a thread that holds the GIL.
    "MAX_BASE64_LENGTH_FOR_LOGGING": "0",
    # huggingface_hub: no agent-harness lookup, no experimental warnings on stderr.
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_EXPERIMENTAL_WARNING": "1",
    # fastmcp: no update check, no banner, no INFO chatter in our terminal.
    "FASTMCP_CHECK_FOR_UPDATES": "off",
    "FASTMCP_SHOW_SERVER_BANNER": "false",
    "FASTMCP_LOG_LEVEL": "ERROR",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply() -> None:
    """Apply the defaults to ``os.environ`` (idempotent)."""
    for key, value in OFFLINE_SAFE_ENV.items():
        os.environ.setdefault(key, value)
