"""``@hf:`` mentions: the Hub card of a model or dataset, attached to a message as context.

``@hf:org/name`` names a model repository, or a dataset when no model has that id (the
model is tried first, as on the Hub's own URLs); ``@hf:datasets/org/name`` and
``@hf:models/org/name`` say which. The core only parses the mention and shapes what is
attached: the card is fetched by a ``CardSource`` the composition root injects (it talks
to the Hub through huggingface_hub; ``core/`` never imports it). A card is size-capped,
scrubbed of known secret values and made terminal-safe; an id that is malformed or not
on the Hub gives one warning line and the message still goes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, Protocol

RepoKind = Literal["model", "dataset"]

PREFIX = "hf:"
MAX_CARDS = 5
"""Hub cards attached to one message at most (the rest get a warning line)."""
MAX_CARD_CHARS = 12_000
"""The card's text kept (its YAML header is summarised, not copied)."""

_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
_REPO_RE = re.compile(rf"^(?:{_PART}/)?{_PART}$")
_KINDS: dict[str, RepoKind] = {"models": "model", "datasets": "dataset"}
HELP = (
    "@hf:org/name attaches the Hub card of that model (or of a dataset when no model has "
    "that id); @hf:datasets/org/name or @hf:models/org/name say which"
)


class CardLookupError(Exception):
    """The card cannot be had: one line saying why (and what to do)."""


@dataclass(frozen=True)
class HubCard:
    """What the Hub says about one repository, as the card source found it."""

    repo_id: str
    kind: RepoKind
    url: str
    facts: list[str] = field(default_factory=list)
    """Short ``label: value`` lines (license, task, downloads, last change...)."""
    text: str = ""
    """The README without its YAML header (may be empty: no card)."""


class CardSource(Protocol):
    """Fetches a card (blocking; the core calls it in a thread)."""

    def card(self, repo_id: str, kind: RepoKind | None) -> HubCard:
        """The card of ``repo_id`` (model first when ``kind`` is None) or CardLookupError."""
        ...


@dataclass(frozen=True)
class HubMention:
    """One ``@hf:`` mention as parsed: what the user typed, the id and the kind asked."""

    typed: str
    repo_id: str
    kind: RepoKind | None


def is_hub_mention(name: str) -> bool:
    """Whether a mention (without its ``@``) is an ``hf:`` one."""
    return name.lower().startswith(PREFIX)


def parse(name: str) -> HubMention:
    """``hf:…`` as a repository id and kind, or CardLookupError saying what is wrong."""
    body = name[len(PREFIX) :].strip().rstrip("/")
    kind: RepoKind | None = None
    head, _, rest = body.partition("/")
    if head.lower() in _KINDS and rest:
        kind, body = _KINDS[head.lower()], rest
    if not body:
        raise CardLookupError(f"no repository after {PREFIX}: write @hf:org/name")
    if not _REPO_RE.match(body) or ".." in body:
        raise CardLookupError(
            "is not a Hub repository id (org/name of letters, digits, '-', '_' and '.')"
        )
    return HubMention(typed=name, repo_id=body, kind=kind)


def label(card: HubCard) -> str:
    """``model org/name`` / ``dataset org/name``."""
    return f"{card.kind} {card.repo_id}"


def cut_text(text: str, limit: int = MAX_CARD_CHARS) -> tuple[str, bool]:
    """The first ``limit`` characters of a card's text (at a line end when one is near)."""
    text = text.strip()
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    line_end = head.rfind("\n")
    return (head[:line_end] if line_end > limit // 2 else head).rstrip(), True


def card_message(cards: list[HubCard]) -> str:
    """The message that carries the attached cards to the model."""
    from ml_intern_tui.safety.terminal import terminal_safe

    parts = ["Hugging Face Hub cards I attached with @hf: (as the Hub has them now):"]
    for card in cards:
        text, cut = cut_text(card.text)
        body = "\n".join(card.facts)
        if text:
            body += f"\n\n{text}"
        else:
            body += "\n\n(The repository has no card text.)"
        if cut:
            body += f"\n\n[card cut at {MAX_CARD_CHARS} characters: read README.md for the rest]"
        # A card is text from a stranger: nothing in it may act on a terminal that later
        # shows the context (an export, /copy of a transcript).
        parts.append(
            f'<hub_card repo="{card.repo_id}" type="{card.kind}" url="{card.url}">\n'
            f"{terminal_safe(body.strip())}\n</hub_card>"
        )
    return "\n\n".join(parts)


def fetch_all(source: CardSource | None, names: list[str]) -> list[tuple[str, HubCard | str]]:
    """Each distinct ``hf:`` mention (at most ``MAX_CARDS``): its card, or why not."""
    out: list[tuple[str, HubCard | str]] = []
    for index, name in enumerate(dict.fromkeys(names)):
        if index >= MAX_CARDS:
            out.append((name, f"over {MAX_CARDS} Hub cards in one message"))
            continue
        try:
            mention = parse(name)
            if source is None:
                raise CardLookupError("Hub cards are not available in this run")
            out.append((name, source.card(mention.repo_id, mention.kind)))
        except CardLookupError as exc:
            out.append((name, str(exc)))
    return out
