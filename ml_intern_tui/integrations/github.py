"""Async access to the GitHub REST API for the code-search tools.

``GithubClient`` is an async context manager over one ``httpx.AsyncClient``: a tool opens
it for the length of one call, so no connection outlives the event loop that made it.
The API base comes from ``GITHUB_API_BASE`` or the ``[github] api_base`` setting (GitHub
Enterprise: ``https://HOST/api/v3``); ``GITHUB_TOKEN`` is optional — without it GitHub
allows 60 requests an hour and refuses code search. Every failure becomes a
:class:`GithubError` whose message says what happened and what to do, rate limits
included (from the ``x-ratelimit-*`` headers).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from ml_intern_tui.core.tool import ToolContext, ToolError

DEFAULT_API_BASE = "https://api.github.com"
MAX_PAGES = 10
"""Pages (of up to 100 items) a listing follows before it stops."""
API_VERSION = "2022-11-28"
RAW_MEDIA_TYPE = "application/vnd.github.raw"
TEXT_MATCH_MEDIA_TYPE = "application/vnd.github.text-match+json"


@dataclass(frozen=True)
class GithubAccess:
    """Where the API is and how to authenticate (a token is optional)."""

    api_base: str = DEFAULT_API_BASE
    token: str | None = None
    timeout_s: float = 30.0

    @classmethod
    def resolve(cls, settings: Any = None, env: Mapping[str, str] | None = None) -> GithubAccess:
        """From ``GITHUB_API_BASE`` / ``GITHUB_TOKEN``, else the app settings, else GitHub."""
        environ: Mapping[str, str] = os.environ if env is None else env
        configured = getattr(getattr(settings, "github", None), "api_base", None)
        base = environ.get("GITHUB_API_BASE") or configured or DEFAULT_API_BASE
        token = environ.get("GITHUB_TOKEN") or environ.get("GH_TOKEN") or None
        return cls(api_base=str(base).rstrip("/"), token=token)

    @classmethod
    def for_context(cls, ctx: ToolContext) -> GithubAccess:
        """The session's access: a ``github`` service when wired, else :meth:`resolve`."""
        service = ctx.services.get("github")
        if isinstance(service, GithubAccess):
            return service
        return cls.resolve(ctx.services.get("settings"))


class GithubError(ToolError):
    """A GitHub request failed; the message is one line for the model and the user."""

    def __init__(self, message: str, *, status: int | None = None, rate_limited: bool = False):
        super().__init__(message)
        self.status = status
        self.rate_limited = rate_limited


def _api_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or "").strip()[:200]
    return ""


def _rate_limit_message(response: httpx.Response, authenticated: bool) -> str | None:
    headers = response.headers
    if response.status_code not in (403, 429):
        return None
    if headers.get("x-ratelimit-remaining") == "0":
        limit = headers.get("x-ratelimit-limit", "?")
        when = ""
        reset = headers.get("x-ratelimit-reset", "")
        if reset.isdigit():
            minutes = max(0, int(reset) - int(time.time())) // 60 + 1
            clock = time.strftime("%H:%M UTC", time.gmtime(int(reset)))
            when = f"; it resets at {clock} (in about {minutes} min)"
        hint = (
            "wait, or use another token"
            if authenticated
            else "set GITHUB_TOKEN for 5,000 requests an hour"
        )
        return f"GitHub API rate limit reached ({limit} requests an hour{when}): {hint}"
    retry_after = headers.get("retry-after")
    if retry_after is not None or response.status_code == 429:
        wait = f" in {retry_after} s" if retry_after else " in a minute"
        return f"GitHub secondary rate limit hit: too many requests at once; try again{wait}"
    return None


def error_for(response: httpx.Response, what: str, authenticated: bool) -> GithubError:
    """The :class:`GithubError` for a failed response to a request about ``what``."""
    status = response.status_code
    limited = _rate_limit_message(response, authenticated)
    if limited is not None:
        return GithubError(limited, status=status, rate_limited=True)
    detail = _api_message(response)
    suffix = f": {detail}" if detail else ""
    if status == 401:
        if authenticated:
            message = "GitHub rejected GITHUB_TOKEN (401 Bad credentials): fix or unset it"
        else:
            message = f"GitHub requires authentication for {what} (401): set GITHUB_TOKEN"
    elif status == 403:
        message = f"GitHub refused access to {what} (403){suffix}"
    elif status == 404:
        hint = "" if authenticated else " (a private repo needs GITHUB_TOKEN)"
        message = f"not found on GitHub: {what}{hint}"
    elif status == 422:
        message = f"GitHub could not process the request for {what} (422){suffix}"
    elif status >= 500:
        message = f"GitHub API error {status} for {what}{suffix}; try again later"
    else:
        message = f"GitHub answered {status} for {what}{suffix}"
    return GithubError(message, status=status)


