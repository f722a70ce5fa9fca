"""Async access to the GitHub REST API for the code-search tools.

``GithubClient`` is an async context manager over one ``httpx.AsyncClient``: a tool opens
it for the length of one call, so no connection outlives the event loop that made it.
The API base comes from ``GITHUB_API_BASE`` or the ``[github] api_base`` setting (GitHub
Enterprise: ``https://HOST/api/v3``); ``GITHUB_TOKEN`` is optional — without it GitHub
allows 60 requests an hour and refuses code search. Every failure becomes a one-line
:class:`GithubError` saying what to do, rate limits included (``x-ratelimit-*`` headers).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from ml_intern_tui.core.tool import ToolContext, ToolError

if TYPE_CHECKING:  # httpx is imported on first use: it costs start-up time
    import httpx

DEFAULT_API_BASE = "https://api.github.com"
MAX_PAGES = 10  # pages of up to 100 items a listing follows before it stops
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
        """The session's access, from the environment or the session's settings."""
        return cls.resolve(ctx.services.settings)


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
        body = {"message": response.text}
    text = body.get("message") or body.get("error") if isinstance(body, dict) else ""
    return str(text or "").strip()[:200]


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
        hint = "wait, or use another token" if authenticated else "set GITHUB_TOKEN"
        hint += "" if authenticated else " for 5,000 requests an hour"
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

    @property
    def authenticated(self) -> bool:
        return bool(self.access.token)

    async def __aenter__(self) -> GithubClient:
        import httpx

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
        import httpx

        headers = {"Accept": accept} if accept else None
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

    async def get_json(self, path: str, *, what: str, **options: Any) -> Any:
        """:meth:`request` (same options) and the answer's JSON."""
        response = await self.request(path, what=what, **options)
        try:
            return response.json()
        except ValueError as exc:
            raise GithubError(f"GitHub sent a response that is not JSON for {what}") from exc

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
            # A next link may only lead back to the API host: the token goes with it.
            if url is None or urlsplit(url).netloc != urlsplit(self.access.api_base).netloc:
                return items, False
            if enough is not None and enough(items):
                return items, True
        return items, url is not None

    # ------------------------------------------------------------------ endpoints

    async def repo(self, full_name: str) -> dict[str, Any]:
        return dict(await self.get_json(f"/repos/{full_name}", what=f"repository {full_name}"))

    async def tree(self, full_name: str, ref: str) -> tuple[list[dict[str, Any]], bool]:
        """Every entry of the repo at ``ref`` and whether GitHub truncated the listing."""
        data = await self.get_json(
            f"/repos/{full_name}/git/trees/{quote(ref, safe='')}",
            what=f"the file tree of {full_name}@{ref}",
            params={"recursive": 1},
        )
        return list(data.get("tree") or []), bool(data.get("truncated"))

    async def search_code(self, query: str, per_page: int) -> dict[str, Any]:
        params = {"q": query, "per_page": min(max(per_page, 1), 100)}
        return dict(
            await self.get_json(
                "/search/code", what="code search", params=params, accept=TEXT_MATCH_MEDIA_TYPE
            )
        )

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
        return dict(await self.get_json(f"/users/{quote(login)}", what=f"account {login}"))


# ------------------------------------------------------------- content helpers

EXAMPLE_DIRS = frozenset(
    "examples example scripts notebooks tutorials tutorial recipes cookbook demos demo "  # noqa: SIM905
    "samples quickstart guides howto".split()
)
"""Folder names where a repository keeps runnable examples."""
GENERIC_WORDS = frozenset(
    "a an and the of for in on to with how use using example examples script scripts "  # noqa: SIM905
    "code sample samples demo notebook notebooks tutorial file files".split()
)
"""Query words too common to decide a match on their own."""
LANGUAGE_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "python": (".py", ".ipynb"),
    "jupyter notebook": (".ipynb",),
    "javascript": (".js", ".mjs", ".cjs"),
    "typescript": (".ts", ".tsx"),
    "rust": (".rs",),
    "shell": (".sh", ".bash"),
}


def query_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 1]


def in_example_dir(path: str) -> bool:
    return any(part.lower() in EXAMPLE_DIRS for part in path.split("/")[:-1])


def score_path(path: str, query: str) -> float:
    """How well a file path matches ``query`` (0: not at all); example folders rank higher."""
    low = path.lower()
    name = low.rsplit("/", 1)[-1]
    words = query_words(query)
    strong = [w for w in words if w not in GENERIC_WORDS]
    weak = [w for w in words if w in GENERIC_WORDS]
    hits = [w for w in strong if w in low]
    in_examples = in_example_dir(path)
    if (strong and not hits) or (not strong and not in_examples):
        return 0.0
    score = sum(3.0 if w in name else 2.0 for w in hits) + sum(0.5 for w in weak if w in low)
    score += 4.0 if in_examples else 0.0  # this tool is for examples, not library code
    if re.search(r"(^|/)tests?(/|_)", low):
        score -= 2.0
    return max(score - 0.1 * low.count("/"), 0.01)


def blob_url(api_base: str, repo: str, ref: str, path: str) -> str:
    host = "https://github.com"
    if "api.github.com" not in api_base:  # Enterprise (or a fake): same host, no /api/v3
        host = api_base.split("/api/")[0]
    return f"{host}/{repo}/blob/{ref}/{path}"


def snippet(item: dict[str, Any]) -> str:
    for match in item.get("text_matches") or []:
        fragment = " ".join(str(match.get("fragment") or "").split())
        if fragment:
            return fragment[:200]
    return ""


def _joined(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _output_lines(output: dict[str, Any]) -> list[str]:
    kind = output.get("output_type")
    if kind == "stream":
        return _joined(output.get("text")).splitlines()
    if kind == "error":
        return [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
    data = output.get("data") or {}
    if "text/plain" in data:
        return _joined(data["text/plain"]).splitlines()
    kinds = sorted(k for k in data if k.startswith(("image/", "text/html", "application/")))
    return [f"[{kinds[0]} output]"] if kinds else []


def notebook_to_text(raw: str, *, output_lines: int = 5) -> str:
    """A Jupyter notebook as readable text: markdown as is, code fenced, outputs summarized."""
    try:
        notebook = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ToolError(f"not a valid notebook (JSON error at char {exc.pos})") from exc
    if not isinstance(notebook, dict):
        raise ToolError("not a valid notebook (no cells)")
    cells = notebook.get("cells")
    if cells is None:  # nbformat 3
        cells = [c for ws in notebook.get("worksheets") or [] for c in ws.get("cells") or []]
    meta = notebook.get("metadata") or {}
    language = (
        (meta.get("kernelspec") or {}).get("language")
        or (meta.get("language_info") or {}).get("name")
        or "python"
    )
    parts: list[str] = []
    for cell in cells:
        source = _joined(cell.get("source") or cell.get("input")).rstrip()
        if cell.get("cell_type") == "code":
            if source:
                parts.append(f"```{language}\n{source}\n```")
            lines = [line for out in cell.get("outputs") or [] for line in _output_lines(out)]
            if lines:
                shown = [f"    {line[:200]}" for line in lines[:output_lines]]
                if len(lines) > output_lines:
                    shown.append(f"    … ({len(lines) - output_lines} more output lines)")
                parts.append("Output:\n" + "\n".join(shown))
        elif source:
            parts.append(source)
    return "\n\n".join(parts)
