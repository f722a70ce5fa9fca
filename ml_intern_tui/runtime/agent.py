"""The composition root: the only place that wires config, tools, jobs and core together.

``build_runtime`` returns an ``AgentRuntime`` at once (settings, working directory and
the event bus); the heavy wiring — tools, jobs, services and the loop — happens in
``run()`` off the event loop, so the app paints its first frame before any of it loads.
Front ends (the Textual app, headless mode) only call ``submit`` and read the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ml_intern_tui import envdefaults
from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.core.services import BackgroundService

if TYPE_CHECKING:
    from ml_intern_tui.config.loader import LoadedConfig
    from ml_intern_tui.config.schema import AppConfig
    from ml_intern_tui.core.loop import AgentLoop
    from ml_intern_tui.runtime.backend import AppBackend
    from ml_intern_tui.safety.trust_store import ProjectTrust

TrustAnswer = Literal["once", "always", "ignore"]

DEMO_MODEL = "scripted/demo"


class AgentRuntime:
    """A running agent: submit ops, read events from ``bus``."""

    def __init__(
        self,
        settings: AppConfig,
        *,
        cwd: Path,
        bus: EventBus,
        resume: str | None = None,
        loaded: LoadedConfig | None = None,
        demo: bool = False,
    ) -> None:
        self.settings = settings
        self.cwd = cwd
        self.bus = bus
        self.resume = resume
        self.loaded = loaded
        """Where the settings came from (``None`` when built in code, as in tests)."""
        self.demo = demo
        self._loop: AgentLoop | None = None
        self._backend: AppBackend | None = None
        self._early_ops: list[Any] = []
        self._serving = False
        """``run()`` started the background services (they take some ops first)."""
        self.background: list[BackgroundService] = []

    @property
    def loop(self) -> AgentLoop:
        """The agent loop (wired on first use; ``run()`` wires it off the event loop)."""
        if self._loop is None:
            self._loop, self._backend = assemble(self.settings, self.cwd, self.bus, self.loaded)
        return self._loop

    @property
    def demo_offer(self) -> tuple[str, str, str] | None:
        """The demo's intro, goal and send key for its empty chat (None outside ``--demo``)."""
        if not self.demo:
            return None
        from ml_intern_tui.demo.workspace import DEMO_GOAL, DEMO_INTRO, DEMO_SEND_KEY

        return DEMO_INTRO, DEMO_GOAL, DEMO_SEND_KEY

    @property
    def project_trust(self) -> ProjectTrust | None:
        """Whether the project config's gated settings apply (the app asks when untrusted)."""
        return self.loaded.trust if self.loaded is not None else None

    @property
    def warnings(self) -> list[str]:
        """Problems found while loading that did not stop it (a broken trust store)."""
        return list(self.loaded.warnings) if self.loaded is not None else []

    async def answer_trust(self, answer: TrustAnswer) -> tuple[str, str]:
        """Apply the user's answer about the project config, before ``run()``.

        Returns the chat notice (level, text) saying what now applies.
        """
        from ml_intern_tui.safety.trust_changes import printable

        loaded, trust = self.loaded, self.project_trust
        if loaded is None or trust is None or self._loop is not None:
            return "warning", "The project config can only be trusted before the session starts."
        config = printable(str(trust.config))
        if answer == "ignore":
            self.loaded = loaded.ignoring()
            self._use(self.loaded.settings)
            return "warning", (
                f"Ignored {len(trust.settings)} settings of {config} that need your "
                f"trust: {trust.keys()}. Only its safe settings apply; /status shows this."
            )
        note = ""
        how: Literal["once", "stored"] = "once"
        if answer == "always":
            from ml_intern_tui.safety.trust_store import TrustStore, trust_store_path

            store = TrustStore(trust_store_path())
            try:
                await asyncio.to_thread(store.trust, trust.project, trust.config, trust.digest)
                how = "stored"
            except OSError as exc:
                note = f" Could not save the answer to {store.path} ({exc}); trusted for this run."
        self.loaded = loaded.trusting(how)
        self._use(self.loaded.settings)
        when = "from now on (until the file changes)" if how == "stored" else "for this run"
        return "info", f"Trusted {config} {when}: {trust.keys()} apply.{note}"

    def _use(self, settings: AppConfig) -> None:
        if self.demo:
            settings = settings.model_copy(update={"model": DEMO_MODEL})
        self.settings = settings

    @property
    def backend(self) -> AppBackend:
        _ = self.loop
        assert self._backend is not None
        return self._backend

    def submit(self, op: Any) -> None:
        """Queue an op (non-blocking; call from the event loop's thread)."""
        for service in self.background:
            handle = getattr(service, "handle_op", None)
            if handle is not None and handle(op):
                return  # an op for a background service (``mcp_reconnect``)
        if self._loop is None or not self._serving:
            self._early_ops.append(op)  # typed before the wiring (and its services) finished
        else:
            self._loop.submit(op)

    async def run(self) -> None:
        """Wire everything (in a thread), then serve until a ``shutdown`` op."""
        if self._loop is None:
            wired = await asyncio.to_thread(
                assemble, self.settings, self.cwd, self.bus, self.loaded
            )
            self._loop, self._backend = wired
        loop: AgentLoop = self._loop
        self.background = background_services(self.settings, loop, self.bus)
        self._serving = True
        tasks = [
            asyncio.create_task(service.run(), name=f"background:{service.name}")
            for service in self.background
        ]
        for op in self._early_ops:
            self.submit(op)  # through the background services too (``set_effort``)
        self._early_ops.clear()
        try:
            await loop.run(resume=self.resume)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for service in self.background:
                with contextlib.suppress(Exception):
                    await service.aclose()

    async def warm_up(self) -> None:
        """Import the heavy libraries and walk the model's call path once, in a thread
        (the app calls it after the first frame, headless mode at its start)."""
        from ml_intern_tui.core.models import resolve_model
        from ml_intern_tui.core.warmup import warm_provider

        try:
            route = resolve_model(self.settings.model, router_base=self.settings.llm.hf_router_base)
        except ValueError:  # the loop reports a bad model id; warm litellm all the same
            route = None
        await asyncio.to_thread(warm_provider, route)

    async def warm_ui(self) -> None:
        """Summarise the saved sessions once in a thread (the app calls it after
        ``warm_up``), so the sessions browser's first open is as quick as a later one."""
        from ml_intern_tui.paths import configured_sessions_dir
        from ml_intern_tui.services.session_browser import warm_listing

        await asyncio.to_thread(warm_listing, configured_sessions_dir(self.settings))

    @property
    def stopped(self) -> asyncio.Event:
        return self.loop.stopped


