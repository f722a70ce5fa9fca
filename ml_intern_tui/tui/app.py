"""The full-screen app: panes composed, the core served in a worker, events routed to widgets.

Nothing heavy is imported here: Textual, our widgets and the protocol. The agent's
libraries warm up in the background after the first frame.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.transcript import Transcript
from ml_intern_tui.safety.terminal import safe_event, terminal_safe
from ml_intern_tui.tui import copying, demo_intro, hangup, layout
from ml_intern_tui.tui.attention import Attention
from ml_intern_tui.tui.bridge import EventBridge
from ml_intern_tui.tui.commands import BUILTINS, SlashRegistry, parse
from ml_intern_tui.tui.gc_governor import FREEZE_EVERY_S, GcGovernor
from ml_intern_tui.tui.help_text import help_markdown
from ml_intern_tui.tui.messages import AgentEvent, AgentHistory
from ml_intern_tui.tui.palette import AgentCommands
from ml_intern_tui.tui.preload import preload_markdown, warm_runtime
from ml_intern_tui.tui.runtime import Runtime
from ml_intern_tui.tui.screens.mcp import McpBoard
from ml_intern_tui.tui.screens.permissions import PermissionsScreen
from ml_intern_tui.tui.screens.picker import PickerScreen
from ml_intern_tui.tui.session_view import SessionView
from ml_intern_tui.tui.slash import MODES, run_slash
from ml_intern_tui.tui.slash_custom import install as install_custom_commands
from ml_intern_tui.tui.themes import register_themes
from ml_intern_tui.tui.widgets.approval import ApprovalDrawer
from ml_intern_tui.tui.widgets.blocks.notice import Level
from ml_intern_tui.tui.widgets.chat import ChatView
from ml_intern_tui.tui.widgets.credential_banner import CredentialBanner
from ml_intern_tui.tui.widgets.header import HeaderLine
from ml_intern_tui.tui.widgets.jobs import JobsPanel
from ml_intern_tui.tui.widgets.plan import PlanPanel
from ml_intern_tui.tui.widgets.prompt import BUSY_PLACEHOLDER, IDLE_PLACEHOLDER, PromptInput
from ml_intern_tui.tui.widgets.prompt_bar import PromptBar
from ml_intern_tui.tui.widgets.status_line import StatusLine
from ml_intern_tui.tui.widgets.tool_tree import ToolTree

if TYPE_CHECKING:
    from ml_intern_tui.config.schema import AppConfig

QUIT_WINDOW_S = 1.0
"""A second Ctrl+C within this many seconds quits."""
SHUTDOWN_GRACE_S = 3.0
ACTIVITY = (p.TurnStarted, p.AssistantDelta, p.ReasoningDelta, p.ToolCall, p.ToolProgress)


UI_SWITCH_INTERVAL_S = 0.001
"""How long another thread may hold the GIL while the UI waits (Python's default: 5 ms).

Work handed to threads (litellm assembling a finished stream, token counting, file and
Hub calls) is often pure Python. With the default, each time the loop woke up it waited
up to 5 ms for the GIL, several times per frame: a long answer's last half-second
stalled the loop 35-55 ms at a time. 1 ms keeps those waits short for a little more
switching overhead in the threads."""


class MLInternApp(App[int]):
    """Chat, tool calls, plan, jobs, approvals — driven by events, acting by ops."""

    CSS_PATH = "app.tcss"
    TITLE = "ml-intern"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    COMMANDS = App.COMMANDS | {AgentCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit_app", "Quit", id="app.quit", priority=True, show=False),
        Binding(
            "ctrl+c", "clear_or_quit", "Clear", id="app.clear_or_quit", priority=True, show=False
        ),
        Binding("escape", "interrupt", "Interrupt", id="app.interrupt"),
        Binding("ctrl+u", "undo", "Undo", id="app.undo", priority=True),
        Binding("ctrl+o", "compact", "Compact", id="app.compact", priority=True),
        Binding("ctrl+n", "focus_next_pane", "Next pane", id="app.next_pane", priority=True),
        Binding("ctrl+t", "toggle_side", "Side panes", id="app.toggle_side", priority=True),
        Binding("f1", "help", "Help", id="app.help"),
        Binding("ctrl+p", "command_palette", "Palette", id="app.palette", priority=True),
    ]

    busy: var[bool] = var(False)
    interrupting: var[bool] = var(False)

    # The panes, created in compose().
    header: HeaderLine
    chat: ChatView
    tools: ToolTree
    jobs: JobsPanel
    drawer: ApprovalDrawer
    prompt_bar: PromptBar
    prompt: PromptInput
    status: StatusLine

    def __init__(
        self, runtime: Runtime, *, clock: Callable[[], float] = time.time, serve: bool = True
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self.session_view = SessionView.from_config(runtime.settings)
        """Model, mode, ids, context and money: the header, status line and commands read it."""
        self.clock = clock
        self.serve = serve
        self.transcript = Transcript()
        self.gc_governor = GcGovernor()
        self.commands = SlashRegistry(BUILTINS)
        """Every ``/command`` of this run (completion, palette, help and dispatch)."""
        self.queue: list[str] = []
        self.permissions_requested = False
        self.model_picker: PickerScreen | None = None
        """The open ``/model`` picker, filled in by the ``model_catalog`` answer."""
        self.mcp_board = McpBoard()
        self.sandbox_summary = "checking…"
        """How shell commands run (from the ``sandbox_status`` event; ``/status`` shows it)."""
        self.bridge: EventBridge | None = None
        self._routes: dict[str, list[Widget]] = {}
        self._history_panes: list[Widget] = []
        self._session_id: str | None = None
        self._history_for: str | None = None
        """The session whose ``history`` the panes wait for (it was just resumed)."""
        self._switch_interval = sys.getswitchinterval()
        self._last_ctrl_c = -10.0
        self._quitting = False
        self._serving = False
        self._exit_code = 0
        self._hung_up = False
        self.quit_on_signals = False
        """Quit cleanly on SIGHUP/SIGTERM (the real app; tests run inside pytest's loop)."""
        self.theme_errors: list[str] = []
        self._register_themes()
        self.attention = Attention(
            self.settings.ui.notify, write=self._write_terminal, focused=lambda: self.app_focus
        )
        """The bell / OSC 9 notifier (``tui/attention.py``): job alerts, turn ends."""

    # ------------------------------------------------------------------ setup

    @property
    def settings(self) -> AppConfig:
        """The validated settings of this run (the runtime's: the trust answer may change them)."""
        return self.runtime.settings

    def _register_themes(self) -> None:
        self.theme_errors = register_themes(self, self.settings.ui.theme)

    def compose(self) -> ComposeResult:
        self.header = HeaderLine(self.session_view, id="header")
        self.chat = ChatView(
            id="chat",
            max_blocks=self.settings.ui.max_chat_blocks,
            show_reasoning=self.settings.ui.show_reasoning,
        )
        self.tools = ToolTree(id="tools", clock=self.clock)
        self.jobs = JobsPanel(id="jobs", clock=self.clock)
        self.drawer = ApprovalDrawer(id="approval")
        self.prompt_bar = PromptBar(id="prompt-bar")
        self.prompt = self.prompt_bar.input
        self.status = StatusLine(self.session_view, id="status")
        yield self.header
        yield CredentialBanner(id="credential-banner")  # a missing key/token, with its fix
        with Horizontal(id="main"):
            yield self.chat
            with Vertical(id="side"):
                yield self.tools
                yield PlanPanel(id="plan")
                yield self.jobs
        yield self.drawer
        yield self.prompt_bar
        yield self.status
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.prompt_bar.arg_choices = self.arg_choices
        self.prompt_bar.registry = self.commands
        for widget in self.query("*"):
            for kind in getattr(widget, "EVENT_TYPES", ()):
                self._routes.setdefault(kind, []).append(widget)
            if getattr(widget, "HISTORY_TYPES", None):
                self._history_panes.append(widget)
        subscription = self.runtime.bus.subscribe(maxsize=100_000)
        self.bridge = EventBridge(subscription, self._route, prepare=safe_event)
        self.run_worker(self.bridge.run(), name="bridge", group="bridge", exit_on_error=False)
        self.prompt.focus()
        demo_intro.install(self)  # --demo: what the demo is, and its one-key goal
        self.watch(self, "app_focus", self.attention.focus_changed, init=False)
        for warning in getattr(self.runtime, "warnings", ()):
            self.local_notice(warning, "warning")
        trust = getattr(self.runtime, "project_trust", None)
        if self.serve and trust is not None and trust.asks:
            # Nothing is wired and no MCP server starts until the user has answered, and
            # the keymap (which the project may set) waits too: no key of the question
            # can be taken over by a binding the project moved onto it.
            from ml_intern_tui.tui.screens.trust import TrustScreen

            self.push_screen(TrustScreen(trust), self._trust_answered)
        else:
            self._apply_keymap()
            self._start_serving()
        if self.quit_on_signals:
            self.handle_signals()
        self.call_after_refresh(self._after_first_frame)
        self.set_interval(FREEZE_EVERY_S, self.gc_governor.tick, name="gc-governor")
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(UI_SWITCH_INTERVAL_S)

    def _apply_keymap(self) -> None:
        keymap = {key: keys for key, keys in self.settings.keymap.items() if keys}
        if keymap:
            self.set_keymap(keymap)

    def _start_serving(self) -> None:
        if self.serve:
            self._serving = True
            self.run_worker(self._serve(), name="runtime", group="runtime", exit_on_error=False)

    def _trust_answered(self, answer: str | None) -> None:
        self.run_worker(
            self._apply_trust(answer or "ignore"), name="trust", group="trust", exit_on_error=False
        )

    async def _apply_trust(self, answer: str) -> None:
        try:
            level, text = await self.runtime.answer_trust(answer)  # type: ignore[attr-defined]
        finally:
            self.attention.mode = self.settings.ui.notify
            self.session_view.configure(self.settings)
            self._apply_keymap()
            self._start_serving()
        self.header.refresh()
        self.status.refresh()
        self.local_notice(text, level)

    def _write_terminal(self, text: str) -> None:
        """Raw output to the terminal (a bell, an OSC), as Textual's own ``bell`` writes it."""
        if not self.is_headless and self._driver is not None:
            self._driver.write(text)

    def on_unmount(self) -> None:
        # Hand everything back to the collector: whoever runs next (a test) starts clean.
        self.gc_governor.release()
        sys.setswitchinterval(self._switch_interval)

    def on_key(self) -> None:
        self.gc_governor.activity()

    def _after_first_frame(self) -> None:
        # Markdown (for answers and help) loads off the UI thread once the frame is up.
        self.run_worker(preload_markdown, thread=True, name="preload", exit_on_error=False)
        for error in self.theme_errors:
            self.notify(terminal_safe(error), severity="warning", timeout=8, markup=False)
        if self.serve:
            self.run_worker(
                warm_runtime(self.runtime), name="warm-up", group="warm-up", exit_on_error=False
            )

    async def _serve(self) -> None:
        try:
            await self.runtime.run()
        except Exception as exc:  # the core reports its own errors; this is a crash
            self.local_notice(
                f"The agent stopped: {type(exc).__name__}: {exc}",
                "error",
                hint="Ctrl+Q quits; run with --debug for the full trace.",
            )
            return
        finally:
            self._serving = False
            if self._hung_up:
                os._exit(self._exit_code)  # the terminal is gone: nothing to restore
        self.exit(0)

    # --------------------------------------------------------------- accessors

    @property
    def main_screen(self) -> Screen[Any]:
        """The screen with the panes (``self.screen`` may be a modal on top of it)."""
        return self.screen_stack[0]

    # ------------------------------------------------------------------ events

    def deliver(self, event: p.EventBase) -> None:
        """Route one event, on the UI loop, in bus order (the bridge does the same).

        Every event is made terminal-safe before any widget or the transcript sees it:
        escape sequences in a model's answer, a tool's output or a server's reply (or a
        journal's, in a resumed session's history) are shown, never obeyed
        (``safety/terminal.py``). The bridge does it with ``safe_event`` as its
        ``prepare`` (a whole history in a worker thread), then calls ``_route``.
        """
        self._route(safe_event(event))

    def _route(self, event: p.EventBase) -> None:
        """``deliver`` for an event already made terminal-safe (the bridge's, see there)."""
        if isinstance(event, p.History):
            self._show_history(event)
            return
        new_session = False
        if isinstance(event, p.Ready):
            if not self.gc_governor.settled:
                self.call_after_refresh(self.gc_governor.settle)
            new_session = self._session_id is not None and event.session_id != self._session_id
            resumed = event.resumed and event.session_id != self._session_id
            self._history_for = event.session_id if resumed else None
            if resumed:  # its transcript is its history, then what comes
                self.transcript = Transcript()
            self._session_id = event.session_id
            if new_session:
                self.queue.clear()
                self._show_queue()
        self.session_view.fold(event)
        self.transcript.record(event)
        self._track_turn(event)
        for widget in self._routes.get(str(getattr(event, "type", "")), ()):
            widget.post_message(AgentEvent(event, new_session=new_session))
        if isinstance(event, p.Permissions):
            self._show_permissions(event)
        elif isinstance(event, p.ModelCatalog):
            self._show_model_catalog(event)
        elif isinstance(event, p.McpStatus):
            self.mcp_board.update(event)
        elif isinstance(event, p.SandboxStatus):
            self.sandbox_summary = event.summary
        elif isinstance(event, p.Notice) and event.alert is not None:
            self.attention.request(event.text, urgent=True)
        elif isinstance(event, p.SlashCommands):
            install_custom_commands(self, event.commands)
        elif isinstance(event, p.SessionList | p.SessionAction):
            for screen in self.screen_stack[1:]:  # the sessions browser's answers
                if event.type in getattr(screen, "EVENT_TYPES", ()):
                    screen.post_message(AgentEvent(event))
        elif isinstance(event, p.Undone) and event.text and not self.prompt.text.strip():
            self.prompt.set_text(event.text)

    def _show_history(self, history: p.History) -> None:
        """Put a resumed session's past on the panes: each folds it with its live handlers.

        It comes right after the ``ready`` that announced the session (the core publishes
        them together), so the panes have started over and no live event is ahead of it.
        A session that was already on screen (resumed again) keeps what it shows.
        """
        if history.session_id != self._history_for:
            return
        self._history_for = None
        for event in history.events:
            self.transcript.record(event)
        for pane in self._history_panes:
            pane.post_message(AgentHistory(history))

    def _track_turn(self, event: p.EventBase) -> None:
        if isinstance(event, ACTIVITY):
            self.busy = True
        elif isinstance(event, p.TurnComplete | p.Interrupted):
            self.busy = False
            self.interrupting = False
            pending = isinstance(event, p.TurnComplete) and event.reason == "approval_pending"
            if not pending:
                self._flush_queue()
        elif isinstance(event, p.ApprovalRequired):
            # The turn is suspended on the user; queued messages wait for its real end.
            self.busy = False
            self.interrupting = False
        elif isinstance(event, p.Error) and not event.recoverable:
            self.busy = False

    def watch_busy(self, busy: bool) -> None:
        self.gc_governor.busy = busy
        self.status.busy = busy
        self.prompt.placeholder = BUSY_PLACEHOLDER if busy else IDLE_PLACEHOLDER

    def watch_interrupting(self) -> None:
        self._show_queue()

    # ------------------------------------------------------------------- ops

    def submit(self, op: BaseModel) -> None:
        """Hand one op to the core."""
        self.runtime.submit(op)

    def on_prompt_bar_sent(self, message: PromptBar.Sent) -> None:
        parsed = parse(message.text)
        if parsed is not None:
            self.run_slash(*parsed)
        elif message.text.startswith("!"):  # !cmd: the user runs a command (the core runs it)
            self.submit(p.UserShell(command=message.text[1:]))
        else:
            self.send_message(message.text)

    def send_message(self, text: str) -> None:
        """Send the user's message now, or queue it while a turn runs."""
        if self.busy or self.interrupting:
            self.queue.append(text)
            self._show_queue()
        else:
            self.busy = True
            self.submit(self.prompt_bar.user_input(text))

    def _flush_queue(self) -> None:
        if not self.queue:
            return
        text = "\n\n".join(self.queue)
        self.queue.clear()
        self._show_queue()
        self.busy = True
        self.submit(self.prompt_bar.user_input(text))

    def _show_queue(self) -> None:
        self.prompt_bar.queued.show(self.queue, interrupting=self.interrupting)
        self.status.queued = len(self.queue)

    def run_slash(self, name: str, arg: str = "") -> None:
        """Run a slash command (also what the palette calls)."""
        self.run_worker(run_slash(self, name, arg), group="slash", exit_on_error=False)

    def arg_choices(self, kind: str) -> list[str]:
        if kind == "models":
            return list(dict.fromkeys([self.session_view.model, *self.suggested_models()]))
        if kind == "modes":
            return list(MODES)
        if kind == "efforts":
            return ["minimal", "low", "medium", "high", "xhigh", "max", "off"]
        if kind == "themes":
            return sorted(self.available_themes)
        return []

    def suggested_models(self) -> list[str]:
        """The configured ``/model`` choices, terminal-safe (they are drawn)."""
        return [terminal_safe(model) for model in self.settings.suggested_models]

    def local_notice(self, text: str, level: Level = "info", *, hint: str = "") -> None:
        """A notice from the UI itself, shown in the chat in order with events."""
        text, hint = terminal_safe(text), terminal_safe(hint)
        self.chat.post_message(ChatView.LocalNotice(text, level, hint))

    async def save_setting(self, key: str, value: Any, what: str) -> None:
        try:
            from ml_intern_tui.config.writer import set_value
            from ml_intern_tui.paths import user_config_path

            path = user_config_path()
            await asyncio.to_thread(set_value, path, key, value)
        except Exception as exc:  # a read-only home must not break the switch itself
            self.local_notice(f"{what} is on, but could not be saved: {exc}", "warning")
            return
        self.notify(terminal_safe(f"{what} saved to {path}"), timeout=4, markup=False)

    # ----------------------------------------------------------- widget messages

    def on_approval_drawer_decided(self, message: ApprovalDrawer.Decided) -> None:
        self.busy = True
        self.submit(message.op)

    def on_approval_drawer_closed(self) -> None:
        self.prompt.focus()

    def on_approval_drawer_leave(self) -> None:
        self.prompt.focus()

    def on_tool_tree_show_detail(self, message: ToolTree.ShowDetail) -> None:
        from ml_intern_tui.tui.screens.tool_detail import ToolDetailScreen

        self.push_screen(ToolDetailScreen(message.record, clock=self.clock))

    def on_jobs_panel_cancel_requested(self, message: JobsPanel.CancelRequested) -> None:
        from ml_intern_tui.tui.screens.confirm import ConfirmScreen

        job = message.job
        detail = f"{job.title or job.job_id} · {job.status}"
        if job.cost_usd:
            detail += f" · ${job.cost_usd:.2f} so far"

        def answered(yes: bool | None) -> None:
            if yes:
                self.submit(p.JobCancel(job_id=job.job_id))

        self.push_screen(ConfirmScreen(f"Cancel job {job.job_id}?", detail), answered)

    def _show_permissions(self, event: p.Permissions) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, PermissionsScreen):
                screen.set_rules(event.rules, event.sources, event.fixed)
                return
        if self.permissions_requested:
            self.permissions_requested = False
            self.push_screen(PermissionsScreen(event.rules, event.sources, event.fixed))

    def _show_model_catalog(self, event: p.ModelCatalog) -> None:
        from ml_intern_tui.tui.money import model_row

        picker = self.model_picker
        if picker is not None and picker.is_attached:
            picker.set_values([(m.id, model_row(m)) for m in event.models], event.source)

    def on_permissions_screen_remove(self, message: PermissionsScreen.Remove) -> None:
        self.submit(p.RemovePermission(rule=message.rule))

    # ----------------------------------------------------------------- actions

    def action_interrupt(self) -> None:
        if self.busy and not self.interrupting:
            self.interrupting = True
            self.submit(p.Interrupt())
        elif self.drawer.is_open:
            self.drawer.focus()

    def action_clear_or_quit(self) -> None:
        if copying.copy_selection(self):  # Ctrl+C copies a selection; else clears, then quits
            return
        now = time.monotonic()
        if now - self._last_ctrl_c < QUIT_WINDOW_S:
            self.action_quit_app()
            return
        self._last_ctrl_c = now
        if self.prompt.text:
            self.prompt.clear()
        elif self.queue:
            self.queue.clear()
            self._show_queue()
        else:
            self.notify("Press Ctrl+C again to quit.", timeout=QUIT_WINDOW_S)

    def action_quit_app(self) -> None:
        code = self._exit_code
        if self._quitting or not self._serving:
            self.exit(code)
            return
        self._quitting = True
        self.submit(p.Shutdown())
        if not self._hung_up:
            self.set_timer(SHUTDOWN_GRACE_S, lambda: self.exit(code))

    def handle_signals(self) -> None:
        """Quit cleanly on SIGHUP (terminal or SSH connection gone) and SIGTERM."""
        hangup.install(self)

    def action_undo(self) -> None:
        self.submit(p.Undo())

    def action_compact(self) -> None:
        self.submit(p.Compact())

    def action_approve_all(self) -> None:
        if self.drawer.is_open:
            self.drawer.action_approve_all()

    def action_help(self) -> None:
        from ml_intern_tui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(help_markdown(self)))

    def action_focus_next_pane(self) -> None:
        layout.focus_next_pane(self)

    def action_toggle_side(self) -> None:
        layout.toggle_side(self)

    def show_side(self, show: bool) -> None:
        """Show or hide the tool, plan and jobs column (on narrow screens it replaces chat)."""
        layout.show_side(self, show)


def run_app(runtime: Runtime) -> int:
    """Open the app on ``runtime`` and return the process exit code."""
    # Textual sizes the screen from COLUMNS/LINES when they are set; an exported stale
    # value would pin the layout to the wrong size, even across resizes.
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)
    app = MLInternApp(runtime)
    app.quit_on_signals = True
    app.run()
    return int(app.return_code or 0)