class GithubClient:
    """One session of GitHub API calls: ``async with GithubClient(access) as gh: ...``."""

    def __init__(
        self, access: GithubAccess, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.access = access
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self.requests = 0

    @property
    def authenticated(self) -> bool:
        return bool(self.access.token)

    async def __aenter__(self) -> GithubClient:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "ml-intern-tui",
        }
        if self.access.token:
            headers["Authorization"] = f"Bearer {self.access.token}"
        self._http = httpx.AsyncClient(
            base_url=self.access.api_base,
            headers=headers,
            timeout=self.access.timeout_s,
            transport=self._transport,
            follow_redirects=True,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # ------------------------------------------------------------------ plumbing

    async def request(
        self,
        path: str,
        *,
        what: str,
        params: Mapping[str, str | int] | None = None,
        accept: str | None = None,
    ) -> httpx.Response:
        """GET ``path`` (relative to the API base, or a full URL on the same host)."""
        if self._http is None:
            raise RuntimeError("use GithubClient as an async context manager")
        headers = {"Accept": accept} if accept else None
        self.requests += 1
        try:
            response = await self._http.get(path, params=params, headers=headers)
        except httpx.TimeoutException as exc:
            raise GithubError(
                f"GitHub did not answer within {self.access.timeout_s:.0f} s ({what})"
            ) from exc
        except httpx.HTTPError as exc:
            raise GithubError(
                f"could not reach the GitHub API at {self.access.api_base}: {exc}"
            ) from exc
        if response.status_code >= 400:
            raise error_for(response, what, self.authenticated)
        return response

    async def get_json(
        self,
        path: str,
        *,
        what: str,
        params: Mapping[str, str | int] | None = None,
        accept: str | None = None,
    ) -> Any:
        response = await self.request(path, what=what, params=params, accept=accept)
        try:
            return response.json()
        except ValueError as exc:
            raise GithubError(f"GitHub sent a response that is not JSON for {what}") from exc

    def _same_host(self, url: str) -> bool:
        """A ``next`` link may only lead back to the API host (the token goes with it)."""
        return urlsplit(url).netloc == urlsplit(self.access.api_base).netloc

    async def paginate(
        self,
        path: str,
        *,
        what: str,
        params: Mapping[str, str | int] | None = None,
        max_pages: int = MAX_PAGES,
        enough: Callable[[list[Any]], bool] | None = None,
    ) -> tuple[list[Any], bool]:
        """Items of every page (following ``Link: rel="next"``) up to ``max_pages``.

        Stops early when ``enough(items)`` holds. Returns the items and whether more
        pages were left unread.
        """
        items: list[Any] = []
        url: str | None = path
        query: Mapping[str, str | int] | None = params
        for _ in range(max_pages):
            assert url is not None
            response = await self.request(url, what=what, params=query)
            page = response.json()
            if not isinstance(page, list):
                raise GithubError(f"GitHub sent an unexpected listing for {what}")
            items.extend(page)
            url = response.links.get("next", {}).get("url")
            query = None  # the next link carries the query
            if url is None or not self._same_host(url):
                return items, False
            if enough is not None and enough(items):
                return items, True
        return items, url is not None

    # ------------------------------------------------------------------ endpoints

    async def repo(self, full_name: str) -> dict[str, Any]:
        data: dict[str, Any] = await self.get_json(
            f"/repos/{full_name}", what=f"repository {full_name}"
        )
        return data

    async def tree(self, full_name: str, ref: str) -> tuple[list[dict[str, Any]], bool]:
        """Every entry of the repo at ``ref`` and whether GitHub truncated the listing."""
        data = await self.get_json(
            f"/repos/{full_name}/git/trees/{quote(ref, safe='')}",
            what=f"the file tree of {full_name}@{ref}",
            params={"recursive": 1},
        )
        return list(data.get("tree") or []), bool(data.get("truncated"))

    async def search_code(self, query: str, per_page: int) -> dict[str, Any]:
        data: dict[str, Any] = await self.get_json(
            "/search/code",
            what="code search",
            params={"q": query, "per_page": min(max(per_page, 1), 100)},
            accept=TEXT_MATCH_MEDIA_TYPE,
        )
        return data

    async def search_repos(self, query: str, per_page: int = 5) -> list[dict[str, Any]]:
        data = await self.get_json(
            "/search/repositories",
            what="repository search",
            params={"q": query, "sort": "stars", "order": "desc", "per_page": per_page},
        )
        return list(data.get("items") or [])

    async def contents(self, full_name: str, path: str, ref: str | None) -> Any:
        """The contents API answer: a file object, or a list for a directory."""
        params = {"ref": ref} if ref else None
        return await self.get_json(
            f"/repos/{full_name}/contents/{quote(path.strip('/'))}",
            what=f"{path} in {full_name}" + (f"@{ref}" if ref else ""),
            params=params,
        )

    async def raw_contents(self, full_name: str, path: str, ref: str | None) -> bytes:
        """A file's bytes through the raw media type (files over 1 MB, up to 100 MB)."""
        params = {"ref": ref} if ref else None
        response = await self.request(
            f"/repos/{full_name}/contents/{quote(path.strip('/'))}",
            what=f"{path} in {full_name}",
            params=params,
            accept=RAW_MEDIA_TYPE,
        )
        return response.content

    async def account(self, login: str) -> dict[str, Any]:
        data: dict[str, Any] = await self.get_json(
            f"/users/{quote(login)}", what=f"user or organization {login}"
        )
        return data
