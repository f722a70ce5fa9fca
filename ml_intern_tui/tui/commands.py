"""The slash-command registry: one entry per ``/command`` — name, usage, help, argument
completion and handler — read by the prompt's completion, the Ctrl+P palette, ``/help``
and the dispatcher alike.

Built-in commands register with :func:`command` (``tui/slash.py`` holds them; a feature
in its own module decorates its handler the same way and is imported by the app).
Custom commands (Markdown prompt files, ``core/custom_commands.py``) are added per app
run and can never take a built-in's name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ml_intern_tui.tui.app import MLInternApp

Handler = Callable[["MLInternApp", str], Awaitable[None]]
"""What a command does, given the app and the text after its name."""
CommandSource = Literal["builtin", "project", "user"]


@dataclass(frozen=True)
class SlashCommand:
    """One ``/command``: what it is called, how it is used, what it does."""

    name: str
    usage: str
    help: str
    handler: Handler
    choices: str | None = None
    """Name of the argument list the app can complete (``models``, ``themes``...)."""
    source: CommandSource = "builtin"


class SlashRegistry:
    """The commands of one app run: the built-ins, in order, then the custom ones."""

    def __init__(self, builtins: Iterable[SlashCommand]) -> None:
        self._builtins: dict[str, SlashCommand] = {}
        for entry in builtins:
            if entry.name in self._builtins:
                raise ValueError(f"two built-in commands are called /{entry.name}")
            self._builtins[entry.name] = entry
        self._custom: dict[str, SlashCommand] = {}

    def set_custom(self, commands: Iterable[SlashCommand]) -> list[str]:
        """Replace the custom commands; the names refused because a built-in has them."""
        self._custom, refused = {}, []
        for entry in commands:
            if entry.name in self._builtins:
                refused.append(entry.name)  # a hostile repo's /mode must not be ours
            else:
                self._custom.setdefault(entry.name, entry)
        return refused

    def get(self, name: str) -> SlashCommand | None:
        return self._builtins.get(name) or self._custom.get(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def all(self) -> list[SlashCommand]:
        """Built-ins in their order, then custom commands by name."""
        return [*self._builtins.values(), *sorted(self._custom.values(), key=lambda c: c.name)]

    def complete(self, text: str, arg_choices: Callable[[str], list[str]]) -> list[Completion]:
        """Candidates for what is typed so far: command names, then argument values."""
        if not text.startswith("/") or "\n" in text:
            return []
        body = text[1:]
        if " " not in body:
            prefix = body.lower()
            return [
                Completion(f"/{c.name}", c.usage, c.help)
                for c in self.all()
                if c.name.startswith(prefix)
            ]
        name, _, arg = body.partition(" ")
        entry = self.get(name.lower())
        if entry is None or entry.choices is None:
            return []
        needle = arg.strip().lower()
        return [
            Completion(f"/{entry.name} {value}", value)
            for value in arg_choices(entry.choices)
            if needle in value.lower()
        ][:50]


BUILTINS: list[SlashCommand] = []
"""Every built-in command, in the order ``/help`` and completion list them."""


def command(
    name: str, usage: str, help: str, *, choices: str | None = None
) -> Callable[[Handler], Handler]:
    """Register the decorated handler as the built-in ``/name``."""

    def register(handler: Handler) -> Handler:
        BUILTINS.append(SlashCommand(name, usage, help, handler, choices))
        return handler

    return register


def parse(text: str) -> tuple[str, str] | None:
    """``"/model gpt-4o"`` → ``("model", "gpt-4o")``; ``None`` when it is not a command."""
    text = text.strip()
    if not text.startswith("/") or text.startswith("//") or "\n" in text:
        return None
    name, _, arg = text[1:].partition(" ")
    return name.lower(), arg.strip()


@dataclass(frozen=True)
class Completion:
    """A candidate for the completion popup: the full text it puts in the prompt."""

    text: str
    label: str
    help: str = ""
