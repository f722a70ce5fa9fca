"""A small async client for the Hugging Face dataset viewer API (datasets-server).

huggingface_hub hard-codes the viewer's URL and refuses to call it for any Hub endpoint
other than huggingface.co, so we talk to it with our own ``httpx.AsyncClient``. The base
URL comes from ``HF_DATASETS_SERVER_URL`` or ``[hub] datasets_server`` in the config.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx


DEFAULT_DATASETS_SERVER = "https://datasets-server.huggingface.co"
ENV_VAR = "HF_DATASETS_SERVER_URL"
TIMEOUT_S = 30.0


class DatasetsServerError(Exception):
    """A failed viewer request: the HTTP status (0 when unreachable) and what the server said."""

    def __init__(self, endpoint: str, status: int, message: str) -> None:
        self.endpoint = endpoint
        self.status = status
        self.message = message
        where = f"HTTP {status}" if status else "unreachable"
        super().__init__(f"{endpoint} failed ({where}): {message}")


def datasets_server_url(settings: Any = None) -> str:
    """The viewer base URL: the env var wins over the config, the public server is the default."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env.rstrip("/")
    hub = getattr(settings, "hub", None)
    configured = getattr(hub, "datasets_server", None)
    return str(configured or DEFAULT_DATASETS_SERVER).rstrip("/")


class DatasetsServerClient:
    """``async with DatasetsServerClient(url, token) as viewer: await viewer.splits(ds)``."""

    def __init__(
        self, base_url: str, token: str | None = None, *, timeout: float = TIMEOUT_S
    ) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=timeout, follow_redirects=True
        )

    async def __aenter__(self) -> DatasetsServerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, endpoint: str, **params: str | None) -> dict[str, Any]:
        """GET ``/endpoint`` with the non-empty params; the JSON object, or DatasetsServerError."""
        import httpx

        query = {k: v for k, v in params.items() if v is not None}
        try:
            response = await self._client.get(f"/{endpoint}", params=query)
        except httpx.HTTPError as exc:
            raise DatasetsServerError(
                f"/{endpoint}", 0, f"{type(exc).__name__} at {self.base_url}"
            ) from exc
        if response.status_code >= 400:
            raise DatasetsServerError(f"/{endpoint}", response.status_code, _error_text(response))
        try:
            data = response.json()
        except ValueError as exc:
            raise DatasetsServerError(
                f"/{endpoint}", response.status_code, "response is not JSON"
            ) from exc
        if not isinstance(data, dict):
            raise DatasetsServerError(
                f"/{endpoint}", response.status_code, "response is not a JSON object"
            )
        return data

    async def is_valid(self, dataset: str) -> dict[str, Any]:
        return await self.get("is-valid", dataset=dataset)

    async def splits(self, dataset: str) -> dict[str, Any]:
        return await self.get("splits", dataset=dataset)

    async def info(self, dataset: str, config: str | None = None) -> dict[str, Any]:
        return await self.get("info", dataset=dataset, config=config)

    async def first_rows(self, dataset: str, config: str, split: str) -> dict[str, Any]:
        return await self.get("first-rows", dataset=dataset, config=config, split=split)

    async def parquet(self, dataset: str, config: str | None = None) -> dict[str, Any]:
        return await self.get("parquet", dataset=dataset, config=config)


def _error_text(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"]).splitlines()[0][:300]
    text = response.text.strip().splitlines()
    return text[0][:300] if text else (response.reason_phrase or "error")
