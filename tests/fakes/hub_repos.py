"""Fake Hub repositories: files, commits, refs and pull requests, as huggingface_hub 1.33 calls them.

``install(server)`` returns a ``FakeHubRepos``; a test adds repos with ``add_repo``.
Served: repo info, tree, file resolve, preupload and the ndjson commit (recorded in
``repo.commits``), ``/api/repos/create``, settings, branches, tags, refs, and PRs (list,
details, create, comment, status, merge). Private repos without the token and writes
without it fail as on the Hub (404 ``RepoNotFound`` / 401).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import yaml

from fakes.http_server import FakeHTTPServer, FakeRequest, FakeResponse, Handler

TYPES = r"(?P<t>models|datasets|spaces)"
REPO = r"(?P<repo>[^/]+/[^/]+)"
API = rf"/api/{TYPES}/{REPO}"
RESOLVE = rf"/(?:(?P<prefix>datasets|spaces)/)?{REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)"
CREATED_AT = "2026-01-02T03:04:05.000Z"
_oids = itertools.count(1)


def _oid() -> str:
    return hashlib.sha1(str(next(_oids)).encode()).hexdigest()


def _error(status: int, message: str, code: str | None = None) -> FakeResponse:
    headers = {"X-Error-Message": message, **({"X-Error-Code": code} if code else {})}
    return FakeResponse.error(status, message, headers)


def _ref(name: str, full: str, target: str) -> dict[str, str]:
    return {"name": name, "ref": full, "targetCommit": target}


def _pop_ref(refs: dict[str, Any], name: str) -> FakeResponse:
    if refs.pop(name, None) is None:
        return _error(404, f"Invalid rev id: {name}", "RevisionNotFound")
    return FakeResponse.json({})


def _card_data(readme: bytes) -> dict[str, Any]:
    """``cardData`` as the Hub derives it from a README's YAML front matter."""
    text = readme.decode("utf-8", "replace")
    if not text.startswith("---\n") or "\n---" not in text[3:]:
        return {}
    data = yaml.safe_load(text[4 : text.index("\n---", 3)])
    return {"cardData": data} if isinstance(data, dict) else {}


class _Abort(Exception):
    """Raised by a lookup helper: the handler answers with ``response`` instead."""

    def __init__(self, response: FakeResponse) -> None:
        self.response = response


def _guarded(handler: Handler) -> Handler:
    def serve(req: FakeRequest) -> FakeResponse:
        try:
            return handler(req)
        except _Abort as abort:
            return abort.response

    return serve


@dataclass
class FakeRepo:
    repo_id: str
    repo_type: str = "model"
    private: bool = False
    gated: Any = False
    sdk: str | None = None
    branches: dict[str, dict[str, bytes]] = field(default_factory=lambda: {"main": {}})
    heads: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    discussions: list[dict[str, Any]] = field(default_factory=list)
    commits: list[dict[str, Any]] = field(default_factory=list)
    """Every commit received: revision, summary, added paths, deleted paths, create_pr."""
    settings: list[dict[str, Any]] = field(default_factory=list)
    """Every settings update body received (``gated`` stays a real JSON value)."""
    info: dict[str, Any] = field(default_factory=dict)
    """More fields of the repo's info answer (``cardData``, ``downloads``, ``pipeline_tag``…)."""

    @property
    def url_prefix(self) -> str:
        return "" if self.repo_type == "model" else f"{self.repo_type}s/"

    def head(self, branch: str) -> str:
        return self.heads.setdefault(branch, _oid())


