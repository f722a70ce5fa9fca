"""``AppBackend``: the loop's ``Backend`` (models, tokens, prompt, journal) built from settings.

Part of the composition root (``runtime/agent.py`` creates it); heavy libraries stay lazy.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.core import known_secrets
from ml_intern_tui.core.catalog import ModelCheck
from ml_intern_tui.core.journal import Journal, load
from ml_intern_tui.core.llm import (
    LLMClient,
    RetryPolicy,
    context_limit,
    count_tokens,
    ensure_litellm,
)
from ml_intern_tui.core.models import ModelRoute, resolve_model, validate_model_id
from ml_intern_tui.core.pricing import Pricer, PriceStatus
from ml_intern_tui.core.protocol import ModelInfo
from ml_intern_tui.core.saved_sessions import find_session
from ml_intern_tui.core.session import StoredSession
from ml_intern_tui.core.window import ListedWindow, pick_listed_window
from ml_intern_tui.paths import configured_sessions_dir

log = logging.getLogger(__name__)

USER_LOOKUP_TIMEOUT_S = 3.0


class AppBackend:
    """Implements ``core.session.Backend`` from the app settings."""

    def __init__(
        self, settings: AppConfig, *, cwd: Path, hub: Any = None, catalog: Any = None
    ) -> None:
        self.settings = settings
        self.cwd = cwd
        self.hub = hub
        self.catalog = catalog
        """The router catalog (``integrations.router_catalog.RouterCatalogClient``)."""
        self.pricer = Pricer(catalog)
        self.hf_user: str | None = None
        self._hf_token: str | None = None
        self._hf_token_read = False
        self._listings: dict[str, asyncio.Future[dict[str, Any] | None]] = {}
        """``GET /models`` answers by server address: each server is asked once."""

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
            known_secrets.register(self._hf_token, "HF_TOKEN")  # never shown to the model
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
        if route.kind == "router":
            self.start_catalog()
        return LLMClient(
            route,
            timeout_s=llm.timeout_s,
            retry=RetryPolicy(
                max_retries=llm.max_retries,
                base_delay_s=llm.retry_base_delay_s,
                max_delay_s=llm.retry_max_delay_s,
            ),
            reasoning_effort=self.settings.reasoning_effort,
            pricer=self.pricer,
            prompt_caching=llm.prompt_caching,
        )

    def context_limit(self, model: str) -> int:
        override = self.settings.context.limit
        route = self.route(model)
        if not override and route.kind == "router" and self.catalog is not None:
            # Only a catalog already in memory: reading the disk copy happens in the
            # background, and its arrival updates the gauge (``refresh_model_info``).
            current = self.catalog.catalog
            window = current.context_window(model) if current is not None else None
            if window:
                return int(window)
        return context_limit(route.litellm_model, override=override)

    # --- the router catalog -------------------------------------------------

    def start_catalog(self) -> None:
        """Fetch the router catalog in the background (when stale and not failing)."""
        if self.catalog is None:
            return
        try:
            self.catalog.start()
        except RuntimeError:  # no running event loop (wiring in a thread): later
            pass

    def price_status(self, model: str) -> PriceStatus:
        """Whether this model's calls can be priced (``pending``: catalog still loading)."""
        try:
            return self.pricer.status(self.route(model))
        except ValueError:
            return "unpriced"

    async def check_model(self, model: str) -> ModelCheck:
        """What the router catalog says about a model before switching to it."""
        from ml_intern_tui.core.catalog import check_model

        route = self.route(model)
        if route.kind != "router" or self.catalog is None:
            return ModelCheck(True)
        catalog = await self.catalog.ready()
        if catalog is None:
            why = self.catalog.error or "no answer"
            return ModelCheck(
                False,
                None,
                (f"the router catalog could not be loaded ({why}): {model} is unchecked",),
            )
        return check_model(catalog, model)

    async def list_models(self, current: str) -> tuple[list[ModelInfo], str]:
        """The suggested models (current first) with catalog facts, and their source."""
        from ml_intern_tui.model_listing import describe_models

        catalog = await self.catalog.ready() if self.catalog is not None else None
        models = list(dict.fromkeys([current, *self.settings.suggested_models]))
        return describe_models(self, models, current, catalog)

    def count_tokens(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
    ) -> int:
        return count_tokens(self.route(model).litellm_model, messages, tools)

    async def discover_window(self, model: str) -> ListedWindow | None:
        """The window a local server reports for ``model`` (asked once per server)."""
        from ml_intern_tui.integrations.model_server import fetch_model_listing

        route = self.route(model)
        if route.kind != "local" or not route.api_base:
            return None
        listing = self._listings.get(route.api_base)
        if listing is None:
            listing = asyncio.ensure_future(fetch_model_listing(route.api_base, route.api_key))
            self._listings[route.api_base] = listing
        answer = await asyncio.shield(listing)
        return pick_listed_window(answer, route.litellm_model.removeprefix("openai/"))

    def system_prompt(self, model: str, tool_names: list[str]) -> str:
        from ml_intern_tui.core.project_memory import load_memory, render_memory
        from ml_intern_tui.prompts import render_system_prompt

        return render_system_prompt(
            tools=tool_names,
            cwd=self.cwd,
            model=model,
            user=self.hf_user or None,
            memory=render_memory(load_memory(self.cwd)),  # AGENTS.md: text, never config
        )

    # --- journal ----------------------------------------------------------

    def sessions_dir(self) -> Path:
        return configured_sessions_dir(self.settings)

    def open_journal(self, session_id: str, meta: dict[str, Any]) -> Journal | None:
        if not self.settings.sessions.journal:
            return None
        if meta.get("model") == "scripted/demo":
            meta = {**meta, "demo": True}  # the demo's sessions stay out of the lists
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
