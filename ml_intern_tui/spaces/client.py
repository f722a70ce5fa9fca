"""Talking to the API server inside a sandbox Space (httpx, JSON, two bearer tokens).

``Authorization`` carries the HF token (a private Space's front door asks for it);
``X-Sandbox-Authorization`` the sandbox's own random token, which our server checks.
Failures become one-line :class:`SandboxApiError` messages: unreachable, refused token,
or what the server said.
"""

from __future__ import annotations

from typing import Any

CONNECT_TIMEOUT_S = 15.0
SLACK_S = 30.0
"""Extra seconds a command's request may take over the command's own timeout."""


class SandboxApiError(Exception):
    """A sandbox API call failed; the message is one line for the model and the user."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SandboxClient:
    """JSON calls to one sandbox's API."""

    def __init__(self, base_url: str, api_token: str, hf_token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"X-Sandbox-Authorization": f"Bearer {api_token}"}
        if hf_token:
            headers["Authorization"] = f"Bearer {hf_token}"
        import httpx

        self._httpx = httpx
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(60.0, connect=CONNECT_TIMEOUT_S),
            follow_redirects=False,  # a redirect would carry the tokens elsewhere
            trust_env=False,
        )

    async def call(self, route: str, body: dict[str, Any], *, timeout_s: float = 60.0) -> Any:
        httpx = self._httpx
        try:
            response = await self._client.post(f"/api/{route}", json=body, timeout=timeout_s)
        except httpx.TimeoutException as exc:
            raise SandboxApiError(f"the sandbox did not answer within {timeout_s:.0f}s") from exc
        except httpx.HTTPError as exc:
            raise SandboxApiError(
                f"the sandbox at {self.base_url} cannot be reached ({type(exc).__name__}); "
                "it may still be starting, asleep or deleted: check it with /sandbox"
            ) from exc
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code == 200 and isinstance(payload, dict):
            return payload
        said = payload.get("error") if isinstance(payload, dict) else None
        said = str(said or response.text[:200] or response.reason_phrase).splitlines()[0:1]
        detail = said[0] if said else ""
        if response.status_code == 401:
            raise SandboxApiError(
                f"the sandbox refused the API token (401: {detail}); recreate it with "
                "/sandbox stop then sandbox_create",
                401,
            )
        raise SandboxApiError(
            f"sandbox API {route} failed ({response.status_code}): {detail}", response.status_code
        )

    async def aclose(self) -> None:
        await self._client.aclose()
