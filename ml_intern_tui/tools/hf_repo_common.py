"""Helpers shared by the Hub repository tools (``hf_repo_files``, ``hf_repo_git``).

``hub_call`` runs a blocking huggingface_hub call off the event loop and turns any
failure into one ``ToolError`` line the model can act on: repo not found, gated,
revision or file missing, no or bad token, conflicts, server errors, no network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from ml_intern_tui.core.services import HubService
from ml_intern_tui.core.tool import ToolError
from ml_intern_tui.integrations.hub import hub_error_message

RepoType = Literal["model", "dataset", "space"]
T = TypeVar("T")


def repo_label(repo_id: str, repo_type: str) -> str:
    return f"{repo_type} repo {repo_id}"


def repo_url(hub: HubService, repo_id: str, repo_type: str) -> str:
    """The repository's web page."""
    return hub.url(f"{'' if repo_type == 'model' else repo_type + 's/'}{repo_id}")


def hub_failure(
    exc: BaseException,
    hub: HubService,
    repo_id: str,
    repo_type: str,
    *,
    revision: str | None = None,
    path: str | None = None,
) -> str:
    """One line saying why a Hub call about ``repo_id`` failed and what to do."""
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    label = repo_label(repo_id, repo_type)
    if isinstance(exc, GatedRepoError):
        return f"{label} is gated: request access at {repo_url(hub, repo_id, repo_type)}"
    if isinstance(exc, RepositoryNotFoundError):
        hint = "" if hub.token else "; if it is private, set HF_TOKEN"
        return f"{label} not found (check the id and repo_type){hint}"
    if isinstance(exc, RevisionNotFoundError):
        return f"revision {revision or 'main'!r} not found in {label}"
    if isinstance(exc, EntryNotFoundError):
        return f"{path or 'the file'} not found in {label} at {revision or 'main'}"
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else None
        said = (exc.server_message or "").strip().splitlines()
        detail = said[0] if said else ""
        if status == 401:
            return "the Hub rejected the token (401): check HF_TOKEN or run `hf auth login`"
        if status == 403:
            return f"forbidden (403): your token cannot write to {label}{': ' + detail if detail else ''}"
        if status == 409:
            return f"conflict (409) on {label}: {detail or 'it already exists'}"
        message = hub_error_message(exc)
        return f"{message} ({detail})" if detail and detail not in message else message
    if isinstance(exc, ValueError):
        return f"invalid request for {label}: {str(exc).splitlines()[0] if str(exc) else exc!r}"
    if isinstance(exc, OSError) or type(exc).__module__.startswith("httpx"):
        return f"cannot reach the Hub at {hub.endpoint}: {type(exc).__name__}: {exc}"
    return f"{label}: {type(exc).__name__}: {exc}"


async def hub_call(
    hub: HubService,
    fn: Callable[..., T],
    *args: Any,
    where: tuple[str, str],
    about_path: str | None = None,
    about_revision: str | None = None,
    **kwargs: Any,
) -> T:
    """``hub.run(fn, ...)`` with every failure turned into a one-line ToolError.

    ``where`` is (repo_id, repo_type) for the message; ``about_path`` and
    ``about_revision`` name the file and revision when ``fn`` takes no such keywords.
    """
    try:
        return await hub.run(fn, *args, **kwargs)
    except (ToolError, asyncio.CancelledError):
        raise
    except Exception as exc:
        revision = kwargs.get("revision") or about_revision
        message = hub_failure(exc, hub, *where, revision=revision, path=about_path)
        raise ToolError(message) from exc


def human_size(size: int) -> str:
    if size < 1000:
        return f"{size:,} byte{'' if size == 1 else 's'}"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            return f"{value:.1f} {unit}"
    raise AssertionError  # unreachable
