"""The typed seam between the loop, its tools and the services the composition root wires.

``Services`` is what ``ToolContext.services`` and ``AgentLoop.services`` hold: one frozen
record with a field per service. Services implemented outside ``core/`` (the Hub client,
the job registry, Slack, the bubblewrap sandbox, the remote Space sandbox) are declared
here as Protocols naming exactly what the loop and the tools use of them, so ``core/``
never imports their packages and tests can hand in their own. A session without one of
them leaves the field ``None``; a tool that needs it asks ``core.tool.require``, which
fails the call with one line naming what is missing.
"""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

if TYPE_CHECKING:  # types only: none of these is imported when the program runs
    from ml_intern_tui.config.schema import AppConfig
    from ml_intern_tui.config.space_schema import SpaceSandboxConfig
    from ml_intern_tui.core.cost import SpendTracker
    from ml_intern_tui.core.effort_control import EffortControl
    from ml_intern_tui.core.hub_mentions import CardSource
    from ml_intern_tui.core.llm import LLMClient
    from ml_intern_tui.core.notes import SystemNotes
    from ml_intern_tui.core.tool import ToolRouter
    from ml_intern_tui.jobs.local import Launch
    from ml_intern_tui.jobs.registry import JobRecord, OnExit
    from ml_intern_tui.safety.sandbox import Placement
    from ml_intern_tui.spaces.client import SandboxClient
    from ml_intern_tui.spaces.manager import SpaceSandbox, Timing

T = TypeVar("T")


class BackgroundService(Protocol):
    """Something that runs next to the loop for the whole app run (MCP, notifications...).

    ``run`` starts after the wiring, as its own task, and must never raise or block the
    loop; it is cancelled at shutdown, then ``aclose`` is awaited.
    """

    name: str

    async def run(self) -> None: ...

    async def aclose(self) -> None: ...


class HubAccount(Protocol):
    """Who the Hub token belongs to."""

    name: str
    orgs: builtins.list[str]


class NamedDestination(Protocol):
    """A configured notification destination (its name)."""

    @property
    def name(self) -> str: ...


class HubService(Protocol):
    """The Hugging Face Hub client (``integrations/hub.py``)."""

    endpoint: str

    @property
    def token(self) -> str | None: ...

    def require_token(self) -> str: ...

    @property
    def api(self) -> Any: ...

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...

    def url(self, path: str) -> str: ...

    async def whoami(self) -> HubAccount: ...


class JobsService(Protocol):
    """The session's job registry (``jobs/registry.py``): local and remote jobs."""

    def get(self, job_id: str) -> JobRecord | None: ...

    def require(self, job_id: str) -> JobRecord: ...

    def list(self) -> builtins.list[JobRecord]: ...

    def running(self) -> builtins.list[JobRecord]: ...

    def tail(self, job_id: str, n: int) -> builtins.list[str]: ...

    def saved_log_tail(self, job_id: str, lines: int = ...) -> builtins.list[str]: ...

    async def wait(self, job_id: str, timeout_s: float) -> JobRecord: ...

    def acknowledge(self, job_id: str) -> None: ...

    def new_id(self) -> str: ...

    async def start_local(
        self,
        command: str,
        cwd: Path,
        title: str,
        env: dict[str, str] | None = None,
        *,
        launch: Launch | None = None,
        on_exit: OnExit | None = None,
    ) -> JobRecord: ...

    def register_external(
        self,
        record: JobRecord,
        follower: Coroutine[Any, Any, None] | None = None,
        *,
        canceller: Callable[[], Awaitable[None]] | None = None,
    ) -> JobRecord: ...

    def add_lines(self, job_id: str, lines: builtins.list[str]) -> None: ...

    def update(self, job_id: str, **changes: Any) -> JobRecord: ...

    def finish(self, job_id: str, status: str, exit_code: int | None = None) -> JobRecord: ...

    async def cancel(self, job_id: str) -> bool: ...

    async def shutdown(self) -> None: ...


class NotifierService(BackgroundService, Protocol):
    """Outgoing notifications (Slack) for the ``notify`` tool (``services/notifications.py``)."""

    def destinations(self) -> Sequence[NamedDestination]: ...

    def agent_destinations(self) -> list[str]: ...

    async def post(
        self,
        text: str,
        *,
        title: str,
        level: Literal["info", "success", "warning", "error"] = "info",
        destination: str | None = None,
        wait_s: float = ...,
    ) -> list[tuple[str, str | None, bool]]: ...


class SandboxService(Protocol):
    """The local bubblewrap sandbox commands run in (``safety/sandbox.py``)."""

    def placement(self, *, network: bool = False, outside: bool = False) -> Placement: ...

    def wrapper(self, *, project: Path, cwd: Path, session_id: str, network: bool) -> list[str]: ...

    def preexec(self, *, network: bool) -> Callable[[], None] | None: ...

    def environment(self) -> dict[str, str]: ...


class SpaceSandboxService(BackgroundService, Protocol):
    """The remote GPU sandbox on a Hugging Face Space (``spaces/manager.py``)."""

    settings: SpaceSandboxConfig
    timing: Timing

    def price(self, hardware: str) -> float | None: ...

    def worst_case(self, hardware: str) -> float | None: ...

    async def client(self, wait_s: float = 0.0) -> SandboxClient: ...

    async def create(self, hardware: str, *, reservation: str | None = None) -> SpaceSandbox: ...


@dataclass(frozen=True)
class Services:
    """Everything shared a session's loop and tools may use; ``None`` when not wired."""

    settings: AppConfig | None = None
    """The validated app configuration the session started with."""
    jobs: JobsService | None = None
    hub: HubService | None = None
    hub_cards: CardSource | None = None
    """Fetches the Hub cards ``@hf:org/name`` attaches (``core/mentions.py``)."""
    spend: SpendTracker | None = None
    router: ToolRouter | None = None
    """The session's tools (the research sub-agent picks its read-only ones)."""
    llm_factory: Callable[[], LLMClient] | None = None
    """A fresh client on the session's model, for a sub-agent."""
    notifier: NotifierService | None = None
    sandbox: SandboxService | None = None
    space_sandbox: SpaceSandboxService | None = None
    effort: EffortControl | None = None
    notes: SystemNotes | None = None
    """Job alerts waiting for the model's next call."""
    spill_dir: Path | None = None
    """Where long tool outputs are spilled (default: the session's files directory)."""
