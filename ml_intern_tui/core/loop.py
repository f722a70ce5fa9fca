"""The submission loop: reads ops, owns the session, runs turns as cancellable tasks.

Ops arrive on a queue (``submit``); the loop answers each one and runs at most one turn
at a time as an asyncio task, so ``interrupt`` can cancel it while the loop keeps
reading ops. Every event goes through ``_publish``, which stamps the session id and
puts it on the bus (the journal and the front ends listen there).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from ml_intern_tui import __version__
from ml_intern_tui.core import known_secrets, mentions, user_shell
from ml_intern_tui.core.approval import ApprovalPolicy
from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.core.context import ContextManager
from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.journal import new_session_id
from ml_intern_tui.core.overflow import learn_window
from ml_intern_tui.core.protocol import (
    Approval,
    Compact,
    ContextUsage,
    Error,
    EventBase,
    History,
    Interrupt,
    Interrupted,
    JobCancel,
    JobUpdated,
    ListModels,
    ListPermissions,
    ModelCatalog,
    New,
    Notice,
    Permissions,
    PlanUpdated,
    Ready,
    RemovePermission,
    Resume,
    SetBudget,
    SetMode,
    SetModel,
    Shutdown,
    ShutdownEvent,
    TurnStarted,
    Undo,
    Undone,
    UserInput,
    UserShell,
)
from ml_intern_tui.core.resume import build_history, last_usage, restore_off_loop
from ml_intern_tui.core.services import Services
from ml_intern_tui.core.session import Backend, LoopSettings, Session
from ml_intern_tui.core.tool import ToolRouter
from ml_intern_tui.core.turn import TurnRunner

log = logging.getLogger(__name__)


class AgentLoop:
    """Serves ops for one session at a time until ``shutdown``."""

    def __init__(
        self,
        *,
        bus: EventBus,
        router: ToolRouter,
        backend: Backend,
        settings: LoopSettings,
        policy: ApprovalPolicy,
        spend: SpendTracker,
        cwd: Path,
        services: Services | None = None,
    ) -> None:
        self.bus = bus
        self.router = router
        self.backend = backend
        self.settings = settings
        self.policy = policy
        self.spend = spend
        self.cwd = cwd
        self.services = services if services is not None else Services()
        self.ops: asyncio.Queue[Any] = asyncio.Queue()
        self.session: Session | None = None
        self.runner: TurnRunner | None = None
        self.turn_task: asyncio.Task[None] | None = None
        self.stopped = asyncio.Event()
        self._lookups: set[asyncio.Task[None]] = set()
        """Background work of the session (window lookups, counting a resumed history)."""
        self._price_noticed: set[tuple[str, str, float]] = set()
        self._side_tasks: set[asyncio.Task[None]] = set()

    # ----------------------------------------------------------------- public

    def submit(self, op: Any) -> None:
        """Queue an op (call from the event loop's thread)."""
        self.ops.put_nowait(op)

    async def run(self, *, resume: str | None = None) -> None:
        """Start a session (fresh or resumed) and serve ops until ``shutdown``."""
        try:
            await self.backend.prepare(self.settings.model)
            if resume:
                if not await self._resume(resume):
                    return
            else:
                self._start_session()
            while True:
                op = await self.ops.get()
                if isinstance(op, Shutdown):
                    break
                try:
                    await self._handle(op)
                except Exception as exc:  # one bad op must not end the session
                    log.exception("op %s failed", type(op).__name__)
                    self._publish(Error(kind="internal", message=f"{type(exc).__name__}: {exc}"))
        finally:
            for lookup in list(self._lookups):
                lookup.cancel()
            await self._stop_turn()
            await self._close_session()
            jobs = self.services.jobs
            if jobs is not None:
                with contextlib.suppress(Exception):
                    await jobs.shutdown()
            await self._close_tools()
            self._publish(ShutdownEvent())
            self.bus.close()
            self.stopped.set()

    async def _close_tools(self) -> None:
        """Let tools that hold connections (HTTP clients) close them."""
        for name in self.router.names():
            close = getattr(self.router.get(name), "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()

    @property
    def busy(self) -> bool:
        return self.turn_task is not None and not self.turn_task.done()

    # -------------------------------------------------------------- sessions

    def publish(self, event: EventBase) -> None:
        """Stamp the session id and put the event on the bus (known secret values scrubbed)."""
        event = known_secrets.scrub_event(event)
        if self.session is not None:
            event.session_id = self.session.session_id
        if isinstance(event, JobUpdated):
            self.spend.set_job_cost(event.job_id, event.cost_usd)
        self.bus.publish(event)

    _publish = publish

    def _journal_event(self, event: EventBase) -> None:
        if self.session is not None and self.session.journal is not None:
            self.session.journal.record_event(event)

    def _build_session(self, session_id: str, model: str) -> Session:
        limit = self.backend.context_limit(model)

        def count(messages: list[dict[str, Any]]) -> int:
            return self.backend.count_tokens(model, messages)

        tool_tokens: dict[tuple[str, ...], int] = {}

        def overhead() -> int:
            # The tool schemas go with every request; counted once per set of tools (MCP
            # servers add theirs later). Servers render them their own way: the
            # calibration against their counts takes care of the difference.
            names = tuple(self.router.names())
            if names not in tool_tokens:
                tool_tokens.clear()
                specs = self.router.specs()
                tool_tokens[names] = (
                    self.backend.count_tokens(model, [], specs)
                    - self.backend.count_tokens(model, [])
                    if specs
                    else 0
                )
            return tool_tokens[names]

        context = ContextManager(
            self.backend.system_prompt(model, self.router.names()),
            limit=limit,
            counter=count,
            threshold_ratio=self.settings.compact_threshold,
            keep_recent=self.settings.keep_recent,
            per_message_cap=self.settings.per_message_cap,
            overhead=overhead,
        )
        context.model = model
        llm = self.backend.make_llm(model)
        llm.session_key = session_id  # router cache affinity, OpenAI prompt_cache_key
        session = Session(
            session_id=session_id,
            model=model,
            cwd=self.cwd,
            context=context,
            llm=llm,
            router=self.router,
            policy=self.policy,
            spend=self.spend,
            journal=None,
            publish=self._publish,
        )
        return session

    def _attach(self, session: Session) -> None:
        self.session = session
        session.files_dir = session.journal.files_dir if session.journal is not None else None
        self.runner = TurnRunner(session, self.settings, self.services)
        if session.journal is not None:
            journal = session.journal
            session.context.on_change = journal.append
            self.bus.add_listener(self._journal_event)

    def _start_session(self) -> None:
        session_id = new_session_id()
        session = self._build_session(session_id, self.settings.model)
        session.journal = self.backend.open_journal(
            session_id,
            {"model": self.settings.model, "cwd": str(self.cwd), "version": __version__},
        )
        self._attach(session)
        if session.journal is not None:
            # The context wrote its system prompt before the journal was attached: record
            # it now, first, so traces show it and ``truncate`` lengths line up on resume.
            system = session.context.messages[0]
            session.journal.append({"kind": "message", "message": dict(system)})
        self._publish_ready(resumed=False)
        self._look_up_window(model=session.model)
        self._price_notice()

    def _look_up_window(self, *, model: str) -> None:
        """Ask the model's server for its context window, in the background (once per server)."""
        self._background(self._apply_listed_window(model))

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._lookups.add(task)
        task.add_done_callback(self._lookups.discard)

    async def _apply_listed_window(self, model: str) -> None:
        try:
            listed = await self.backend.discover_window(model)
        except Exception:  # an unreachable or odd server: the window is learned otherwise
            log.debug("window lookup for %s failed", model, exc_info=True)
            return
        s = self.session
        if listed is None or s is None or s.model != model:
            return
        where = f"{listed.field} reported by the server"
        learn_window(s, listed.tokens, source=where, exact=listed.exact, cap=self._cap())

    def _cap(self) -> int | None:
        return self.settings.context_limit

    def _publish_ready(self, *, resumed: bool, history: History | None = None) -> None:
        s = self._require()
        self._publish(
            Ready(
                model=s.model,
                mode=self.policy.mode,
                tools=self.router.names(),
                cwd=str(self.cwd),
                context_limit=s.context.limit,
                resumed=resumed,
                messages=len(s.context.messages) - 1,
            )
        )
        if history is not None:  # with ``ready``: nothing live of the session comes first
            self._publish(history)
            return  # its usage and spend follow once its history is counted (``_resume``)
        self._publish_state()

    def _publish_state(self, *, shown: int | None = None) -> None:
        """Context usage and spend. ``shown``: the usage a resumed session last showed, as
        it stands until its history is counted (long: off the loop, then published)."""
        s = self._require()
        if shown is None:
            used, limit, threshold = s.context.usage()
        else:
            used, limit, threshold = shown, s.context.limit, s.context.threshold
            self._background(self._publish_counted(s))
        self._publish(ContextUsage(used=used, limit=limit, threshold=threshold))
        self._publish(s.spend.event(self.policy.budget_usd))

    async def _publish_counted(self, s: Session) -> None:
        await s.context.count_in_thread()
        if self.session is s:
            used, limit, threshold = s.context.usage()
            self._publish(ContextUsage(used=used, limit=limit, threshold=threshold))

    def _price_notice(self) -> None:
        """With a budget set, say at once when the model's calls cannot be priced."""
        s = self._require()
        budget = self.policy.budget_usd
        if budget is None or self.backend.price_status(s.model) != "unpriced":
            return
        if (s.session_id, s.model, budget) in self._price_noticed:
            return
        self._price_noticed.add((s.session_id, s.model, budget))
        text = (
            f"{s.model} has no known price: its calls show as unpriced and the "
            f"${budget:,.2f} budget cannot count them"
        )
        if self.policy.mode == "yolo":
            text += "; yolo will stop and ask before spending on it"
        self._publish(Notice(level="warning", text=text + "."))

    async def _list_models(self, current: str) -> None:
        try:
            models, source = await self.backend.list_models(current)
        except Exception as exc:  # the picker keeps its plain ids
            log.exception("listing models failed")
            self._publish(Notice(level="warning", text=f"Could not list the models: {exc}"))
            return
        self._publish(ModelCatalog(models=models, source=source))

    def refresh_model_info(self) -> None:
        """New model facts arrived (the router catalog): update the window and prices."""
        s = self.session
        if s is None:
            return
        self._price_notice()
        limit = self.backend.context_limit(s.model)
        if limit != s.context.limit:
            s.context.limit = limit
            s.context.threshold = int(limit * self.settings.compact_threshold)
            used, limit, threshold = s.context.usage()
            self._publish(ContextUsage(used=used, limit=limit, threshold=threshold))

    async def _close_session(self) -> None:
        s = self.session
        if s is None:
            return
        self.bus.remove_listener(self._journal_event)
        if s.journal is not None and s.journal.unused:
            s.journal.discard()  # nobody typed into it: leave no empty session behind
        elif s.journal is not None:
            s.journal.close()

    async def _resume(self, key: str) -> bool:
        try:  # a long journal takes a moment to read: the screen keeps drawing meanwhile
            stored = await asyncio.to_thread(self.backend.load_session, key)
            history = await build_history(
                stored.events, chat_blocks=self.settings.chat_blocks, jobs=self.services.jobs
            )
        except Exception as exc:
            self._publish(Error(kind="resume", message=str(exc), recoverable=True))
            if self.session is None:
                self._start_session()
            return self.session is not None
        await self._stop_turn()
        await self._close_session()
        model = str(stored.meta.get("model") or self.settings.model)
        if self.backend.validate_model(model) is not None:
            model = self.settings.model
        await self.backend.prepare(model)
        session = self._build_session(stored.session_id, model)
        messages, stored_system = await restore_off_loop(session, stored, cap=self._cap())
        session.journal = await asyncio.to_thread(self.backend.reopen_journal, stored.path)
        self.settings.model = model
        self._attach(session)
        system = session.context.messages[0].get("content")
        if session.journal is not None and system != stored_system:
            # The session goes on under today's prompt; ``rebuild`` swaps it in (no copy).
            session.journal.append({"kind": "system", "content": system})
        self._publish_ready(resumed=True, history=history)
        shown = last_usage(stored.events)
        if shown is None:  # none recorded: counted now, off the loop
            await session.context.count_in_thread()
        self._publish_state(shown=shown)
        if session.state.plan:
            self._publish(PlanUpdated(items=session.state.plan))
        self._publish(
            Notice(text=f"Resumed session {stored.session_id} ({len(messages)} messages, {model}).")
        )
        self._look_up_window(model=model)
        self._price_notice()
        return True

    def _require(self) -> Session:
        if self.session is None:  # pragma: no cover - run() always starts one
            raise RuntimeError("no session")
        return self.session

    async def _handle(self, op: Any) -> None:
        s = self._require()
        if isinstance(op, UserInput):
            await self._user_input(op.text, op.mentions)
        elif isinstance(op, Approval):
            await self._approval(op)
        elif isinstance(op, Interrupt):
            await self._interrupt()
        elif isinstance(op, Compact | Undo | New | Resume | UserShell) and self.busy:
            self._publish(
                Notice(
                    level="warning",
                    text="The agent is working: wait for the turn to end or press Esc.",
                )
            )
        elif isinstance(op, Compact):
            assert self.runner is not None
            await self.runner.compact(focus=op.focus, force=True)
        elif isinstance(op, Undo):
            self._undo()
        elif isinstance(op, UserShell) and self.runner is not None:  # Esc stops it too
            self._start_turn(user_shell.run_user_shell(s, self.runner, op.command))
        elif isinstance(op, New):
            if s.pending and self.runner is not None:
                self.runner.abandon_pending("Not run: the user started a new session.")
            await self._close_session()
            self._start_session()
            self._publish(PlanUpdated(items=[]))
        elif isinstance(op, Resume):
            await self._resume(op.session_id)
        elif isinstance(op, SetModel):
            await self._set_model(op.model)
        elif isinstance(op, SetMode):
            self.policy.set_mode(op.mode)
            self.settings.mode = op.mode
            self._publish(Notice(text=f"Approval mode: {op.mode}"))
            self._publish_ready(resumed=False)
        elif isinstance(op, SetBudget):
            self.policy.set_budget(op.budget_usd)
            self.settings.budget_usd = op.budget_usd
            text = "no budget" if op.budget_usd is None else f"${op.budget_usd:.2f}"
            self._publish(Notice(text=f"Budget: {text}"))
            self._publish(s.spend.event(op.budget_usd))
            self._price_notice()
        elif isinstance(op, JobCancel):
            await self._cancel_job(op.job_id)
        elif isinstance(op, ListPermissions):
            self._publish(self._permissions())
        elif isinstance(op, ListModels):
            # The catalog may take a moment to load: answer from a task so ops such as
            # an interrupt are not held up behind it.
            task = asyncio.create_task(self._list_models(s.model))
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)
        elif isinstance(op, RemovePermission):
            fixed = self.policy.fixed.get(op.rule.strip())
            if fixed is not None:
                self._publish(Notice(level="warning", text=f"{op.rule} stays: {fixed}."))
            elif not self.policy.forget(op.rule):
                self._publish(Notice(level="warning", text=f"No remembered rule {op.rule!r}."))
            self._publish(self._permissions())
        else:  # pragma: no cover - the op union is closed
            self._publish(Error(kind="bad_op", message=f"unknown op {op!r}"))

    def _permissions(self) -> Permissions:
        rules = [r.describe() for r in self.policy.rules]
        return Permissions(
            rules=rules,
            sources={r: self.policy.sources[r] for r in rules if r in self.policy.sources},
            fixed={r: self.policy.fixed[r] for r in rules if r in self.policy.fixed},
        )

    async def _user_input(self, text: str, mentioned: list[str] | None = None) -> None:
        s = self._require()
        if not text.strip():
            return
        if self.busy:
            s.queued_inputs.append(text)
            return
        assert self.runner is not None
        if s.pending:
            self.runner.abandon_pending(
                "Not run: the user sent a new message instead of answering the approval."
            )
        s.iterations = 0
        await mentions.start_turn(s, text, mentioned or [], self.services.hub_cards)
        self._start_turn(self.runner.run())

    async def _approval(self, op: Approval) -> None:
        s = self._require()
        if not s.pending or self.busy:
            self._publish(Notice(level="warning", text="No approval is pending."))
            return
        assert self.runner is not None
        decisions = {d.call_id: (d.approved, d.feedback, d.remember) for d in op.decisions}
        runner = self.runner

        async def resume() -> None:
            await runner.resolve_approvals(decisions)
            await runner.run()

        self._publish(TurnStarted(text=""))  # the suspended turn goes on
        self._start_turn(resume())

    def _start_turn(self, coro: Any) -> None:
        self.turn_task = asyncio.create_task(self._guard_turn(coro))

    async def _guard_turn(self, coro: Any) -> None:
        s = self._require()
        try:
            await coro
        except asyncio.CancelledError:
            if self.runner is not None:
                self.runner.after_interrupt()
            self._report_running_jobs()
            self._publish(Interrupted())
            raise
        except Exception as exc:
            log.exception("turn failed")
            self._publish(Error(kind="internal", message=f"{type(exc).__name__}: {exc}"))
        finally:
            if self.runner is not None:
                self.runner.publish_usage()
        if s.queued_inputs and not s.pending:
            self.submit(UserInput(text=s.queued_inputs.pop(0)))

    def _report_running_jobs(self) -> None:
        jobs = self.services.jobs
        running = jobs.running() if jobs is not None else []
        if running:
            names = ", ".join(f"{j.id} ({j.title})" for j in running)
            self._publish(
                Notice(
                    level="warning",
                    text=f"Still running: {names}. They keep running; cancel them from the jobs pane.",
                )
            )

    async def _interrupt(self) -> None:
        s = self._require()
        if self.busy:
            await self._stop_turn()
        elif s.pending and self.runner is not None:
            self.runner.abandon_pending("Not run: the user interrupted.", status="cancelled")
            self._publish(Interrupted())

    async def _stop_turn(self) -> None:
        task = self.turn_task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.turn_task = None

    def _undo(self) -> None:
        s = self._require()
        if s.pending and self.runner is not None:
            self.runner.abandon_pending("Not run: the user undid the turn.", status="cancelled")
        what, text = s.context.undo()
        self._publish(Undone(what=what, text=text))
        if self.runner is not None:
            self.runner.publish_usage()

    async def _set_model(self, model: str) -> None:
        s = self._require()
        problem = self.backend.validate_model(model)
        if problem:
            self._publish(Error(kind="model", message=problem, recoverable=True))
            return
        try:
            check = await self.backend.check_model(model)
            if check.problem is None:
                await self.backend.prepare(model)
                llm = self.backend.make_llm(model)
        except Exception as exc:
            self._publish(Error(kind="model", message=f"cannot use {model}: {exc}"))
            return
        if check.problem is not None:  # a typo: the router has no such model
            self._publish(Error(kind="model", message=check.problem, recoverable=True))
            return
        for warning in check.warnings:
            self._publish(Notice(level="warning", text=f"{model}: {warning}"))
        llm.session_key = s.session_id
        s.llm = llm
        s.model = model
        self.settings.model = model
        self.policy.unpriced_accepted = False  # a yes for the old model is not one for this
        s.context.base_limit = self.backend.context_limit(model)
        s.context.limit = s.windows.get(model) or s.context.base_limit
        s.context.threshold = int(s.context.limit * self.settings.compact_threshold)
        s.context.calibration.reset()  # another tokenizer: learned again from its server
        s.context.model = model
        self._publish(Notice(text=f"Model: {model}"))
        self._publish_ready(resumed=False)
        self._look_up_window(model=model)
        self._price_notice()

    async def _cancel_job(self, job_id: str) -> None:
        jobs = self.services.jobs
        if jobs is None or jobs.get(job_id) is None:
            self._publish(Notice(level="warning", text=f"No job {job_id}."))
            return
        ok = await jobs.cancel(job_id)
        self._publish(Notice(text=f"Cancelled {job_id}." if ok else f"{job_id} was not running."))
