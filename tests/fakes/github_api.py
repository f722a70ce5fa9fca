"""A fake GitHub REST API on 127.0.0.1 for the GitHub tools and the research sub-agent.

It serves the endpoints the tools use, with GitHub's shapes: repo info, recursive trees,
the contents API (base64, raw media type, directories, the empty ``content`` of large
files), code search (refused without a token, like GitHub), repository search, accounts
and paginated repo listings with ``Link`` headers. Faults: ``exhaust_rate_limit()`` (403
with ``x-ratelimit-*`` headers), unknown tokens get 401, and the server's
``fail_next`` for any route::

    gh = FakeGithub()
    gh.add_repo("huggingface/trl", {"examples/scripts/grpo.py": "..."})
    monkeypatch.setenv("GITHUB_API_BASE", gh.base_url)
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from fakes.http_server import FakeHTTPServer, FakeRequest, FakeResponse

VALID_TOKEN = "ghp_fake_valid_token"
NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
LANGUAGE_SUFFIXES = {"python": (".py", ".ipynb")}


@dataclass
class FakeRepo:
    full_name: str
    files: dict[str, bytes]
    default_branch: str = "main"
    description: str = ""
    refs: set[str] = field(default_factory=set)
    truncated: bool = False


class FakeGithub:
    """The fake API; ``base_url`` is what ``GITHUB_API_BASE`` should be."""

    def __init__(self) -> None:
        self.server = FakeHTTPServer()
        self.repos: dict[str, FakeRepo] = {}
        self.accounts: dict[str, str] = {}
        self.owner_repos: dict[str, list[dict[str, Any]]] = {}
        self.inline_limit = 1_000_000
        """Files larger than this come back with empty ``content`` (GitHub: 1 MB)."""
        self.rate_limited_until: int | None = None
        self._register()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def close(self) -> None:
        self.server.close()

    # ------------------------------------------------------------------ data

    def add_repo(
        self,
        full_name: str,
        files: dict[str, str | bytes],
        *,
        default_branch: str = "main",
        description: str = "",
        refs: tuple[str, ...] = (),
        truncated: bool = False,
    ) -> FakeRepo:
        data = {p: v.encode() if isinstance(v, str) else v for p, v in files.items()}
        repo = FakeRepo(
            full_name, data, default_branch, description, {default_branch, *refs}, truncated
        )
        self.repos[full_name] = repo
        return repo

    def add_account(self, login: str, kind: str, repos: list[dict[str, Any]]) -> None:
        """``kind`` is ``User`` or ``Organization``; repos are listing entries (GitHub shape)."""
        self.accounts[login] = kind
        self.owner_repos[login] = repos

    def exhaust_rate_limit(self, reset_in_s: int = 600) -> None:
        self.rate_limited_until = int(time.time()) + reset_in_s

    def requests_to(self, pattern: str) -> list[FakeRequest]:
        return self.server.calls("GET", pattern)

    # ----------------------------------------------------------------- routes

    def _guard(self, req: FakeRequest) -> FakeResponse | None:
        if self.rate_limited_until is not None:
            headers = {
                "x-ratelimit-limit": "60",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(self.rate_limited_until),
            }
            message = "API rate limit exceeded for 127.0.0.1."
            return FakeResponse.json({"message": message}, 403, headers)
        auth = req.headers.get("authorization")
        if auth is not None and auth != f"Bearer {VALID_TOKEN}":
            return FakeResponse.json({"message": "Bad credentials"}, 401)
        return None

    def _register(self) -> None:
        routes = [
            (r"/search/code", self._search_code),
            (r"/search/repositories", self._search_repos),
            (r"/users/(?P<login>[^/]+)", self._account),
            (r"/(?P<kind>orgs|users)/(?P<login>[^/]+)/repos", self._owner_repos),
            (r"/repos/(?P<repo>[^/]+/[^/]+)", self._repo),
            (r"/repos/(?P<repo>[^/]+/[^/]+)/git/trees/(?P<ref>[^/]+)", self._tree),
            (r"/repos/(?P<repo>[^/]+/[^/]+)/contents(?:/(?P<path>.*))?", self._contents),
        ]
        for pattern, handler in routes:

            def guarded(req: FakeRequest, handler: Any = handler) -> FakeResponse:
                return self._guard(req) or handler(req)

            self.server.route("GET", pattern)(guarded)

    def _search_code(self, req: FakeRequest) -> FakeResponse:
        if "authorization" not in req.headers:
            return FakeResponse.json({"message": "Requires authentication"}, 401)
        words, qualifiers = [], {}
        for part in (req.arg("q") or "").split():
            key, sep, value = part.partition(":")
            if sep:
                qualifiers[key] = value
            else:
                words.append(part.lower())
        suffixes = LANGUAGE_SUFFIXES.get(qualifiers.get("language", ""), ())
        items = []
        for repo in self.repos.values():
            if "repo" in qualifiers and repo.full_name != qualifiers["repo"]:
                continue
            for path, data in sorted(repo.files.items()):
                text = data.decode(errors="replace")
                if suffixes and not path.endswith(suffixes):
                    continue
                if not all(w in text.lower() or w in path.lower() for w in words):
                    continue
                line = next((ln for ln in text.splitlines() if words[0] in ln.lower()), "")
                items.append(
                    {
                        "name": path.rsplit("/", 1)[-1],
                        "path": path,
                        "html_url": self._blob(repo, path),
                        "repository": {"full_name": repo.full_name},
                        "text_matches": [{"fragment": line}],
                    }
                )
        per_page = int(req.arg("per_page", "30") or 30)
        return FakeResponse.json({"total_count": len(items), "items": items[:per_page]})

    def _search_repos(self, req: FakeRequest) -> FakeResponse:
        word = (req.arg("q") or "").split()[0].lower()
        found = [
            {"full_name": name, "stargazers_count": 1}
            for name in sorted(self.repos)
            if word in name.split("/")[1].lower() or name.split("/")[1].lower() in word
        ]
        return FakeResponse.json({"total_count": len(found), "items": found})

    def _account(self, req: FakeRequest) -> FakeResponse:
        login = req.group("login")
        if login not in self.accounts:
            return FakeResponse.json(NOT_FOUND, 404)
        return FakeResponse.json({"login": login, "type": self.accounts[login]})

    def _owner_repos(self, req: FakeRequest) -> FakeResponse:
        login = req.group("login")
        kind = self.accounts.get(login)
        if kind is None or (req.group("kind") == "orgs") != (kind == "Organization"):
            return FakeResponse.json(NOT_FOUND, 404)
        repos = list(self.owner_repos[login])
        sort = req.arg("sort")
        if sort == "full_name":
            repos.sort(key=lambda r: str(r["full_name"]).lower())
        elif sort == "pushed":
            repos.sort(key=lambda r: str(r.get("pushed_at") or ""), reverse=True)
        per_page = min(int(req.arg("per_page", "30") or 30), 100)
        page = int(req.arg("page", "1") or 1)
        chunk = repos[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(repos):
            query: dict[str, str | int] = {k: v[0] for k, v in req.query.items()}
            links = [
                f'<{self.base_url}{req.path}?{urlencode({**query, "page": page + 1})}>; rel="next"',
                f'<{self.base_url}{req.path}?{urlencode({**query, "page": -(-len(repos) // per_page)})}>; rel="last"',
            ]
            headers["Link"] = ", ".join(links)
        return FakeResponse.json(chunk, 200, headers)

    def _repo_or_404(self, req: FakeRequest) -> FakeRepo | FakeResponse:
        repo = self.repos.get(req.group("repo"))
        return repo if repo is not None else FakeResponse.json(NOT_FOUND, 404)

    def _repo(self, req: FakeRequest) -> FakeResponse:
        repo = self._repo_or_404(req)
        if isinstance(repo, FakeResponse):
            return repo
        return FakeResponse.json(
            {
                "full_name": repo.full_name,
                "default_branch": repo.default_branch,
                "description": repo.description,
                "html_url": f"{self.base_url}/{repo.full_name}",
            }
        )

    def _tree(self, req: FakeRequest) -> FakeResponse:
        repo = self._repo_or_404(req)
        if isinstance(repo, FakeResponse):
            return repo
        if unquote(req.group("ref")) not in repo.refs:
            return FakeResponse.json(NOT_FOUND, 404)
        dirs = {p.rsplit("/", 1)[0] for p in repo.files if "/" in p}
        entries: list[dict[str, Any]] = [
            {"path": d, "type": "tree", "mode": "040000"} for d in sorted(dirs)
        ]
        entries += [
            {"path": p, "type": "blob", "mode": "100644", "size": len(data)}
            for p, data in sorted(repo.files.items())
        ]
        return FakeResponse.json({"sha": "t1", "tree": entries, "truncated": repo.truncated})

    def _blob(self, repo: FakeRepo, path: str, ref: str | None = None) -> str:
        return f"{self.base_url}/{repo.full_name}/blob/{ref or repo.default_branch}/{path}"

    def _contents(self, req: FakeRequest) -> FakeResponse:
        repo = self._repo_or_404(req)
        if isinstance(repo, FakeResponse):
            return repo
        ref = req.arg("ref")
        if ref is not None and ref not in repo.refs:
            return FakeResponse.json({"message": f"No commit found for the ref {ref}"}, 404)
        path = unquote(req.group("path") or "").strip("/")
        data = repo.files.get(path)
        if data is None:
            prefix = f"{path}/" if path else ""
            children = sorted(
                {p[len(prefix) :].split("/")[0] for p in repo.files if p.startswith(prefix)}
            )
            if not children:
                return FakeResponse.json(NOT_FOUND, 404)
            listing = [
                {
                    "name": name,
                    "path": prefix + name,
                    "type": "file" if prefix + name in repo.files else "dir",
                }
                for name in children
            ]
            return FakeResponse.json(listing)
        if "application/vnd.github.raw" in req.headers.get("accept", ""):
            return FakeResponse(200, data, {"Content-Type": "application/octet-stream"})
        inline = len(data) <= self.inline_limit
        return FakeResponse.json(
            {
                "type": "file",
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "size": len(data),
                "sha": f"sha-{len(data)}",
                "encoding": "base64" if inline else "none",
                "content": base64.encodebytes(data).decode() if inline else "",
                "html_url": self._blob(repo, path, ref),
            }
        )


def repo_listing(owner: str, count: int, *, star_of: Any = None) -> list[dict[str, Any]]:
    """``count`` listing entries ``owner/repo-000``…; stars from ``star_of(i)`` (default i)."""
    entries: list[dict[str, Any]] = []
    for i in range(count):
        stars = star_of(i) if star_of is not None else i
        entries.append(
            {
                "name": f"repo-{i:03d}",
                "full_name": f"{owner}/repo-{i:03d}",
                "description": f"repository number {i}",
                "stargazers_count": stars,
                "language": "Python",
                "pushed_at": f"2025-01-{1 + i % 28:02d}T00:00:{i % 60:02d}Z",
                "html_url": f"https://github.com/{owner}/repo-{i:03d}",
                "topics": [],
                "fork": False,
                "archived": False,
            }
        )
    return entries
