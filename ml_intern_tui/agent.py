"""The composition root: the only place that wires config, tools, jobs and core together.

``build_runtime`` turns settings into an ``AgentRuntime``: an event bus, the agent loop
and the services its tools use. Front ends (the Textual app, headless mode) only call
``submit`` and read the bus.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ml_intern_tui import envdefaults
from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.core.approval import ApprovalPolicy
from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.journal import Journal, find_session, load
from ml_intern_tui.core.llm import (
    LLMClient,
    RetryPolicy,
    context_limit,
    count_tokens,
    ensure_litellm,
)
from ml_intern_tui.core.loop import AgentLoop
from ml_intern_tui.core.models import ModelRoute, resolve_model, validate_model_id
from ml_intern_tui.core.protocol import Notice
from ml_intern_tui.core.session import LoopSettings, StoredSession
from ml_intern_tui.core.tool import RememberRule, ToolRouter
from ml_intern_tui.paths import project_config_path, sessions_dir

log = logging.getLogger(__name__)

DEMO_MODEL = "scripted/demo"
USER_LOOKUP_TIMEOUT_S = 3.0


class AppBackend:
    """Implements ``core.session.Backend`` from the app settings."""

    def __init__(self, settings: AppConfig, *, cwd: Path, hub: Any = None) -> None:
        self.settings = settings
        self.cwd = cwd
        self.hub = hub
        self.hf_user: str | None = None
        self._hf_token: str | None = None
        self._hf_token_read = False

    # --- models -----------------------------------------------------------

    def hf_token(self) -> str | None:
        """The HF token from huggingface_hub's usual sources (env, ``hf auth login``)."""
        if not self._hf_token_read:
            self._hf_token_read = True
            try:
                from huggingface_hub import get_token

                self._hf_token = get_token()
            except Exception:  # a broken token cache must not stop local models
                self._hf_token = None
        return self._hf_token

    def route(self, model: str) -> ModelRoute:
        kind_needs_token = not model.startswith("scripted/")
        token = self.hf_token() if kind_needs_token else None
        return resolve_model(model, hf_token=token, router_base=self.settings.llm.hf_router_base)

    async def prepare(self, model: str) -> None:
        litellm = await ensure_litellm()
        if model.startswith("scripted/"):
            from ml_intern_tui.demo import scripted

            await asyncio.to_thread(scripted.install, litellm)
        await self._resolve_user()

    async def _resolve_user(self) -> None:
        """The HF user for the system prompt, asked once; a slow or absent Hub is skipped."""
        if self.hf_user is not None or self.hub is None or not self.hub.token:
            return
        try:
            user = await asyncio.wait_for(self.hub.whoami(), USER_LOOKUP_TIMEOUT_S)
        except Exception:  # offline, bad token: the prompt says "unknown" instead
            self.hf_user = ""
            return
        self.hf_user = user.name

    def validate_model(self, model: str) -> str | None:
        problem = validate_model_id(model)
        if problem is None and model.startswith("scripted/"):
            from ml_intern_tui.demo.scripted import get_scenario

            try:
                get_scenario(model.split("/", 1)[1])
            except KeyError as exc:
                return str(exc.args[0])
        return problem

    def make_llm(self, model: str) -> LLMClient:
        llm = self.settings.llm
        route = self.route(model)
        if route.kind == "router" and not route.api_key:
            log.info("no HF token found; router calls will fail until one is set")
        return LLMClient(
            route,
            timeout_s=llm.timeout_s,
            retry=RetryPolicy(
                max_retries=llm.max_retries,
                base_delay_s=llm.retry_base_delay_s,
                max_delay_s=llm.retry_max_delay_s,
            ),
            reasoning_effort=self.settings.reasoning_effort,
        )

    def context_limit(self, model: str) -> int:
        return context_limit(self.route(model).litellm_model, override=self.settings.context.limit)

    def count_tokens(self, model: str, messages: list[dict[str, Any]]) -> int:
        return count_tokens(self.route(model).litellm_model, messages)

    def system_prompt(self, model: str, tool_names: list[str]) -> str:
        from ml_intern_tui.prompts import render_system_prompt

        return render_system_prompt(
            tools=tool_names, cwd=self.cwd, model=model, user=self.hf_user or None
        )

    # --- journal ----------------------------------------------------------

    def sessions_dir(self) -> Path:
        return self.settings.sessions.dir or sessions_dir()

    def open_journal(self, session_id: str, meta: dict[str, Any]) -> Journal | None:
        if not self.settings.sessions.journal:
            return None
        return Journal.create(self.sessions_dir(), session_id, meta)

    def reopen_journal(self, path: Path) -> Journal | None:
        if not self.settings.sessions.journal:
            return None
        return Journal.open_existing(path)

    def load_session(self, key: str) -> StoredSession:
        path = find_session(self.sessions_dir(), key)
        loaded = load(path)
        session_id = str(loaded.meta.get("session_id") or path.stem)
        return StoredSession(
            session_id=session_id,
            records=loaded.records,
            meta=loaded.meta,
            events=loaded.events,
            path=path,
        )


