"""Finds the custom slash commands at start and tells the front ends (an event)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from ml_intern_tui.core.custom_commands import load_custom_commands
from ml_intern_tui.core.protocol import EventBase, Notice, SlashCommands

log = logging.getLogger(__name__)


class CustomCommandLoader:
    """Reads ``.ml-intern/commands`` and the user's ``commands/`` off the event loop,
    says what it ignored (one warning each) and publishes ``slash_commands``.

    A background service of the app (see ``runtime/agent.py``).
    """

    name = "custom-commands"

    def __init__(
        self, project: Path, user_dir: Path | None, publish: Callable[[EventBase], None]
    ) -> None:
        self.project = project
        self.user_dir = user_dir
        self.publish = publish

    async def run(self) -> None:
        try:
            commands, problems = await asyncio.to_thread(
                load_custom_commands, self.project, self.user_dir
            )
        except Exception as exc:  # a background service never takes the app down
            log.debug("loading custom commands failed", exc_info=True)
            self.publish(Notice(level="warning", text=f"Custom commands were not loaded: {exc}"))
            return
        for problem in problems:
            self.publish(Notice(level="warning", text=problem))
        if commands:
            self.publish(SlashCommands(commands=commands))

    async def aclose(self) -> None:
        return None
