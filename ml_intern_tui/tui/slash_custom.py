"""Custom slash commands in the TUI: registry entries whose handler sends a prompt."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from ml_intern_tui.core.custom_commands import CustomCommand, expand
from ml_intern_tui.tui.commands import SlashCommand

if TYPE_CHECKING:
    from ml_intern_tui.tui.app import MLInternApp

SOURCE_LABEL = {"project": "project command", "user": "your command"}


async def send_prompt(custom: CustomCommand, app: MLInternApp, arg: str) -> None:
    """Send the command's prompt as the user's message (queued while a turn runs).

    Nothing else: the text goes through the same approval gate as anything typed.
    """
    app.send_message(expand(custom, arg))


def registry_entry(custom: CustomCommand) -> SlashCommand:
    """The registry's view of a prompt file: usage, help saying where it comes from."""
    usage = f"/{custom.name}" + (f" {custom.argument_hint}" if custom.argument_hint else "")
    label = SOURCE_LABEL[custom.source]
    help_text = f"{custom.description} ({label})" if custom.description else f"({label})"
    return SlashCommand(
        custom.name, usage, help_text, partial(send_prompt, custom), source=custom.source
    )


def install(app: MLInternApp, commands: list[CustomCommand]) -> None:
    """Put the custom commands into the app's registry; say which ones were refused."""
    refused = app.commands.set_custom(registry_entry(c) for c in commands)
    for name in refused:
        app.local_notice(
            f"Ignored the custom command /{name}: /{name} is a built-in command.",
            "warning",
            hint=f"Rename the file {name}.md to use it.",
        )