class FakeHubRepos:
    """State of the fake Hub's repositories; ``base_url`` builds the URLs it answers with."""

    def __init__(self, server: FakeHTTPServer, user: str, token: str) -> None:
        self.server, self.user, self.token = server, user, token
        self.repos: dict[tuple[str, str], FakeRepo] = {}

    def add_repo(self, repo_id: str, repo_type: str = "model", files: dict[str, Any] | None = None, **kw: Any) -> FakeRepo:  # fmt: skip
        repo = FakeRepo(repo_id, repo_type, **kw)
        repo.branches["main"] = {
            p: c.encode() if isinstance(c, str) else c for p, c in (files or {}).items()
        }
        self.repos[(repo_type, repo_id)] = repo
        return repo

    def repo(self, repo_id: str, repo_type: str = "model") -> FakeRepo:
        return self.repos[(repo_type, repo_id)]

    # -- helpers ------------------------------------------------------------------

    def _authorized(self, req: FakeRequest) -> bool:
        return req.headers.get("authorization") == f"Bearer {self.token}"

    def _find(
        self, req: FakeRequest, *, write: bool = False, repo_type: str | None = None
    ) -> FakeRepo:
        if write and not self._authorized(req):
            raise _Abort(_error(401, "Invalid credentials in Authorization header"))
        repo = self.repos.get((repo_type or req.group("t")[:-1], req.group("repo")))
        if repo is None or (repo.private and not self._authorized(req)):
            raise _Abort(_error(404, "Repository not found", "RepoNotFound"))
        return repo

    def _files(self, repo: FakeRepo, rev: str) -> dict[str, bytes]:
        rev = unquote(rev)
        if rev in repo.tags:
            rev = repo.tags[rev]
        for name, head in repo.heads.items():
            if rev == head:
                rev = name
        if rev not in repo.branches:
            raise _Abort(_error(404, f"Invalid rev id: {rev}", "RevisionNotFound"))
        return repo.branches[rev]

    def _discussion(self, repo: FakeRepo, req: FakeRequest) -> dict[str, Any]:
        num = int(req.group("num"))
        for item in repo.discussions:
            if item["num"] == num:
                return item
        raise _Abort(_error(404, "Discussion not found"))

    def _event(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        author = {"name": self.user}
        return {"id": _oid()[:24], "type": kind, "createdAt": CREATED_AT, "author": author, "data": data}  # fmt: skip

    def _comment(self, text: str) -> dict[str, Any]:
        return self._event("comment", {"edited": False, "hidden": False, "latest": {"raw": text}})

    def _open_pr(self, repo: FakeRepo, title: str, text: str, status: str, base: str = "main") -> dict[str, Any]:  # fmt: skip
        num = len(repo.discussions) + 1
        item = {
            "num": num, "title": title, "status": status, "isPullRequest": True,
            "createdAt": CREATED_AT, "author": {"name": self.user}, "pinned": False,
            "repo": {"name": repo.repo_id, "type": repo.repo_type}, "numComments": 1,
            "events": [self._comment(text)], "base": base,
        }  # fmt: skip
        repo.discussions.append(item)
        repo.branches[f"refs/pr/{num}"] = dict(repo.branches.get(base, {}))
        return item

    # -- repo info and files -------------------------------------------------------

    def info(self, req: FakeRequest) -> FakeResponse:
        repo = self._find(req)
        rev = req.match.group("rev") if req.match and req.match.group("rev") else "main"
        files = self._files(repo, rev)
        return FakeResponse.json({
            "id": repo.repo_id, "sha": repo.head(unquote(rev)), "private": repo.private,
            "gated": repo.gated, "siblings": [{"rfilename": p} for p in sorted(files)],
            **_card_data(files.get("README.md", b"")),
            **repo.info,
        })  # fmt: skip

    def tree(self, req: FakeRequest) -> FakeResponse:
        repo = self._find(req)
        files = self._files(repo, req.group("rev"))
        base = unquote(req.match.group("path") or "") if req.match else ""
        prefix = f"{base.strip('/')}/" if base.strip("/") else ""
        recursive = (req.arg("recursive") or "").lower() == "true"
        entries: dict[str, dict[str, Any]] = {}
        for path, content in sorted(files.items()):
            if not path.startswith(prefix):
                continue
            parts = path[len(prefix) :].split("/")
            for depth in range(1, len(parts)):
                folder = prefix + "/".join(parts[:depth])
                folder_entry = {"type": "directory", "path": folder, "oid": _oid(), "size": 0}
                if recursive or depth == 1:
                    entries.setdefault(folder, folder_entry)
            if recursive or len(parts) == 1:
                oid = hashlib.sha1(content).hexdigest()
                entries[path] = {"type": "file", "path": path, "oid": oid, "size": len(content)}
        if prefix and not entries:
            return _error(404, f"{base} does not exist on this revision", "EntryNotFound")
        return FakeResponse.json(list(entries.values()))

    def resolve(self, req: FakeRequest) -> FakeResponse:
        prefix = req.match.group("prefix") if req.match else None
        repo = self._find(req, repo_type=(prefix or "models")[:-1])
        files = self._files(repo, req.group("rev"))
        path = unquote(req.group("path"))
        if path not in files:
            return _error(404, "Entry not found", "EntryNotFound")
        content = files[path]
        headers = {"Content-Type": "application/octet-stream", "X-Repo-Commit": repo.head(unquote(req.group("rev"))),
                   "ETag": f'"{hashlib.sha1(content).hexdigest()}"'}  # fmt: skip
        return FakeResponse(200, content, headers)

    # -- commits -------------------------------------------------------------------

    def preupload(self, req: FakeRequest) -> FakeResponse:
        self._find(req, write=True)
        mode = {"uploadMode": "regular", "shouldIgnore": False}
        return FakeResponse.json(
            {"files": [{"path": f["path"], **mode} for f in req.json()["files"]]}
        )

    def commit(self, req: FakeRequest) -> FakeResponse:
        repo = self._find(req, write=True)
        rev = unquote(req.group("rev"))
        files = self._files(repo, rev)
        lines = [json.loads(line) for line in req.body.decode().splitlines() if line.strip()]
        header = next(item["value"] for item in lines if item["key"] == "header")
        pr = None
        if req.arg("create_pr") == "1":
            pr = self._open_pr(repo, header["summary"], header.get("description", ""), "open", rev)
            rev = f"refs/pr/{pr['num']}"
            files = repo.branches[rev]
        added, deleted = [], []
        for item in lines:
            value = item["value"]
            if item["key"] == "file":
                files[value["path"]] = base64.b64decode(value["content"])
                added.append(value["path"])
            elif item["key"] == "deletedFile":
                if files.pop(value["path"], None) is None:
                    return _error(404, "A file with this name doesn't exist", "EntryNotFound")
                deleted.append(value["path"])
            elif item["key"] == "deletedFolder":
                gone = [p for p in files if p.startswith(value["path"].rstrip("/") + "/")]
                for path in gone:
                    del files[path]
                deleted += gone
        oid = repo.heads[rev] = _oid()
        repo.commits.append({"revision": rev, "summary": header["summary"], "added": added,
                             "deleted": deleted, "create_pr": pr is not None})  # fmt: skip
        base = f"{self.server.base_url}/{repo.url_prefix}{repo.repo_id}"
        pr_url = f"{base}/discussions/{pr['num']}" if pr else None
        return FakeResponse.json(
            {"commitOid": oid, "commitUrl": f"{base}/commit/{oid}", "pullRequestUrl": pr_url}
        )

    def validate_yaml(self, req: FakeRequest) -> FakeResponse:
        return FakeResponse.json({"errors": [], "warnings": []})

    # -- repos and settings --------------------------------------------------------

    def create_repo(self, req: FakeRequest) -> FakeResponse:
        if not self._authorized(req):
            return _error(401, "Invalid credentials in Authorization header")
        body = req.json()
        repo_id = f"{body.get('organization') or self.user}/{body['name']}"
        repo_type = body.get("type") or "model"
        if (repo_type, repo_id) in self.repos:
            # As the Hub: the conflict names the existing repo's URL, which
            # ``create_repo(exist_ok=True)`` returns.
            prefix = self.repos[(repo_type, repo_id)].url_prefix
            message = f"You already created this {repo_type} repo"
            return FakeResponse.json(
                {"error": message, "url": f"{self.server.base_url}/{prefix}{repo_id}"},
                409,
                {"X-Error-Message": message},
            )
        if repo_type == "space" and not body.get("sdk"):
            return _error(400, "sdk is required for a Space")
        repo = self.add_repo(
            repo_id, repo_type, private=body.get("visibility") == "private", sdk=body.get("sdk")
        )
        return FakeResponse.json({"url": f"{self.server.base_url}/{repo.url_prefix}{repo_id}"})

    def update_settings(self, req: FakeRequest) -> FakeResponse:
        repo = self._find(req, write=True)
        body = req.json()
        repo.settings.append(body)
        if "gated" in body:
            repo.gated = body["gated"]
        if "visibility" in body:
            repo.private = body["visibility"] == "private"
        return FakeResponse.json({})

    # -- refs ----------------------------------------------------------------------

    def refs(self, req: FakeRequest) -> FakeResponse:
        repo = self._find(req)
        heads = [b for b in repo.branches if not b.startswith("refs/")]
        prs = [b for b in repo.branches if b.startswith("refs/pr/")]
        data: dict[str, Any] = {
            "branches": [_ref(b, f"refs/heads/{b}", repo.head(b)) for b in heads],
            "tags": [_ref(t, f"refs/tags/{t}", repo.head(rev)) for t, rev in repo.tags.items()],
            "converts": [],
        }
        if req.arg("include_prs"):
            data["pullRequests"] = [_ref(b, b, repo.head(b)) for b in prs]
        return FakeResponse.json(data)

    def create_branch(self, req: FakeRequest) -> FakeResponse:
        repo = self._find(req, write=True)
        name = unquote(req.group("name"))
        if name in repo.branches:
            return _error(409, f"Reference refs/heads/{name} already exists")
        source = self._files(repo, (req.json() or {}).get("startingPoint") or "main")
        repo.branches[name] = dict(source)
        return FakeResponse.json({})

    def delete_branch(self, req: FakeRequest) -> FakeResponse:
        return _pop_ref(self._find(req, write=True).branches, unquote(req.group("name")))

    def create_tag(self, req: FakeRequest) -> FakeResponse:
        repo = self._find(req, write=True)
        rev, tag = unquote(req.group("name")), req.json()["tag"]
        self._files(repo, rev)
        if tag in repo.tags:
            return _error(409, f"Tag {tag} already exists")
        repo.tags[tag] = rev
        return FakeResponse.json({})

    def delete_tag(self, req: FakeRequest) -> FakeResponse:
        return _pop_ref(self._find(req, write=True).tags, unquote(req.group("name")))

    # -- discussions and pull requests -----------------------------------------------

    def list_discussions(self, req: FakeRequest) -> FakeResponse:
        repo = self._find(req)
        status, kind = req.arg("status") or "all", req.arg("type") or "all"
        items = [
            {k: v for k, v in d.items() if k not in ("events", "base")}
            for d in repo.discussions
            if (status == "all" or (d["status"] in ("open", "draft")) == (status == "open"))
            and (kind == "all" or d["isPullRequest"] == (kind == "pull_request"))
        ]
        return FakeResponse.json(
            {"discussions": items, "count": len(items), "start": 0, "numClosedDiscussions": 0}
        )

    def create_discussion(self, req: FakeRequest) -> FakeResponse:
        repo = self._find(req, write=True)
        body = req.json()
        if not body.get("pullRequest"):
            return _error(400, "this fake only opens pull requests")
        item = self._open_pr(repo, body["title"], body.get("description") or "", "draft")
        return FakeResponse.json({"num": item["num"], "pullRequest": True})

    def discussion(self, req: FakeRequest) -> FakeResponse:
        repo = self._find(req)
        item = self._discussion(repo, req)
        changes = {"base": f"refs/heads/{item['base']}", "mergeCommitId": item.get("merged")}
        details = {k: v for k, v in item.items() if k not in ("base", "merged")}
        return FakeResponse.json(
            {**details, "changes": changes, "filesWithConflicts": [], "diff": ""}
        )

    def discussion_change(self, req: FakeRequest) -> FakeResponse:
        repo = self._find(req, write=True)
        item = self._discussion(repo, req)
        body = req.json() or {}
        action = req.group("action")
        if action == "comment":
            event = self._comment(body["comment"])
            item["events"].append(event)
            return FakeResponse.json({"newMessage": event})
        if item["status"] == "merged":
            return _error(400, "This pull request is already merged")
        if action == "status":
            event = self._event("status-change", {"status": body["status"]})
            item["status"] = body["status"]
            item["events"].append(event)
            return FakeResponse.json({"newStatus": event})
        if action != "merge":
            return _error(404, f"no fake for discussion action {action!r}")
        repo.branches[item["base"]] = dict(repo.branches[f"refs/pr/{item['num']}"])
        item["merged"] = repo.heads[item["base"]] = _oid()
        item["status"] = "merged"
        return FakeResponse.json({})


def install(server: FakeHTTPServer, user: str = "tester", token: str = "hf_fake") -> FakeHubRepos:
    """Serve the repository endpoints on ``server``; returns the state a test fills and checks."""
    hub = FakeHubRepos(server, user, token)
    routes = [
        ("GET", rf"{API}(?:/revision/(?P<rev>.+))?", hub.info),
        ("GET", rf"{API}/tree/(?P<rev>[^/]+)(?:/(?P<path>.+))?", hub.tree),
        ("GET", RESOLVE, hub.resolve),
        ("POST", rf"{API}/preupload/(?P<rev>[^/]+)", hub.preupload),
        ("POST", rf"{API}/commit/(?P<rev>[^/]+)", hub.commit),
        ("POST", r"/api/validate-yaml", hub.validate_yaml),
        ("POST", r"/api/repos/create", hub.create_repo),
        ("PUT", rf"{API}/settings", hub.update_settings),
        ("GET", rf"{API}/refs", hub.refs),
        ("POST", rf"{API}/branch/(?P<name>[^/]+)", hub.create_branch),
        ("DELETE", rf"{API}/branch/(?P<name>[^/]+)", hub.delete_branch),
        ("POST", rf"{API}/tag/(?P<name>[^/]+)", hub.create_tag),
        ("DELETE", rf"{API}/tag/(?P<name>[^/]+)", hub.delete_tag),
        ("GET", rf"{API}/discussions", hub.list_discussions),
        ("POST", rf"{API}/discussions", hub.create_discussion),
        ("GET", rf"{API}/discussions/(?P<num>\d+)", hub.discussion),
        ("POST", rf"{API}/discussions/(?P<num>\d+)/(?P<action>\w+)", hub.discussion_change),
    ]
    for method, pattern, handler in routes:
        server.route(method, pattern)(_guarded(handler))
    return hub
