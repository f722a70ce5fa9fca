"""The F1 page: the keys as bound right now (keymap overrides included) and the commands."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual.binding import Binding

from ml_intern_tui.core.hub_mentions import HELP as HUB_MENTION_HELP

if TYPE_CHECKING:
    from ml_intern_tui.tui.app import MLInternApp

APPROVAL_NOTE = (
    "When the agent asks for approval the drawer above the prompt takes focus: one key "
    "answers the current item, items are answered in order, and **r** shows the exact "
    "scope it would remember before saving. **Esc** goes back to the prompt (the request "
    "stays open; **Esc** again returns to it)."
)


def _bindings_of(owner: type) -> list[Binding]:
    return [b for b in getattr(owner, "BINDINGS", []) if isinstance(b, Binding) and b.description]


def _cell(text: str) -> str:
    """Table cell text: a custom command's description cannot break the table or link."""
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", " ".join(text.split()))


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def help_markdown(app: MLInternApp) -> str:
    from ml_intern_tui.tui.widgets.approval import ApprovalDrawer
    from ml_intern_tui.tui.widgets.jobs import JobsPanel
    from ml_intern_tui.tui.widgets.prompt import PromptInput

    overrides = {key: keys for key, keys in app.settings.keymap.items() if keys}
    sections: list[tuple[str, type]] = [
        ("Anywhere", type(app)),
        ("Prompt", PromptInput),
        ("Approval drawer", ApprovalDrawer),
        ("Jobs pane", JobsPanel),
    ]
    out = ["# ml-intern keys", ""]
    for title, owner in sections:
        out += [f"## {title}", "", "| keys | does | id |", "|---|---|---|"]
        for binding in _bindings_of(owner):
            keys = overrides.get(binding.id or "", binding.key)
            out.append(f"| `{keys}` | {binding.description} | `{binding.id or ''}` |")
        out.append("")
    out += [
        "Ctrl+C clears the prompt (then the queue); a second Ctrl+C within a second quits.",
        "While the agent works, Enter queues your message; it is sent when the turn ends. "
        "Esc interrupts, and what you queued is sent right after.",
        "",
        "`@path` attaches a file of the project (Tab completes it); "
        + HUB_MENTION_HELP.replace("@hf:", "`@hf:", 1).replace(" attaches", "` attaches", 1)
        + ".",
        "",
        APPROVAL_NOTE,
        "",
        'Override any key in the config: `[keymap]` with `id = "keys"`, e.g. `"app.undo" = "f5"`.',
        "",
        "## Slash commands (also in the Ctrl+P palette)",
        "",
        "| command | does |",
        "|---|---|",
    ]
    out += [f"| {_code(c.usage)} | {_cell(c.help)} |" for c in app.commands.all()]
    return "\n".join(out) + "\n"
