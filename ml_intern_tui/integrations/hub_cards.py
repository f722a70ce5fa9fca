"""Hub cards for ``@hf:`` mentions, fetched through huggingface_hub.

``HubCardSource`` is the ``CardSource`` of ``core/hub_mentions.py``: it reads a model's
or dataset's info (``HfApi.model_info`` / ``dataset_info``) and the first part of its
``README.md`` (streamed through huggingface_hub's HTTP session, so a huge card is never
read whole), with the session's endpoint and token. Every failure is one line.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ml_intern_tui.core.hub_mentions import CardLookupError, HubCard, RepoKind
from ml_intern_tui.integrations.hub import HubClient, hub_error_message

MAX_README_BYTES = 64_000
"""Read of a card at most (the core keeps less of it; this bounds the download)."""
MAX_TAGS = 15
MAX_FILES = 20
_FRONT_MATTER = re.compile(r"\A\ufeff?---\s*\n.*?\n---\s*(?:\n|\Z)", re.DOTALL)


def strip_front_matter(text: str) -> str:
    """A README without its YAML header (the info's fields say what it holds)."""
    return _FRONT_MATTER.sub("", text, count=1).strip()


class HubCardSource:
    """Cards of Hub repositories for ``@hf:`` mentions (blocking calls; run in a thread)."""

    def __init__(self, hub: HubClient) -> None:
        self.hub = hub

    def card(self, repo_id: str, kind: RepoKind | None) -> HubCard:
        """The card of ``repo_id``: the model's when ``kind`` is None and one exists, else
        the dataset's. CardLookupError (one line) when neither can be had."""
        from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

        kinds: list[RepoKind] = [kind] if kind else ["model", "dataset"]
        for candidate in kinds:
            try:
                info = self._info(repo_id, candidate)
            except GatedRepoError:
                raise CardLookupError(
                    f"{candidate} {repo_id} is gated: accept its conditions on the Hub "
                    "(and /login with that account)"
                ) from None
            except RepositoryNotFoundError:
                continue
            except CardLookupError:
                raise
            except Exception as exc:  # network, server: one line, never a traceback
                raise CardLookupError(_one_line(exc)) from None
            return self._card(repo_id, candidate, info)
        what = f"no {kind}" if kind else "no model or dataset"
        raise CardLookupError(
            f"{what} {repo_id} on the Hub (check the id; a private one needs /login)"
        )

    def _info(self, repo_id: str, kind: RepoKind) -> Any:
        api = self.hub.api
        if kind == "model":
            return api.model_info(repo_id)
        return api.dataset_info(repo_id)

    def _card(self, repo_id: str, kind: RepoKind, info: Any) -> HubCard:
        prefix = "" if kind == "model" else "datasets/"
        url = self.hub.url(f"{prefix}{repo_id}")
        names = [str(getattr(s, "rfilename", "")) for s in getattr(info, "siblings", None) or []]
        text = ""
        if "README.md" in names or not names:
            text = self._readme(repo_id, kind)
        return HubCard(
            repo_id=repo_id, kind=kind, url=url, facts=facts(repo_id, kind, info, names), text=text
        )

    def _readme(self, repo_id: str, kind: RepoKind) -> str:
        from huggingface_hub import get_session, hf_hub_url
        from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

        url = hf_hub_url(repo_id, "README.md", repo_type=kind, endpoint=self.hub.endpoint)
        headers = build_hf_headers(token=self.hub.token or False)
        buf = bytearray()
        try:
            with get_session().stream("GET", url, headers=headers, follow_redirects=True) as r:
                if r.status_code != 200:
                    return ""  # no card: the facts still go
                for chunk in r.iter_bytes():
                    buf += chunk
                    if len(buf) >= MAX_README_BYTES:
                        break
        except Exception:  # the info came; a card that cannot be read is just missing
            return ""
        if b"\0" in buf[:8192]:
            return ""
        return strip_front_matter(bytes(buf[:MAX_README_BYTES]).decode("utf-8", "replace"))


def _one_line(exc: BaseException) -> str:
    text = hub_error_message(exc)
    return f"could not read it from the Hub: {text.splitlines()[0] if text else exc}"


def _card_data(info: Any) -> dict[str, Any]:
    data = getattr(info, "card_data", None)
    if data is None:
        return {}
    if hasattr(data, "to_dict"):
        found = data.to_dict()
        return found if isinstance(found, dict) else {}
    return dict(data) if isinstance(data, dict) else {}


def _listed(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value[:MAX_TAGS])
    return str(value)


def facts(repo_id: str, kind: RepoKind, info: Any, files: list[str]) -> list[str]:
    """Short ``label: value`` lines about a repository, from its info."""
    data = _card_data(info)
    lines = [f"{kind.capitalize()}: {repo_id}"]

    def add(label: str, value: Any) -> None:
        if value not in (None, "", [], {}):
            lines.append(f"{label}: {_listed(value)}")

    add("Task", getattr(info, "pipeline_tag", None) or data.get("task_categories"))
    add("Library", getattr(info, "library_name", None) or data.get("library_name"))
    add("License", data.get("license"))
    add("Language", data.get("language"))
    add("Base model", data.get("base_model"))
    add("Datasets", data.get("datasets"))
    add("Size", data.get("size_categories"))
    for name in ("downloads", "likes"):
        count = getattr(info, name, None)
        if isinstance(count, int):
            lines.append(f"{name.capitalize()}: {count:,}")
    changed = getattr(info, "last_modified", None)
    if isinstance(changed, datetime):
        lines.append(f"Last modified: {changed.date().isoformat()}")
    gated = getattr(info, "gated", None)
    if gated:
        lines.append(f"Gated: {gated} (access must be requested on the Hub)")
    if getattr(info, "private", False):
        lines.append("Private: yes")
    tags = [t for t in getattr(info, "tags", None) or [] if ":" not in str(t)]
    add("Tags", tags)
    if files:
        shown = ", ".join(files[:MAX_FILES])
        more = f" and {len(files) - MAX_FILES} more" if len(files) > MAX_FILES else ""
        lines.append(f"Files ({len(files)}): {shown}{more}")
    return lines
