"""The user's trust answers (``<data dir>/trust.json``) and this run's verdict on a project.

"Trust always" stores the project's resolved path with the SHA-256 of its config's
content: the same content in another directory, or an edited file, asks again. The file
is in the data directory, a protected path: only the user's own answers change it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ml_intern_tui import paths
from ml_intern_tui.safety.trust_changes import GatedSetting, printable
from ml_intern_tui.safety.user_store import StoreFile

TRUST_FILE = "trust.json"


def trust_store_path(env: Mapping[str, str] | None = None) -> Path:
    """``<data dir>/trust.json``: the projects the user trusts, with the content trusted."""
    return paths.data_dir(env) / TRUST_FILE


@dataclass(frozen=True)
class TrustEntry:
    """A stored "trust always" answer."""

    sha256: str
    config: str
    trusted_at: str


class TrustStore:
    """Trust decisions by resolved project path: the config's SHA-256 and when."""

    def __init__(self, path: Path) -> None:
        self.file = StoreFile(path, what="trusted projects")

    @property
    def path(self) -> Path:
        return self.file.path

    def lookup(self, project: Path) -> tuple[TrustEntry | None, str | None]:
        """The entry for ``project`` (``None`` when absent) and a warning for a broken store."""
        data, warning = self.file.read()
        projects = data.get("projects")
        entry = projects.get(_key(project)) if isinstance(projects, dict) else None
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            return None, warning
        return (
            TrustEntry(
                sha256=entry["sha256"],
                config=str(entry.get("config", "")),
                trusted_at=str(entry.get("trusted_at", "")),
            ),
            warning,
        )

    def trust(self, project: Path, config: Path, digest: str) -> None:
        """Trust ``project``'s config with exactly this content, replacing an older answer."""

        def change(data: dict[str, Any]) -> bool:
            projects = data.get("projects")
            if not isinstance(projects, dict):
                projects = data["projects"] = {}
            projects[_key(project)] = {
                "sha256": digest,
                "config": str(config),
                "trusted_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            return True

        self.file.update(change)

    def forget(self, project: Path) -> bool:
        """Remove the answer for ``project``; True when there was one."""

        def change(data: dict[str, Any]) -> bool:
            projects = data.get("projects")
            return isinstance(projects, dict) and projects.pop(_key(project), None) is not None

        return self.file.update(change)


def _key(project: Path) -> str:
    return os.path.realpath(project)


# ----------------------------------------------------------------------------- the verdict

TrustState = Literal["none", "trusted", "untrusted"]
TrustHow = Literal["", "stored", "flag", "once"]


@dataclass(frozen=True)
class ProjectTrust:
    """Whether this run applies the project config's gated settings, and what they are."""

    config: Path
    state: TrustState
    """``none``: nothing to trust (no file, or only safe keys)."""
    project: Path = Path()
    """The project directory (what a stored answer is keyed by)."""
    settings: tuple[GatedSetting, ...] = ()
    digest: str = ""
    how: TrustHow = ""
    """How it is trusted: stored answer, ``--trust-project``, or "trust once" in the app."""
    stored: TrustEntry | None = None
    """The stored answer for this project (also when it was for other content)."""

    @property
    def asks(self) -> bool:
        """True when the app should ask before it starts."""
        return self.state == "untrusted"

    @property
    def changed_since_trusted(self) -> bool:
        return self.state == "untrusted" and self.stored is not None

    def keys(self, limit: int = 8) -> str:
        """The gated keys, comma-separated (``mode, mcp.servers.x, …``)."""
        names = list(dict.fromkeys(s.key for s in self.settings))
        text = ", ".join(names[:limit])
        return text + (f" and {len(names) - limit} more" if len(names) > limit else "")

    def status(self) -> str:
        """One line for ``/status``."""
        where = printable(str(self.config))
        if self.state == "none":
            exists = self.config.is_file()
            return (
                f"Project config {where}: safe settings only, nothing to trust"
                if exists
                else "Project config: none"
            )
        count = f"{len(self.settings)} setting{'s' if len(self.settings) != 1 else ''}"
        if self.state == "trusted":
            how = {
                "stored": f"trusted always (since {self.stored.trusted_at})"
                if self.stored
                else "trusted always",
                "flag": "trusted for this run (--trust-project)",
                "once": "trusted for this run",
            }.get(self.how, "trusted")
            return f"Project config {where}: {how}; {count} applied ({self.keys(4)})"
        return (
            f"Project config {where}: not trusted; {count} ignored ({self.keys(4)}); "
            "restart to be asked again, or run with --trust-project"
        )

    def headless_line(self) -> str:
        """The one stderr line of a headless run that ignores the gated settings."""
        changed = " (it changed since you trusted it)" if self.changed_since_trusted else ""
        return (
            f"ignoring settings in {printable(str(self.config))} that need your trust"
            f"{changed}: {self.keys()}; run with --trust-project to apply them, or open the "
            "app here and trust the project"
        )
