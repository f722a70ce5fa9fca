"""Per-session state and the services the loop needs from the composition root.

``Backend`` is what ``runtime/agent.py`` provides: model clients, token counting, the system
prompt and the journal. The loop depends on this protocol only, so tests can build a
session with a scripted model and no configuration files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ml_intern_tui.core.approval import ApprovalPolicy
from ml_intern_tui.core.catalog import ModelCheck
from ml_intern_tui.core.context import ContextManager
from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.journal import Journal
from ml_intern_tui.core.llm import LLMClient
from ml_intern_tui.core.pricing import PriceStatus
from ml_intern_tui.core.protocol import ApprovalMode, EventBase, ModelInfo
from ml_intern_tui.core.tool import ApprovalRequest, SessionState, ToolRouter
from ml_intern_tui.core.window import ListedWindow


@dataclass
class LoopSettings:
    """The knobs of the loop (from config, flags or a test)."""

    model: str
    mode: ApprovalMode = "ask"
    budget_usd: float | None = None
    max_iterations: int = 300
    stream: bool = True
    compact_threshold: float = 0.9
    keep_recent: int = 5
    per_message_cap: int = 50_000
    output_budget: int = 30_000
    context_limit: int | None = None
    """The user's ``[context] limit``: a window learned from a server never exceeds it."""
    chat_blocks: int = 200
    """Blocks the chat keeps (``ui.max_chat_blocks``): what a resumed chat's history marks."""


@dataclass
class StoredSession:
    """A session read back from its journal."""

    session_id: str
    records: list[dict[str, Any]]
    meta: dict[str, Any]
    events: list[EventBase]
    path: Path


class Backend(Protocol):
    """What the composition root provides to the loop."""

    async def prepare(self, model: str) -> None:
        """Import heavy libraries (off the event loop) and register the model."""

    def make_llm(self, model: str) -> LLMClient: ...

    def validate_model(self, model: str) -> str | None:
        """A one-line problem with this model id, or ``None``."""

    def context_limit(self, model: str) -> int: ...

    def count_tokens(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
    ) -> int:
        """Our count of a request (litellm's tokenizer for the model; tools its way)."""

    async def discover_window(self, model: str) -> ListedWindow | None:
        """The window the model's server reports (local servers; cached per server)."""

    def price_status(self, model: str) -> PriceStatus:
        """Whether the model's calls can be priced (``pending`` while prices load)."""

    async def check_model(self, model: str) -> ModelCheck:
        """What the model catalog says before switching (a problem refuses the switch)."""

    async def list_models(self, current: str) -> tuple[list[ModelInfo], str]:
        """The models ``/model`` offers, with catalog facts, and where the facts come from."""

    def system_prompt(self, model: str, tool_names: list[str]) -> str: ...

    def open_journal(self, session_id: str, meta: dict[str, Any]) -> Journal | None: ...

    def reopen_journal(self, path: Path) -> Journal | None: ...

    def load_session(self, key: str) -> StoredSession:
        """Read a stored session by id, unique prefix or ``last`` (raises with one line)."""


@dataclass
class PendingCall:
    """A tool call of the current assistant message that waits for a human."""

    call_id: str
    tool: str
    args: Any
    request: ApprovalRequest


@dataclass
class Session:
    """Everything that belongs to one conversation."""

    session_id: str
    model: str
    cwd: Path
    context: ContextManager
    llm: LLMClient
    router: ToolRouter
    policy: ApprovalPolicy
    spend: SpendTracker
    journal: Journal | None
    state: SessionState = field(default_factory=SessionState)
    pending: list[PendingCall] = field(default_factory=list)
    iterations: int = 0
    """LLM calls in the current turn (kept across an approval pause)."""
    queued_inputs: list[str] = field(default_factory=list)
    windows: dict[str, int] = field(default_factory=dict)
    """Context windows servers stated, by model id (kept across /model switches)."""
    publish: Callable[[EventBase], None] = lambda _e: None
    cancel_event: asyncio.Event = field(default_factory=asyncio.Event)
    files_dir: Path | None = None
    """Where tools keep this session's files (spilled long outputs): ``<id>.files/`` next
    to the journal, deleted with the session. ``None`` when the session is not journaled
    (tools then use a private temporary directory removed when the process exits)."""