def prepare_demo_workspace() -> Path:
    """A temporary workspace with the bundled dataset in ``data/``."""
    workspace = Path(tempfile.mkdtemp(prefix="ml-intern-demo-"))
    data = workspace / "data"
    data.mkdir()
    bundled = Path(__file__).parents[1] / "demo" / "data" / "reviews.csv"
    shutil.copy(bundled, data / "reviews.csv")
    return workspace


def build_runtime(
    settings: AppConfig,
    *,
    cwd: Path,
    demo: bool = False,
    resume: str | None = None,
    loaded: LoadedConfig | None = None,
) -> AgentRuntime:
    """The runtime for one app run (cheap: the wiring waits for ``run()``)."""
    envdefaults.apply()
    if demo:
        cwd = prepare_demo_workspace()
        settings = settings.model_copy(update={"model": DEMO_MODEL})
    return AgentRuntime(
        settings, cwd=cwd.resolve(), bus=EventBus(), resume=resume, loaded=loaded, demo=demo
    )


def assemble(
    settings: AppConfig, cwd: Path, bus: EventBus, loaded: LoadedConfig | None = None
) -> tuple[AgentLoop, AppBackend]:
    """Wire tools, jobs, services, policy and the loop."""
    from ml_intern_tui.approval_rules import RuleKeeper, gather
    from ml_intern_tui.core.approval import ApprovalPolicy
    from ml_intern_tui.core.cost import SpendTracker
    from ml_intern_tui.core.effort import EffortStore
    from ml_intern_tui.core.effort_control import EffortControl
    from ml_intern_tui.core.loop import AgentLoop
    from ml_intern_tui.core.notes import SystemNotes
    from ml_intern_tui.core.protocol import Notice
    from ml_intern_tui.core.services import Services
    from ml_intern_tui.core.session import LoopSettings
    from ml_intern_tui.core.tool import ToolRouter
    from ml_intern_tui.integrations.hub import HubClient
    from ml_intern_tui.integrations.hub_cards import HubCardSource
    from ml_intern_tui.jobs.alerts import JobWatch
    from ml_intern_tui.jobs.registry import JobRegistry
    from ml_intern_tui.paths import cache_dir
    from ml_intern_tui.runtime.backend import AppBackend
    from ml_intern_tui.safety.sandbox import Sandbox
    from ml_intern_tui.safety.secret_values import register_process_secrets
    from ml_intern_tui.services.notifications import Notifier
    from ml_intern_tui.spaces.wiring import sandbox_manager, space_sandbox_tools
    from ml_intern_tui.tools import ToolSettings, builtin_tools, ecosystem_tools, notify_tools

    # Before any tool can run: the values of the environment's secrets and the stored HF
    # tokens are scrubbed from tool outputs, requests, events and everything written.
    register_process_secrets()
    # So are the project's .env secrets, whichever tool (or training log) prints them.
    from ml_intern_tui.safety.credentials import project_env_files, register_env_file_secrets

    register_env_file_secrets(project_env_files(cwd))
    # Unredacted spill files of earlier versions (in /tmp) go.
    from ml_intern_tui.safety.leftovers import remove_leftovers_in_background

    remove_leftovers_in_background()
    spend = SpendTracker()

    # Remembered approvals: the user's config, a trusted project's config, and the
    # user's answers for this project (stored in the data directory, never the project).
    book = gather(settings, cwd, loaded)
    if book.warning:
        bus.publish(Notice(level="warning", text=book.warning))
    keeper = RuleKeeper(cwd, loaded.user_path if loaded else None, bus.publish)
    policy = ApprovalPolicy(
        settings.mode,
        budget_usd=settings.budget_usd,
        spend=spend,
        rules=book.rules,
        on_remember=keeper.persist,
        on_forget=keeper.forget,
        sources=book.sources,
        fixed=book.fixed,
        remembered_source="your answer for this project",
    )
    tools_cfg = settings.tools
    notifier = Notifier(settings.notifications, publish=lambda event: loop.publish(event), bus=bus)
    router = ToolRouter(
        builtin_tools(
            ToolSettings(
                bash_timeout_s=tools_cfg.bash_timeout_s,
                bash_max_timeout_s=tools_cfg.bash_max_timeout_s,
                readonly_allowlist=tools_cfg.readonly_allowlist or None,
                bash_pass_env=tools_cfg.bash.pass_env,
            )
        )
        + ecosystem_tools()
        + notify_tools(notifier.agent_destinations())
        + space_sandbox_tools()
    )
    # Job events go through the loop so they carry the session id; the closures below
    # bind ``loop`` late, once it exists.
    loop: AgentLoop
    notes = SystemNotes()  # job alerts for the model's next call
    watch = JobWatch.from_settings(settings.jobs, lambda event: loop.publish(event), notes)
    jobs = JobRegistry(
        lambda event: loop.publish(event),
        log_dir=_jobs_dir(settings),
        extract_metrics=settings.jobs.metrics,
        watch=watch,
    )
    hub = HubClient(settings.hub.endpoint)
    jobs.hub = hub  # follows runs a trackio Space syncs to its dataset
    catalog = _router_catalog(settings)
    backend = AppBackend(settings, cwd=cwd, hub=hub, catalog=catalog)
    services = Services(
        jobs=jobs,
        notes=notes,
        settings=settings,
        spend=spend,
        hub=hub,
        hub_cards=HubCardSource(hub),  # @hf:org/name cards (core/mentions.py)
        router=router,
        notifier=notifier,
        llm_factory=lambda: _session_llm(backend, loop),
        sandbox=Sandbox.from_config(settings.sandbox),  # probed by its announcer
        # The remote sandbox Space (sandbox_create, target="sandbox"), deleted at exit.
        space_sandbox=sandbox_manager(
            settings,
            jobs=jobs,
            hub=hub,
            publish=lambda event: loop.publish(event),
            spend=spend,
            budget_usd=lambda: policy.budget_usd,
        ),
        # Which reasoning effort each model takes: probed, cached a week, healed.
        effort=EffortControl(
            settings.reasoning_effort, store=EffortStore(cache_dir() / "effort.json")
        ),
    )
    loop_settings = LoopSettings(
        model=settings.model,
        mode=settings.mode,
        budget_usd=settings.budget_usd,
        max_iterations=settings.max_iterations,
        stream=settings.stream,
        compact_threshold=settings.context.compact_threshold,
        keep_recent=settings.context.keep_recent,
        per_message_cap=settings.context.per_message_cap_tokens,
        output_budget=tools_cfg.output_budget_chars,
        context_limit=settings.context.limit,
        chat_blocks=settings.ui.max_chat_blocks,
    )
    loop = AgentLoop(
        bus=bus,
        router=router,
        backend=backend,
        settings=loop_settings,
        policy=policy,
        spend=spend,
        cwd=cwd,
        services=services,
    )
    if catalog is not None:
        catalog.on_update(loop.refresh_model_info)
    return loop, backend


