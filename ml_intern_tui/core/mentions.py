"""``@path`` mentions: the files a user names in a message, attached as context.

The user's message starts the turn as typed; the files follow it as one more message
(so undo puts back only what was typed). A file is attached only when it is a regular
text file inside the project, not a credential store or an ``.env`` file, and small
enough; otherwise one line says why it was not. Known secret values are scrubbed from
what is attached, as from a tool's output.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ml_intern_tui.core import hub_mentions, known_secrets
from ml_intern_tui.core.protocol import Notice, TurnStarted

if TYPE_CHECKING:
    from ml_intern_tui.core.hub_mentions import CardSource
    from ml_intern_tui.core.session import Session

MAX_FILE_BYTES = 100_000
"""A larger file is refused (the model can read parts of it with the read tool)."""
MAX_TOTAL_BYTES = 250_000
"""All attachments of one message together."""
MAX_MENTIONS = 20
_SNIFF = 8_192


@dataclass(frozen=True)
class Attached:
    """One mention's outcome: the text to attach, or why not."""

    name: str
    text: str = ""
    problem: str = ""


def _refusal(path: Path, project: Path) -> str | None:
    from ml_intern_tui.safety.credentials import credential_reason, is_env_file

    try:
        real = path.resolve()
    except (OSError, ValueError, RuntimeError) as exc:
        return f"cannot be resolved ({exc})"
    if not real.is_relative_to(project.resolve()):
        return "is outside the project"
    if is_env_file(real):
        return "is an environment file (it holds secrets)"
    reason = credential_reason(real)
    return f"is refused: {reason}" if reason else None


def read_mention(project: Path, name: str, budget: int) -> Attached:
    """Read the file ``name`` (relative to ``project``) for attaching, or say why not."""
    from ml_intern_tui.safety.local_files import NotReadable, read_regular

    path = project / name
    if not path.exists():
        return Attached(name, problem="no such file in the project")
    if (refused := _refusal(path, project)) is not None:
        return Attached(name, problem=refused)
    limit = min(MAX_FILE_BYTES, budget)
    try:
        data = read_regular(path, limit)
    except NotReadable as exc:
        if limit < MAX_FILE_BYTES and "larger" in exc.reason:
            return Attached(name, problem="over the attachment budget of this message")
        return Attached(name, problem=f"{exc.reason} (attachments are capped)")
    except OSError as exc:
        return Attached(name, problem=f"cannot be read ({exc.strerror or exc})")
    if b"\0" in data[:_SNIFF]:
        return Attached(name, problem="is a binary file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return Attached(name, problem="is not UTF-8 text")
    return Attached(name, text=text)


def attach_all(project: Path, names: list[str]) -> list[Attached]:
    """Each distinct mention (at most ``MAX_MENTIONS``) read within the total budget."""
    budget = MAX_TOTAL_BYTES
    out: list[Attached] = []
    for name in list(dict.fromkeys(n.strip() for n in names if n.strip()))[:MAX_MENTIONS]:
        attached = read_mention(project, name, budget)
        budget -= len(attached.text.encode("utf-8"))
        out.append(attached)
    return out


def context_message(files: list[Attached]) -> str:
    """The message that carries the attached files to the model."""
    parts = ["Files I attached with @ (as they are on disk now):"]
    for f in files:
        parts.append(f'<file path="{f.name}">\n{f.text.rstrip()}\n</file>')
    return "\n\n".join(parts)


def size_label(text: str) -> str:
    size = len(text.encode("utf-8"))
    return f"{size} B" if size < 1024 else f"{size / 1024:.1f} kB"


async def start_turn(
    session: Session, text: str, mentions: list[str], cards: CardSource | None = None
) -> None:
    """Start the turn with what the user typed, then attach the files it mentions (and
    the Hub cards of its ``@hf:`` mentions, fetched by ``cards``)."""
    session.context.start_turn(text)
    session.publish(TurnStarted(text=text))
    if not mentions:
        return
    hub = [m for m in mentions if hub_mentions.is_hub_mention(m)]
    paths = [m for m in mentions if not hub_mentions.is_hub_mention(m)]
    if paths:
        await _attach_files(session, paths)
    if hub:
        await _attach_cards(session, hub, cards)


async def _attach_files(session: Session, mentions: list[str]) -> None:
    results = await asyncio.to_thread(attach_all, session.cwd, mentions)
    for refused in (r for r in results if r.problem):
        session.publish(
            Notice(level="warning", text=f"@{refused.name} not attached: {refused.problem}.")
        )
    files = [r for r in results if not r.problem]
    if files:
        known_secrets.refresh()
        session.context.inject(known_secrets.scrub(context_message(files)), origin="mention")
        listed = ", ".join(f"{f.name} ({size_label(f.text)})" for f in files)
        session.publish(Notice(text=f"Attached {listed}."))


async def _attach_cards(session: Session, mentions: list[str], cards: CardSource | None) -> None:
    results = await asyncio.to_thread(hub_mentions.fetch_all, cards, mentions)
    found = [r for _, r in results if isinstance(r, hub_mentions.HubCard)]
    for name, result in results:
        if isinstance(result, str):
            session.publish(Notice(level="warning", text=f"@{name} not attached: {result}."))
    if found:
        known_secrets.refresh()
        message = known_secrets.scrub(hub_mentions.card_message(found))
        session.context.inject(message, origin="mention")
        listed = ", ".join(f"the Hub card of {hub_mentions.label(c)}" for c in found)
        session.publish(Notice(text=f"Attached {listed} ({size_label(message)})."))
