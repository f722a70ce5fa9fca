"""Remembered approvals per project, kept where only the user's own answers change them.

Answering "remember" stores a rule here -- ``<data dir>/approvals.json``, keyed by the
project's resolved path -- and no longer in the project's ``.ml-intern/config.toml``,
which anything in the project (a cloned repository, the model before protected paths)
could write. The data directory is a protected path: a tool writing there always asks.
Rules of the user config's ``[approvals] remembered`` still apply everywhere; rules in a
project config apply only while that project is trusted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ml_intern_tui import paths
from ml_intern_tui.core.tool import RememberRule
from ml_intern_tui.safety.user_store import StoreFile

RULES_FILE = "approvals.json"


def rules_store_path(env: Mapping[str, str] | None = None) -> Path:
    """``<data dir>/approvals.json``."""
    return paths.data_dir(env) / RULES_FILE


class RulesStore:
    """The user's remembered approvals, one list per project."""

    def __init__(self, path: Path | None = None) -> None:
        self.file = StoreFile(path or rules_store_path(), what="remembered approvals")

    @property
    def path(self) -> Path:
        return self.file.path

    def load(self, project: Path) -> tuple[list[RememberRule], str | None]:
        """The rules for ``project`` and a warning when the store cannot be read.

        An entry that is not a valid rule is skipped (and said in the warning).
        """
        data, warning = self.file.read()
        found = _project(data, project, create=False) or []
        rules: list[RememberRule] = []
        skipped = 0
        for item in found:
            try:
                rules.append(RememberRule.model_validate(item))
            except ValidationError:
                skipped += 1
        if skipped and warning is None:
            warning = f"{self.path}: skipped {skipped} entries that are not valid rules"
        return rules, warning

    def add(self, project: Path, rule: RememberRule) -> bool:
        """Store ``rule`` for ``project``; False when it was already there."""
        wanted = rule.model_dump()

        def change(data: dict[str, Any]) -> bool:
            rules = _project(data, project, create=True)
            assert rules is not None
            if wanted in rules:
                return False
            rules.append(wanted)
            return True

        return self.file.update(change)

    def remove(self, project: Path, rule: RememberRule) -> bool:
        """Forget ``rule`` for ``project``; False when it was not stored."""
        wanted = rule.model_dump()

        def change(data: dict[str, Any]) -> bool:
            rules = _project(data, project, create=False)
            if not rules or wanted not in rules:
                return False
            rules[:] = [item for item in rules if item != wanted]
            if not rules:
                del data["projects"][_key(project)]
            return True

        return self.file.update(change)


def _key(project: Path) -> str:
    return os.path.realpath(project)


def _project(data: dict[str, Any], project: Path, *, create: bool) -> list[Any] | None:
    projects = data.get("projects")
    if not isinstance(projects, dict):
        if not create:
            return None
        projects = data["projects"] = {}
    rules = projects.get(_key(project))
    if not isinstance(rules, list):
        if not create:
            return None
        rules = projects[_key(project)] = []
    return rules