def _session_llm(backend: AppBackend, loop: AgentLoop) -> Any:
    """A client for a sub-agent: the session's model, cache key and pricing; its
    reasoning effort is what the model takes, capped at ``high``."""
    from ml_intern_tui.core.effort import RESEARCH_CAP, cap, parse_level

    llm = backend.make_llm(loop.settings.model)
    llm.session_key = loop.session.session_id if loop.session is not None else None
    effort = loop.services.effort
    if effort is not None:
        llm.reasoning_effort = effort.level_for(llm.route, RESEARCH_CAP)
    else:
        llm.reasoning_effort = cap(parse_level(llm.reasoning_effort), RESEARCH_CAP)
    return llm


def _router_catalog(settings: AppConfig) -> Any:
    """The router catalog client (nothing is read or fetched until it is used)."""
    from ml_intern_tui.integrations.router_catalog import RouterCatalogClient
    from ml_intern_tui.paths import cache_dir

    return RouterCatalogClient(settings.llm.hf_router_base, cache_dir())


def background_services(
    settings: AppConfig, loop: AgentLoop, bus: EventBus
) -> list[BackgroundService]:
    """The services that run beside the loop; each feature adds its own line here."""
    services: list[BackgroundService] = []
    from ml_intern_tui.services.traces import trace_uploader

    services.append(trace_uploader(settings, loop, bus))  # session traces to the Hub
    services.extend(n for n in [loop.services.notifier] if n)  # Slack (from assemble)
    services.extend(_mcp_services(settings, loop))  # MCP servers, connected in the background
    services.extend(_sandbox_services(loop))  # probes bubblewrap, says once if it is missing
    services.extend(_job_price_services(loop))  # live HF Jobs hardware prices
    services.extend(_effort_services(loop, bus))  # /effort, and a check of each model
    services.extend(n for n in [loop.services.space_sandbox] if n)  # deleted at exit
    services.append(_custom_commands(loop))  # .ml-intern/commands/*.md become /name
    services.append(_session_browser(settings, loop))  # /sessions: list, fork, delete, export
    services.append(_credentials(settings, loop))  # the start-up banner's lines, /login
    return services


