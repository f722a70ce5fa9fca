"""A session's remembered approvals: where each rule comes from, and where answers go.

Rules come from the user's own config (``[approvals] remembered``), a trusted project's
config, ``ML_INTERN_*`` variables, and the per-project store in the data directory
(``config.rules_store``). "Remember" answers go to that store, never to the project's
file. ``/permissions`` removes a rule where it lives: the store or the user config
(comments kept); a rule from the project file or a variable is removed there, and the
list says how.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_intern_tui.core.protocol import Notice
from ml_intern_tui.core.tool import RememberRule

if TYPE_CHECKING:
    from ml_intern_tui.config.loader import LoadedConfig
    from ml_intern_tui.config.schema import AppConfig
    from ml_intern_tui.core.protocol import EventBase


@dataclass
class RuleBook:
    """The rules a session starts with, and for each where it comes from."""

    rules: list[RememberRule] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    """``rule.describe()`` → where it comes from, as the user reads it."""
    fixed: dict[str, str] = field(default_factory=dict)
    """``rule.describe()`` → how to remove it, for rules the app does not remove itself."""
    warning: str | None = None


def gather(settings: AppConfig, cwd: Path, loaded: LoadedConfig | None) -> RuleBook:
    """Every rule that applies in ``cwd``, first source wins for a rule listed twice."""
    from ml_intern_tui.config.rules_store import RulesStore

    book = RuleBook()
    for index, configured in enumerate(settings.approvals.remembered):
        rule = RememberRule.model_validate(configured.model_dump())
        origin = loaded.origin(f"approvals.remembered[{index}]") if loaded else None
        where, fix = _configured_source(origin, loaded)
        _add(book, rule, where, fix)
    store = RulesStore()
    stored, book.warning = store.load(cwd)
    for rule in stored:
        _add(book, rule, f"your answer for this project ({store.path})", None)
    return book


def _configured_source(origin: str | None, loaded: LoadedConfig | None) -> tuple[str, str | None]:
    """(where, how to remove it or None when the app removes it itself)."""
    if loaded is not None and origin == str(loaded.user_path):
        return f"your config ({origin})", None
    if loaded is not None and origin == str(loaded.project_path):
        return (
            f"the project's config, trusted ({origin})",
            f"it is in {origin}: edit that file to remove it",
        )
    if origin and origin.startswith("environment variable"):
        return f"the {origin}", f"it comes from the {origin}: unset or change it"
    if origin:
        return origin, f"it comes from {origin}"
    return "the settings this session started with", "it is not in a file the app manages"


def _add(book: RuleBook, rule: RememberRule, where: str, fix: str | None) -> None:
    key = rule.describe()
    if key in book.sources:
        return
    book.rules.append(rule)
    book.sources[key] = where
    if fix is not None:
        book.fixed[key] = fix


class RuleKeeper:
    """Saves "remember" answers to the store and removes rules where they live."""

    def __init__(
        self, cwd: Path, user_config: Path | None, publish: Callable[[EventBase], Any]
    ) -> None:
        self.cwd = cwd
        self.user_config = user_config
        self.publish = publish

    def persist(self, rule: RememberRule) -> None:
        from ml_intern_tui.config.rules_store import RulesStore

        store = RulesStore()
        try:
            store.add(self.cwd, rule)
        except OSError as exc:
            self.publish(
                Notice(
                    level="warning",
                    text=f"Could not save the rule to {store.path}: {exc}; "
                    "it applies for this session only",
                )
            )
            return
        self.publish(
            Notice(
                text=f"Remembered {rule.describe()} for this project (in {store.path}); "
                "/permissions lists and removes it"
            )
        )

    def forget(self, rule: RememberRule) -> None:
        """Remove ``rule`` from the store and from the user config, wherever it is."""
        from ml_intern_tui.config.rules_store import RulesStore
        from ml_intern_tui.config.writer import remove_remembered

        store = RulesStore()
        try:
            store.remove(self.cwd, rule)
            if self.user_config is not None and self.user_config.exists():
                with contextlib.suppress(ValueError):
                    remove_remembered(self.user_config, rule.model_dump())
        except Exception as exc:  # unwritable, or the user config is not valid TOML
            self.publish(
                Notice(
                    level="warning",
                    text=f"Could not remove {rule.describe()} from where it is stored: {exc}",
                )
            )
