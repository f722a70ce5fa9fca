"""The reasoning effort of the running app: the preference, what each model takes, probes.

One ``EffortControl`` serves every session of an app run (``runtime/agent.py`` makes it; the
turn reaches it as the ``effort`` service). It answers one question before each model
call — which level to send (``level_for_call``) — and keeps that answer true:

- when a session starts or switches model (``start``), it probes the model in the
  background, unless the books (on disk, a week) already answer;
- a call that finds a probe still running waits for it, at most ``wait_s``;
- ``/effort`` changes the preference (``set_preference``) and re-checks the model;
- a refusal at run time (``heal``) is learned, the rest of the cascade probed, and the
  level lowered — said in a notice.

Local and scripted models never get an effort parameter, and are never probed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ml_intern_tui.core.effort import (
    EFFORT_NOTICE,
    EffortStore,
    Level,
    LevelBook,
    cap,
    cascade,
    choose,
    first_unknown,
)
from ml_intern_tui.core.effort_probe import PROBE_TIMEOUT_S, ProbeOutcome, learn_refusal, probe
from ml_intern_tui.core.models import ModelRoute
from ml_intern_tui.core.protocol import EffortStatus, Notice
from ml_intern_tui.core.reasoning_errors import ReasoningProblem

log = logging.getLogger(__name__)

PROBE_WAIT_S = 20.0
"""The longest a model call waits for a probe in flight (then it sends its best guess)."""


def route_key(route: ModelRoute) -> str:
    """Books are per model id and endpoint (the same id elsewhere may differ)."""
    return f"{route.model_id}@{route.api_base or ''}"


def _levels(levels: list[str]) -> str:
    return ", ".join(levels) if levels else "none"


class EffortControl:
    """Chooses, checks and heals the reasoning effort sent to each model."""

    def __init__(
        self,
        preference: Level | None,
        *,
        store: EffortStore | None = None,
        probe_timeout_s: float = PROBE_TIMEOUT_S,
        wait_s: float = PROBE_WAIT_S,
    ) -> None:
        self.preference = preference
        self.store = store
        self.probe_timeout_s = probe_timeout_s
        self.wait_s = wait_s
        self._books: dict[str, LevelBook] = {}
        self._unsendable: dict[str, frozenset[str]] = {}
        self._unsettled: dict[tuple[str, Level | None], str] = {}
        """(model key, preference) → why a probe could not tell (not probed again)."""
        self._probes: dict[str, asyncio.Task[ProbeOutcome | None]] = {}
        self._starts: set[asyncio.Task[None]] = set()
        """Start-up checks in flight (kept: the event loop holds tasks only weakly)."""

    # ------------------------------------------------------------------ reading

    def level_for(self, route: ModelRoute, ceiling: Level | None = None) -> Level | None:
        """The level to send to ``route`` now (no waiting), capped at ``ceiling``."""
        if not route.send_effort or self.preference is None:
            return None
        key = route_key(route)
        wanted = cap(self.preference, ceiling) if ceiling else self.preference
        book = self._books.get(key, LevelBook())
        return choose(wanted, book, self._unsendable.get(key, ()))

    async def level_for_call(self, session: Any) -> Level | None:
        """The level for the session's next call: the books loaded, a probe (started
        now if needed) awaited up to ``wait_s``."""
        route: ModelRoute = session.llm.route
        if not route.send_effort or self.preference is None:
            return None
        try:
            await self._prepare(route)
        except Exception:  # the books are an optimisation: send the preference as is
            log.debug("effort books for %s unreadable", route.model_id, exc_info=True)
            return self.level_for(route)
        task = self._ensure_probe(session, route)
        if task is not None and not task.done():
            with contextlib.suppress(asyncio.TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(task), self.wait_s)
        return self.level_for(route)

    def status(self, session: Any) -> EffortStatus:
        """The ``effort`` event for the session's model."""
        route: ModelRoute = session.llm.route
        key = route_key(route)
        book = self._books.get(key, LevelBook())
        level = self.level_for(route)
        common: dict[str, Any] = {
            "model": session.model,
            "preference": self.preference,
            "level": level,
            "accepted": book.accepted(),
            "refused": book.refused(),
        }
        if not route.send_effort:
            note = "local and scripted models get no effort parameter"
            return EffortStatus(**common, state="not_sent", note=note)
        if self.preference is None:
            return EffortStatus(**common, state="off")
        probing = key in self._probes and not self._probes[key].done()
        if probing:
            return EffortStatus(**common, state="probing", note="checking what the model takes")
        if level is None:
            return EffortStatus(**common, state="unsupported", note=self._why_none(key))
        if book.get(level) is True:
            return EffortStatus(**common, state="probed")
        note = self._unsettled.get((key, self.preference), "")
        return EffortStatus(**common, state="unknown", note=note)

    def _why_none(self, key: str) -> str:
        dropped = self._unsendable.get(key, frozenset())
        if dropped and all(lv in dropped for lv in cascade(self.preference)):
            return "litellm knows this model takes no such effort level"
        return "the model refused every level asked for"

    # ----------------------------------------------------------------- changing

    def start(self, session: Any, *, forget: bool = False) -> None:
        """A session started or switched model: say the effort, probe if needed.

        ``forget`` drops what the books say about the model first (``/effort``).
        """
        task = asyncio.get_running_loop().create_task(self._start(session, forget))
        self._starts.add(task)
        task.add_done_callback(self._starts.discard)

    async def _start(self, session: Any, forget: bool) -> None:
        route: ModelRoute = session.llm.route
        if forget and self.store is not None:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(self.store.save, route_key(route), LevelBook())
        if route.send_effort and self.preference is not None:
            try:
                await self._prepare(route)
            except Exception:  # the books are an optimisation: go on without them
                log.debug("effort books for %s unreadable", route.model_id, exc_info=True)
            self._ensure_probe(session, route)
        session.publish(self.status(session))

    def set_preference(self, level: Level | None, session: Any) -> None:
        """``/effort``: a new preference; the current model is checked again."""
        self.preference = level
        route: ModelRoute = session.llm.route
        key = route_key(route)
        self._unsettled = {k: v for k, v in self._unsettled.items() if k[0] != key}
        self._books[key] = LevelBook()  # the user asks again: ask the model again too
        running = self._probes.pop(key, None)
        if running is not None:
            running.cancel()
        text = f"{EFFORT_NOTICE} {level or 'off'}"
        if level is not None and not route.send_effort:
            text += f" ({session.model} is local or scripted: it gets no effort parameter)"
        session.publish(Notice(text=text + "."))
        self.start(session, forget=True)

    async def heal(self, session: Any, problem: ReasoningProblem, sent: str) -> str:
        """The provider refused ``sent``: learn it, find the next level; the notice text."""
        route: ModelRoute = session.llm.route
        key = route_key(route)
        try:
            await self._prepare(route)
        except Exception:  # no books: this run's memory is enough to heal
            log.debug("effort books for %s unreadable", route.model_id, exc_info=True)
        learn_refusal(self._books.setdefault(key, LevelBook()), sent, problem)
        await self._save(key)
        task = self._ensure_probe(session, route)
        if task is not None:
            with contextlib.suppress(asyncio.TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(task), self.wait_s)
        level = self.level_for(route)
        session.publish(self.status(session))
        then = f"using '{level}' from now on" if level else "sending no effort from now on"
        if problem.kind == "effort_param":
            return f"{EFFORT_NOTICE} {session.model} takes no effort parameter; {then}"
        return f"{EFFORT_NOTICE} {session.model} refused '{sent}'; {then}"

    # ----------------------------------------------------------------- internals

    async def _prepare(self, route: ModelRoute) -> None:
        """Load the model's book and what litellm cannot send (once per model)."""
        key = route_key(route)
        if key not in self._books:
            book = LevelBook()
            if self.store is not None:
                book = await asyncio.to_thread(self.store.load, key)
            self._books.setdefault(key, book)
        if key not in self._unsendable:
            from ml_intern_tui.core.effort_probe import unsendable
            from ml_intern_tui.core.llm import ensure_litellm

            litellm = await ensure_litellm()
            self._unsendable[key] = await asyncio.to_thread(unsendable, litellm, route)

    def _ensure_probe(self, session: Any, route: ModelRoute) -> asyncio.Task[Any] | None:
        """The probe for ``route`` (started when the books do not answer), or ``None``."""
        key = route_key(route)
        running = self._probes.get(key)
        if running is not None and not running.done():
            return running
        book = self._books.get(key)
        if book is None or (key, self.preference) in self._unsettled:
            return None
        if first_unknown(self.preference, book, self._unsendable.get(key, ())) is None:
            return None
        client = session.llm  # the model may change while the probe runs: keep its client
        task = asyncio.get_running_loop().create_task(self._probe(session, client))
        self._probes[key] = task
        session.publish(self.status(session))
        return task

    async def _probe(self, session: Any, client: Any) -> ProbeOutcome | None:
        route: ModelRoute = client.route
        key, preference, book = route_key(route), self.preference, self._books[route_key(route)]
        task = asyncio.current_task()
        try:
            try:
                outcome = await probe(client, preference, book, timeout_s=self.probe_timeout_s)
            except Exception as exc:  # a probe bug must never stop the session
                log.exception("effort probe for %s failed", route.model_id)
                outcome = ProbeOutcome(preference, False, f"{type(exc).__name__}: {exc}")
            for response in outcome.responses:  # probe calls are paid calls
                session.spend.add_call(response.cost, response.cost_usd)
            if outcome.responses:
                session.publish(session.spend.event(session.policy.budget_usd))
            await self._save(key)
            if not outcome.settled:
                self._unsettled[(key, preference)] = outcome.note
        finally:
            if self._probes.get(key) is task:
                del self._probes[key]
        current = session.model == route.model_id
        if current and self.preference == preference:
            self._tell(session, route, outcome)
        if current:
            session.publish(self.status(session))
        return outcome

    def _tell(self, session: Any, route: ModelRoute, outcome: ProbeOutcome) -> None:
        """A notice when the probe found something the user did not ask for."""
        book = self._books[route_key(route)]
        asked = self.preference
        if not outcome.settled:
            # Offline, no token, a provider hiccup: the first real call will say so
            # itself; ``/effort`` shows why the level is unchecked.
            return
        if outcome.level is None:
            why = self._why_none(route_key(route))
            text = f"{EFFORT_NOTICE} {session.model} takes none ({why}); none is sent."
            session.publish(Notice(level="warning", text=text))
        elif outcome.level != asked:
            text = (
                f"{EFFORT_NOTICE} {session.model} takes up to '{outcome.level}' "
                f"(asked for '{asked}'; refused: {_levels(book.refused())})."
            )
            session.publish(Notice(level="warning", text=text))

    async def _save(self, key: str) -> None:
        if self.store is None or key not in self._books:
            return
        book = LevelBook(dict(self._books[key].known))
        try:
            await asyncio.to_thread(self.store.save, key, book)
        except OSError as exc:  # the books stay in memory for this run
            log.info("effort cache not saved: %s", exc)

    async def aclose(self) -> None:
        """Stop the probes in flight (app shutdown)."""
        tasks = [*self._probes.values(), *self._starts]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._probes.clear()