def _session_browser(settings: AppConfig, loop: AgentLoop) -> BackgroundService:
    from ml_intern_tui.paths import configured_sessions_dir
    from ml_intern_tui.services.session_browser import SessionBrowser

    return SessionBrowser(
        lambda: configured_sessions_dir(settings),
        current=lambda: loop.session.session_id if loop.session is not None else "",
        cwd=lambda: str(loop.cwd),
        publish=loop.publish,
    )


def _custom_commands(loop: AgentLoop) -> BackgroundService:
    from ml_intern_tui.paths import config_dir
    from ml_intern_tui.services.custom_commands import CustomCommandLoader

    return CustomCommandLoader(Path(loop.cwd), config_dir() / "commands", loop.publish)


def _credentials(settings: AppConfig, loop: AgentLoop) -> BackgroundService:
    from ml_intern_tui.services.credentials import CredentialService

    hub, model = loop.services.hub, lambda: loop.settings.model
    return CredentialService(settings, loop.publish, hub=hub, model=model)


def _effort_services(loop: AgentLoop, bus: EventBus) -> list[BackgroundService]:
    control = loop.services.effort
    if control is None:
        return []
    from ml_intern_tui.effort_service import EffortService

    return [EffortService(control, loop, bus)]


def _sandbox_services(loop: AgentLoop) -> list[BackgroundService]:
    from ml_intern_tui.safety.sandbox import Sandbox, SandboxAnnouncer

    sandbox = loop.services.sandbox
    if not isinstance(sandbox, Sandbox):
        return []

    return [SandboxAnnouncer(sandbox, loop.publish)]


def _job_price_services(loop: AgentLoop) -> list[BackgroundService]:
    """Live job prices from the Hub (it checks for a token itself, off the event loop)."""
    hub = loop.services.hub
    if hub is None:
        return []
    from ml_intern_tui.integrations.job_prices import JobPriceLoader
    from ml_intern_tui.paths import cache_dir

    return [JobPriceLoader(hub, cache_dir())]


def _mcp_services(settings: AppConfig, loop: AgentLoop) -> list[BackgroundService]:
    """The MCP manager, when servers are configured (its tools join ``loop.router``)."""
    if not settings.mcp.servers:
        return []
    from ml_intern_tui.paths import run_data_dir
    from ml_intern_tui.services.mcp import McpManager
    from ml_intern_tui.tools.mcp_tool import McpTool

    hub = loop.services.hub
    base = run_data_dir(settings)
    return [
        McpManager(
            settings.mcp.servers,
            router=loop.router,
            tool_factory=McpTool.create,
            publish=loop.publish,
            cwd=loop.cwd,
            log_dir=base / "mcp",
            hf_token=lambda: hub.token if hub is not None else None,
            hub_endpoint=settings.hub.endpoint,
        )
    ]


def _jobs_dir(settings: AppConfig) -> Path:
    from ml_intern_tui.paths import run_data_dir

    path = run_data_dir(settings) / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path
