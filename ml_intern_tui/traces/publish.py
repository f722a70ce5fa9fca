"""Putting traces into the user's traces dataset on the Hub (blocking calls, run in a thread).

Layout: ``sessions/<YYYY-MM-DD>/<session_id>.jsonl`` (the UTC day the session started),
so the dataset browses by day and a session re-uploaded after more turns replaces its own
file. A dataset card (``README.md``) is added with the first upload: it tags the dataset
for the Agent Trace Viewer and says the scrubbing is best effort. ``huggingface_hub`` is
imported by the functions that use it, never at module import.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

CARD_PATH = "README.md"
DEFAULT_TEMPLATE = "{user}/ml-intern-sessions"

DATASET_CARD = """---
pretty_name: ml-intern-tui session traces
task_categories:
- text-generation
tags:
- agent-traces
- format:agent-traces
- claude-code
- coding-agent
- ml-intern-tui
configs:
- config_name: default
  data_files:
  - split: train
    path: sessions/**/*.jsonl
---

# ml-intern-tui session traces

Sessions of the ml-intern-tui agent, one JSONL file per session under
`sessions/<day>/`, in the Claude Code transcript format that the Hub's Agent Trace
Viewer opens.

Known secret forms (Hub, OpenAI, Anthropic, GitHub, AWS and Slack tokens, private keys,
JWTs, passwords in URLs, `NAME=value` secrets) were replaced by `[REDACTED…]` markers
before upload. That scrubbing is best effort: the traces still hold prompts, code, file
paths and command output. Read them before making this dataset public.
"""


class TraceConfigError(ValueError):
    """The repo template cannot name a dataset; the message is one line for a person."""


def repo_for(template: str, user: str) -> str:
    """The dataset id from the template: ``{user}`` (or ``{hf_user}``) is the Hub user."""
    try:
        repo = template.format(user=user, hf_user=user)
    except (KeyError, IndexError, ValueError) as exc:
        raise TraceConfigError(
            f"[traces] repo {template!r} is not a valid template ({exc}); "
            'use e.g. "{user}/ml-intern-sessions"'
        ) from exc
    parts = repo.split("/")
    if len(parts) != 2 or not all(parts) or any(c.isspace() for c in repo):
        raise TraceConfigError(
            f"[traces] repo {template!r} gives {repo!r}, not a dataset id like 'name/dataset'"
        )
    return repo


def path_in_repo(session_id: str, created: float) -> str:
    """Where a session's trace lives in the dataset."""
    day = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%d")
    return f"sessions/{day}/{session_id}.jsonl"


def dataset_url(endpoint: str, repo_id: str) -> str:
    return f"{endpoint.rstrip('/')}/datasets/{repo_id}"


def upload_trace(
    api: Any, repo_id: str, path: str, data: bytes, *, private: bool, session_id: str
) -> None:
    """Create the dataset if needed (``private`` only applies then) and commit one trace."""
    from huggingface_hub import CommitOperationAdd

    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    info = api.repo_info(repo_id, repo_type="dataset")
    names = {getattr(s, "rfilename", "") for s in getattr(info, "siblings", None) or []}
    operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=data)]
    if CARD_PATH not in names:
        operations.append(
            CommitOperationAdd(path_in_repo=CARD_PATH, path_or_fileobj=DATASET_CARD.encode())
        )
    api.create_commit(
        repo_id,
        repo_type="dataset",
        operations=operations,
        commit_message=f"Upload session {session_id}",
    )


def is_private(api: Any, repo_id: str) -> bool | None:
    """The dataset's visibility, or ``None`` when it does not exist yet."""
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        info = api.repo_info(repo_id, repo_type="dataset")
    except RepositoryNotFoundError:
        return None
    return bool(getattr(info, "private", False))


def set_private(api: Any, repo_id: str, private: bool) -> None:
    """Create the dataset if needed, then set its visibility."""
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.update_repo_settings(repo_id, repo_type="dataset", private=private)