class AgentRuntime:
    """A running agent: submit ops, read events from ``bus``."""

    def __init__(
        self,
        settings: AppConfig,
        *,
        cwd: Path,
        bus: EventBus,
        loop: AgentLoop,
        backend: AppBackend,
        resume: str | None = None,
        workspace_to_clean: Path | None = None,
    ) -> None:
        self.settings = settings
        self.cwd = cwd
        self.bus = bus
        self.loop = loop
        self.backend = backend
        self.resume = resume
        self._workspace_to_clean = workspace_to_clean

    def submit(self, op: Any) -> None:
        """Queue an op (non-blocking; call from the event loop's thread)."""
        self.loop.submit(op)

    async def run(self) -> None:
        """Serve until a ``shutdown`` op."""
        await self.loop.run(resume=self.resume)

    async def warm_up(self) -> None:
        """Import the heavy libraries in a thread (call after the first frame)."""
        await ensure_litellm()

    @property
    def stopped(self) -> asyncio.Event:
        return self.loop.stopped


def prepare_demo_workspace() -> Path:
    """A temporary workspace with the bundled dataset in ``data/``."""
    workspace = Path(tempfile.mkdtemp(prefix="ml-intern-demo-"))
    data = workspace / "data"
    data.mkdir()
    bundled = Path(__file__).parent / "demo" / "data" / "reviews.csv"
    shutil.copy(bundled, data / "reviews.csv")
    return workspace


def build_runtime(
    settings: AppConfig,
    *,
    cwd: Path,
    demo: bool = False,
    resume: str | None = None,
    loaded: Any = None,
) -> AgentRuntime:
    """Wire everything for one app run."""
    from ml_intern_tui.integrations.hub import HubClient
    from ml_intern_tui.jobs.registry import JobRegistry
    from ml_intern_tui.tools import ToolSettings, builtin_tools, ecosystem_tools

    envdefaults.apply()
    if demo:
        cwd = prepare_demo_workspace()
        settings = settings.model_copy(update={"model": DEMO_MODEL})
    cwd = cwd.resolve()
    bus = EventBus()
    spend = SpendTracker()

    project_config = project_config_path(cwd)

    def persist_rule(rule: RememberRule) -> None:
        from ml_intern_tui.config.writer import append_remembered

        try:
            append_remembered(project_config, rule.model_dump())
        except Exception as exc:  # unwritable, or the project file is not valid TOML
            bus.publish(
                Notice(level="warning", text=f"Could not save the rule to {project_config}: {exc}")
            )
            return
        bus.publish(Notice(text=f"Remembered {rule.describe()} in {project_config}"))

    def forget_rule(rule: RememberRule) -> None:
        from ml_intern_tui.config.writer import remove_remembered

        try:
            remove_remembered(project_config, rule.model_dump())
        except Exception as exc:  # unwritable, or the project file is not valid TOML
            bus.publish(Notice(level="warning", text=f"Could not update {project_config}: {exc}"))

    policy = ApprovalPolicy(
        settings.mode,
        budget_usd=settings.budget_usd,
        spend=spend,
        rules=[RememberRule.model_validate(r.model_dump()) for r in settings.approvals.remembered],
        on_remember=persist_rule,
        on_forget=forget_rule,
    )
    tools_cfg = settings.tools
    router = ToolRouter(
        builtin_tools(
            ToolSettings(
                bash_timeout_s=tools_cfg.bash_timeout_s,
                bash_max_timeout_s=tools_cfg.bash_max_timeout_s,
                readonly_allowlist=tools_cfg.readonly_allowlist or None,
            )
        )
        + ecosystem_tools()
    )
    # Job events go through the loop so they carry the session id; the closures below
    # bind ``loop`` late, once it exists.
    loop: AgentLoop
    jobs = JobRegistry(lambda event: loop.publish(event), log_dir=_jobs_dir(settings))
    hub = HubClient(settings.hub.endpoint)
    backend = AppBackend(settings, cwd=cwd, hub=hub)
    services: dict[str, Any] = {
        "jobs": jobs,
        "settings": settings,
        "spend": spend,
        "hub": hub,
        "router": router,
        "llm_factory": lambda: backend.make_llm(loop.settings.model),
    }
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
    return AgentRuntime(settings, cwd=cwd, bus=bus, loop=loop, backend=backend, resume=resume)


def _jobs_dir(settings: AppConfig) -> Path:
    from ml_intern_tui.paths import data_dir

    path = (settings.sessions.dir.parent if settings.sessions.dir else data_dir()) / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def ensure_environment() -> None:
    """Offline-safe defaults for the dependency stack (idempotent)."""
    envdefaults.apply()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
