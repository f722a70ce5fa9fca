"""The Hub side of a sandbox Space: create it, watch it build, find its address, delete it.

Every call goes through ``huggingface_hub`` (``HubClient.api``) in a thread. A sandbox
Space is private, named ``<owner>/mlintern-sandbox-<8 hex>`` (the pattern the orphan
listing looks for), and gets its secrets (the random API token, ``HF_TOKEN`` only when
asked) at creation, before any code is uploaded.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ml_intern_tui.integrations.hub import HubClient, hub_error_message

NAME_PREFIX = "mlintern-sandbox-"
NAME_RE = re.compile(rf"^{NAME_PREFIX}[0-9a-f]{{8}}$")
HERE = Path(__file__).resolve().parent
README = """---
title: ml-intern-tui sandbox
sdk: docker
app_port: 7860
pinned: false
---
A private sandbox made by ml-intern-tui. It is deleted when the session ends; if one is
left behind, `ml-intern-tui sandboxes --delete` removes it.
"""

RUNNING_STAGES = frozenset({"RUNNING"})
FAILED_STAGES = frozenset({"BUILD_ERROR", "RUNTIME_ERROR", "CONFIG_ERROR", "NO_APP_FILE"})
"""Stages a new sandbox never leaves by itself (``NO_APP_FILE`` only counts once the
files are uploaded)."""


class SpaceError(Exception):
    """A sandbox Space operation failed; the message is one line for the user and model."""


def new_space_name() -> str:
    return f"{NAME_PREFIX}{secrets.token_hex(4)}"


def new_api_token() -> str:
    return secrets.token_urlsafe(32)


def server_files(template: bool) -> dict[str, bytes]:
    """What is uploaded: our server, and (unless a template brings its own) the Dockerfile."""
    files = {"space_server.py": (HERE / "space_server.py").read_bytes()}
    if not template:
        files["Dockerfile"] = (HERE / "Dockerfile").read_bytes()
        files["README.md"] = README.encode()
    return files


def check_host(url: str) -> str:
    """The Space's address, when it is one we may send tokens to: https, or a loopback
    address (a local fake); anything else is a ``SpaceError``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    loopback = False
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if parts.scheme == "https" and host:
        return url.rstrip("/")
    if parts.scheme == "http" and loopback:
        return url.rstrip("/")
    raise SpaceError(f"the Hub gave the sandbox an address tokens must not go to: {url!r}")


@dataclass
class Orphan:
    """A sandbox Space of this user's found by the listing."""

    repo_id: str
    created_at: datetime | None

    def age_hours(self, now: datetime | None = None) -> float | None:
        if self.created_at is None:
            return None
        return ((now or datetime.now(UTC)) - self.created_at).total_seconds() / 3600


class SpaceHub:
    """Sandbox Space operations on the Hub (blocking calls in threads)."""

    def __init__(self, hub: HubClient) -> None:
        self.hub = hub

    async def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        try:
            return await self.hub.run(fn, *args, **kw)
        except SpaceError:
            raise
        except Exception as exc:
            raise SpaceError(f"{what}: {hub_error_message(exc)}") from exc

    async def owner(self, namespace: str | None) -> str:
        self.hub.require_token()
        if namespace:
            return namespace
        return (await self.hub.whoami()).name

    async def create(
        self,
        repo_id: str,
        *,
        hardware: str,
        sleep_time_s: int | None,
        secrets: dict[str, str],
        template: str | None,
    ) -> None:
        """Create the private Space with its secrets, then upload the server (one commit)."""
        from huggingface_hub import CommitOperationAdd

        api = self.hub.api
        secret_list = [{"key": key, "value": value} for key, value in secrets.items()]
        sleep = sleep_time_s if hardware != "cpu-basic" else None
        if template:
            await self._call(
                f"could not duplicate {template}",
                api.duplicate_space,
                template,
                repo_id,
                private=True,
                hardware=hardware,
                sleep_time=sleep,
                secrets=secret_list,
            )
        else:
            await self._call(
                "could not create the sandbox Space",
                api.create_repo,
                repo_id,
                repo_type="space",
                space_sdk="docker",
                private=True,
                space_hardware=hardware,
                space_sleep_time=sleep,
                space_secrets=secret_list,
            )
        operations = [
            CommitOperationAdd(path_in_repo=name, path_or_fileobj=data)
            for name, data in server_files(bool(template)).items()
        ]
        await self._call(
            "could not upload the sandbox server",
            api.create_commit,
            repo_id,
            operations,
            commit_message="ml-intern-tui sandbox server",
            repo_type="space",
        )

    async def runtime(self, repo_id: str) -> tuple[str, str | None, str]:
        """(stage, current hardware, error message) of the Space."""
        info = await self._call(
            "could not read the sandbox status", self.hub.api.get_space_runtime, repo_id
        )
        raw = getattr(info, "raw", {}) or {}
        message = str(raw.get("errorMessage") or "").splitlines()[0:1]
        stage = str(getattr(info.stage, "value", info.stage)).upper()
        hardware = info.hardware
        return (
            stage,
            str(getattr(hardware, "value", hardware)) if hardware else None,
            (message[0] if message else ""),
        )

    async def address(self, repo_id: str) -> str:
        """The Space's own URL (``https://owner-name.hf.space``), checked."""
        info = await self._call(
            "could not read the sandbox Space", self.hub.api.space_info, repo_id
        )
        host = getattr(info, "host", None)
        if not host:
            subdomain = (
                getattr(info, "subdomain", None)
                or repo_id.replace("/", "-").replace("_", "-").replace(".", "-").lower()
            )
            host = f"https://{subdomain}.hf.space"
        return check_host(str(host))

    def build_log(self, repo_id: str, stop: threading.Event) -> Iterator[str]:
        """The build log as it comes (blocking; runs in a thread until ``stop`` or the end)."""
        for line in self.hub.api.fetch_space_logs(repo_id, build=True, follow=True):
            if stop.is_set():
                return
            yield from str(line).splitlines() or [""]

    async def delete(self, repo_id: str, *, attempts: int = 3, backoff_s: float = 1.0) -> None:
        """Delete the Space (a missing one is fine), retrying; ``SpaceError`` when it stays."""
        last = ""
        for attempt in range(attempts):
            try:
                await self.hub.run(
                    self.hub.api.delete_repo, repo_id, repo_type="space", missing_ok=True
                )
                return
            except Exception as exc:
                last = hub_error_message(exc)
            if attempt + 1 < attempts:
                await asyncio.sleep(backoff_s * (2**attempt))
        raise SpaceError(f"could not delete the sandbox Space {repo_id}: {last}")

    async def sandboxes(self, owner: str) -> list[Orphan]:
        """This owner's Spaces named like a sandbox (oldest first)."""

        def listing() -> list[Orphan]:
            found = []
            for info in self.hub.api.list_spaces(author=owner, search=NAME_PREFIX):
                repo_id = str(info.id)
                if repo_id.partition("/")[0] != owner or not NAME_RE.match(
                    repo_id.partition("/")[2]
                ):
                    continue
                created = getattr(info, "created_at", None)
                found.append(Orphan(repo_id, created if isinstance(created, datetime) else None))
            return sorted(found, key=lambda o: o.created_at or datetime.max.replace(tzinfo=UTC))

        found: list[Orphan] = await self._call("could not list the sandbox Spaces", listing)
        return found
