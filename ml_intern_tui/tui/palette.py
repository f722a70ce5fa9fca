"""The command palette offers every slash command and a few pane actions."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

if TYPE_CHECKING:
    from ml_intern_tui.tui.app import MLInternApp


class AgentCommands(Provider):
    """``/model``, ``/compact``… and pane actions, searchable by name and help text."""

    def _entries(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = cast("MLInternApp", self.app)
        entries: list[tuple[str, str, Callable[[], object]]] = []
        for command in app.commands.all():
            # help is drawn as markup: a project command's description must stay text
            help_text = escape(command.help)
            entries.append((f"/{command.name}", help_text, partial(app.run_slash, command.name)))
        entries += [
            (
                "Approve all pending",
                "Answer every pending approval with yes",
                app.action_approve_all,
            ),
            ("Toggle side panes", "Show or hide tool calls, plan and jobs", app.action_toggle_side),
            ("Focus next pane", "Move focus to the next pane", app.action_focus_next_pane),
            ("Interrupt", "Stop the agent's current turn", app.action_interrupt),
        ]
        return entries

    async def discover(self) -> Hits:
        for name, help_text, callback in self._entries():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._entries():
            score = max(matcher.match(name), matcher.match(help_text) * 0.8)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)
