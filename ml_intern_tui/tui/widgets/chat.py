"""The chat pane: the conversation as the core reports it, streamed and bounded.

A resumed session's past arrives as one ``history`` event: its events go through the
same handlers as live ones, but the blocks they make are kept aside (``_folding``); once
it is read, the newest of the last ``max_blocks`` are mounted and the older ones wait
until the view comes near them (``chat_older.py``).
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Click
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.user_shell import USER_SHELL_PREFIX
from ml_intern_tui.tui.formatting import format_tokens
from ml_intern_tui.tui.hints import error_hint
from ml_intern_tui.tui.messages import AgentEvent, AgentHistory, history_failed
from ml_intern_tui.tui.widgets.blocks.notice import Level, NoticeBlock
from ml_intern_tui.tui.widgets.blocks.shell import ShellBlock
from ml_intern_tui.tui.widgets.blocks.tools import ToolMention
from ml_intern_tui.tui.widgets.blocks.user import UserBlock
from ml_intern_tui.tui.widgets.chat_older import EarlierMarker, OlderBlocks
from ml_intern_tui.tui.widgets.chat_scroll import ChatScroll

if TYPE_CHECKING:
    from ml_intern_tui.tui.widgets.blocks.assistant import AssistantBlock
    from ml_intern_tui.tui.widgets.blocks.reasoning import ReasoningBlock

WELCOME = "Ask the agent for something.  / lists commands · F1 help · Ctrl+P palette"
FIRST_MOUNT = 20
"""Blocks of a resumed chat mounted at once (about a screen; more follow while the view is
within a screen of the top): the rest wait above (``chat_older.py``)."""
FOLD_SLICE = 250
"""History events folded between two yields to the loop (a long history is not one stall)."""


class NewOutputHint(Static):
    """Shown while the user reads older output and new output has arrived."""

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(ChatView.JumpToBottom())


class ChatView(Vertical):
    """User messages, streamed answers, reasoning, tool mentions and notices."""

    EVENT_TYPES = frozenset(
        {
            "ready",
            "turn_started",
            "assistant_delta",
            "assistant_message",
            "reasoning_delta",
            "tool_call",
            "tool_result",
            "compacted",
            "loop_warning",
            "notice",
            "error",
            "interrupted",
            "turn_complete",
            "undone",
        }
    )

    DEFAULT_CSS = """
    ChatView {
        height: 1fr;
        & > NewOutputHint {
            dock: bottom;
            display: none;
            width: 100%;
            height: 1;
            content-align: center middle;
            background: $accent;
            color: $text;
            text-style: bold;
        }
        &.-new-output > NewOutputHint { display: block; }
        & .welcome { color: $text-muted; padding: 1 1; }
    }
    """

    HISTORY_TYPES = EVENT_TYPES - {"ready", "assistant_delta"}
    """What the chat takes from a resumed session's history (from its ``chat_from``): the
    finished forms, never a stream (a history keeps each answer whole)."""

    class JumpToBottom(Message):
        """The user asked to see the newest output."""

    class LocalNotice(Message, bubble=False):
        """A notice from the UI itself (a slash command's answer), in event order."""

        def __init__(self, text: str, level: Level = "info", hint: str = "") -> None:
            super().__init__()
            self.text, self.level, self.hint = text, level, hint

    def __init__(
        self, *, max_blocks: int = 400, show_reasoning: bool = True, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.max_blocks = max_blocks
        self.show_reasoning = show_reasoning
        self._assistant: AssistantBlock | None = None
        self._last_assistant: AssistantBlock | None = None
        self._reasoning: ReasoningBlock | None = None
        self._tools: ToolMention | None = None
        self._shells: dict[str, ShellBlock] = {}
        """Commands the user ran with ``!``, waiting for their output."""
        self._folding: list[Widget] | None = None
        """Blocks made from a resumed session's history, mounted together once it is read."""
        self._folded_reasoning: list[str] | None = None
        """The reasoning stretch being read from a history (made a block once it ends)."""
        self._older = OlderBlocks(lambda: self.scroller)
        """A resumed chat's older blocks, mounted as the view comes near them."""

    def compose(self) -> ComposeResult:
        with ChatScroll(id="chat-log"):
            yield Static(WELCOME, classes="welcome")
        yield NewOutputHint("new output ↓  (End to follow)")

    def latest_assistant(self) -> AssistantBlock | None:
        """The newest answer block (streaming or finished), without a DOM query."""
        return self._last_assistant

    @property
    def scroller(self) -> ChatScroll:
        return self.query_one(ChatScroll)

    @property
    def blocks(self) -> list[Widget]:
        return [
            w
            for w in self.scroller.children
            if not w.has_class("welcome") and not isinstance(w, EarlierMarker)
        ]

    @property
    def waiting(self) -> int:
        """Blocks of a resumed chat not mounted yet (above the mounted ones)."""
        return len(self._older)

    def on_mount(self) -> None:
        self.watch(self.scroller, "away", self._away_changed, init=False)
        self.watch(self.scroller, "scroll_y", self._scrolled, init=False)

    def _scrolled(self) -> None:
        if len(self._older):
            self._older.check()

    def _away_changed(self, away: bool) -> None:
        if not away:
            self.remove_class("-new-output")

    @on(JumpToBottom)
    def _jump(self) -> None:
        self.jump_to_bottom()

    def jump_to_bottom(self) -> None:
        self.scroller.jump_to_bottom()
        self.remove_class("-new-output")

    # ------------------------------------------------------------------ mounting

    async def _mount(self, block: Widget) -> None:
        if self._folding is not None:
            self._folding.append(block)
            return
        for welcome in self.scroller.query(".welcome"):
            await welcome.remove()
        await self.scroller.mount(block)
        if self.scroller.away:
            self.add_class("-new-output")
        await self._prune()

    async def _prune(self) -> None:
        blocks = self.blocks
        excess = len(blocks) + len(self._older) - self.max_blocks
        if excess <= 0:
            return
        excess -= await self._older.drop(excess)  # the oldest are the unmounted ones
        if excess <= 0:
            return
        live = {self._assistant, self._reasoning, self._tools}
        doomed = [b for b in blocks[:excess] if b not in live]
        if doomed:
            await self.scroller.remove_children(doomed)

    async def _note_output(self) -> None:
        if self._folding is None and self.scroller.away:  # (a folding chat is not mounted)
            self.add_class("-new-output")

    async def add_notice(self, text: str, level: Level = "info", *, hint: str = "") -> None:
        await self._end_blocks()
        await self._mount(NoticeBlock(text, level, hint=hint))

    async def _end_blocks(self) -> None:
        await self._end_reasoning()
        if self._assistant is not None:
            block, self._assistant = self._assistant, None
            await block.finish()
        self._tools = None

    async def _end_reasoning(self) -> None:
        if self._folded_reasoning is not None:
            text, self._folded_reasoning = "".join(self._folded_reasoning), None
            from ml_intern_tui.tui.widgets.blocks.reasoning import ReasoningBlock

            await self._mount(ReasoningBlock(collapsed=True, text=text))
        if self._reasoning is not None:
            block, self._reasoning = self._reasoning, None
            await block.finish()

    async def clear(self) -> None:
        await self._end_blocks()
        await self.scroller.remove_children()
        self._older.forget()

    # ------------------------------------------------------------------- events

    @on(LocalNotice)
    async def _local_notice(self, message: LocalNotice) -> None:
        await self._mount(NoticeBlock(message.text, message.level, hint=message.hint))

    async def on_agent_event(self, message: AgentEvent) -> None:
        if message.kind == "ready":
            if message.new_session:
                await self.clear()
                event = message.event
                if isinstance(event, p.Ready) and not event.resumed:
                    await self.add_notice("New session.", "success")
            return
        handler = getattr(self, f"_on_{message.kind}", None)
        if handler is not None:
            await handler(message.event)

    async def _on_turn_started(self, event: p.TurnStarted) -> None:
        await self._end_blocks()
        if event.text:
            await self._mount(UserBlock(event.text))

    async def _on_reasoning_delta(self, event: p.ReasoningDelta) -> None:
        if event.parent_id is not None:
            return
        if self._folding is not None:  # from a history: one finished block, collapsed
            if self._folded_reasoning is None:
                await self._end_blocks()
                self._folded_reasoning = []
            self._folded_reasoning.append(event.text)
            return
        if self._reasoning is None:
            if self._assistant is not None:
                block, self._assistant = self._assistant, None
                await block.finish()
            self._tools = None
            from ml_intern_tui.tui.widgets.blocks.reasoning import ReasoningBlock

            self._reasoning = ReasoningBlock(collapsed=not self.show_reasoning)
            await self._mount(self._reasoning)
        await self._reasoning.write(event.text)
        await self._note_output()

    async def _on_assistant_delta(self, event: p.AssistantDelta) -> None:
        if event.parent_id is not None:
            return
        await self._end_reasoning()
        if self._assistant is None:
            self._tools = None
            from ml_intern_tui.tui.widgets.blocks.assistant import AssistantBlock

            self._assistant = self._last_assistant = AssistantBlock()
            await self._mount(self._assistant)
        await self._assistant.write(event.text)
        await self._note_output()

    async def _on_assistant_message(self, event: p.AssistantMessage) -> None:
        if event.parent_id is not None:
            return
        await self._end_reasoning()
        block, self._assistant = self._assistant, None
        if block is not None:
            await block.finish(event.text)
        elif event.text.strip():
            from ml_intern_tui.tui.widgets.blocks.assistant import AssistantBlock

            self._tools = None
            block = self._last_assistant = AssistantBlock(event.text)
            await self._mount(block)
            block.finished = True

    async def _on_tool_call(self, event: p.ToolCall) -> None:
        if event.parent_id is not None:
            return
        if event.call_id.startswith(USER_SHELL_PREFIX):  # !cmd: the command and its output
            await self._end_blocks()
            self._shells[event.call_id] = ShellBlock(str(event.args.get("command", "")))
            await self._mount(self._shells[event.call_id])
            return
        if self._tools is not None:
            self._tools.add(event.tool)
            return
        await self._end_blocks()
        self._tools = ToolMention(event.tool)
        await self._mount(self._tools)

    async def _on_tool_result(self, event: p.ToolResultEvent) -> None:
        block = self._shells.pop(event.call_id, None)
        if block is not None:
            block.finish(event)
            await self._note_output()

    async def _on_compacted(self, event: p.Compacted) -> None:
        text = f"Context compacted: {format_tokens(event.before)} → {format_tokens(event.after)} tokens."
        await self.add_notice(text, "info", hint="/undo restores it." if event.undoable else "")

    async def _on_loop_warning(self, event: p.LoopWarning) -> None:
        await self.add_notice(
            f"Possible loop ({event.kind}): {event.detail}",
            "warning",
            hint="Esc interrupts; then tell the agent what to do differently.",
        )

    async def _on_notice(self, event: p.Notice) -> None:
        await self.add_notice(event.text, event.level)

    async def _on_error(self, event: p.Error) -> None:
        await self.add_notice(
            f"{event.kind}: {event.message}",
            "error",
            hint=error_hint(event.kind, event.message, event.recoverable),
        )

    async def _on_interrupted(self, event: p.Interrupted) -> None:
        await self.add_notice("Interrupted.", "warning")

    async def _on_turn_complete(self, event: p.TurnComplete) -> None:
        await self._end_blocks()
        if event.reason == "iteration_cap":
            await self.add_notice(
                f"Stopped after {event.iterations} iterations (the iteration cap).",
                "warning",
                hint="Send “continue” to let the agent go on.",
            )
        elif event.reason == "budget":
            await self.add_notice(
                "Stopped: the spending budget is used up.",
                "warning",
                hint="/budget USD raises it; /cost shows what was spent.",
            )

    async def _on_undone(self, event: p.Undone) -> None:
        if event.what == "turn":
            await self._end_blocks()
            blocks = self.blocks if self._folding is None else self._folding
            last_user = max(
                (i for i, b in enumerate(blocks) if isinstance(b, UserBlock)), default=None
            )
            if last_user is not None and self._folding is not None:
                del self._folding[last_user:]
            elif last_user is not None:
                await self.scroller.remove_children(blocks[last_user:])
            elif self._folding is None and len(self._older):  # the turn began up there
                waiting = await self._older.made()
                older_user = max(
                    (i for i, b in enumerate(waiting) if isinstance(b, UserBlock)), default=None
                )
                if older_user is not None:
                    await self.scroller.remove_children(blocks)
                    await self._older.cut_from(older_user)
                    self._older.check()  # what was above comes down to fill the screen
            await self.add_notice("Undid the last turn.", "success")
        elif event.what == "compaction":
            await self.add_notice("Compaction undone: the full history is back.", "success")
        else:
            await self.add_notice("Nothing to undo.")

    # ------------------------------------------------------------------ resume

    async def on_agent_history(self, message: AgentHistory) -> None:
        """Show a resumed session's chat: its newest blocks, made by the live handlers from
        where they start; the older ones are made when the view comes near them."""
        from ml_intern_tui.core.resume import CHAT_MARGIN, ChatCount

        history = message.history
        try:
            count = ChatCount()  # the core's count of the chat's blocks: where they start
            for index in range(history.chat_from, len(history.events)):
                count.add(index, history.events[index])
            start = max(history.chat_from, count.start_of_last(FIRST_MOUNT + CHAT_MARGIN))
            folded = await self._fold(message, start)
            recent = folded[-FIRST_MOUNT:]
        except Exception as exc:  # a damaged history must not take the app down
            history_failed(self, exc)
            return
        for welcome in self.scroller.query(".welcome"):
            await welcome.remove()
        if recent:
            await self.scroller.mount_all(recent)
            older = min(len(count.starts), self.max_blocks) - len(recent)
            if start > history.chat_from:
                await self._older.hold(
                    recent[0], unfolded=partial(self._fold_older, message, recent), count=older
                )
            else:  # all of the chat was folded: the rest of it waits, made
                await self._older.hold(recent[0], folded[: -len(recent)])
        from ml_intern_tui.tui.widgets.blocks.assistant import AssistantBlock

        answers = [b for b in recent if isinstance(b, AssistantBlock)]
        if not answers and len(self._older):  # the newest answer is further up: made now
            answers = [b for b in await self._older.made() if isinstance(b, AssistantBlock)]
        if answers:
            self._last_assistant = answers[-1]
        await self._prune()
        self.jump_to_bottom()
        self._older.check()

    async def _fold(self, message: AgentHistory, start: int) -> list[Widget]:
        """The last ``max_blocks`` blocks the live handlers make of the history's events
        from ``start`` on, not mounted."""
        self._folding = []
        try:
            events = message.events(self.HISTORY_TYPES, start=start)
            for count, event in enumerate(events, 1):
                await getattr(self, f"_on_{getattr(event, 'type', '')}")(event)
                if count % FOLD_SLICE == 0:  # the screen draws meanwhile; this chat's
                    await asyncio.sleep(0)  # own messages wait: the fold stays in order
            await self._end_blocks()
            return self._folding[-self.max_blocks :]
        finally:
            self._folding = self._folded_reasoning = None

    async def _fold_older(self, message: AgentHistory, recent: list[Widget]) -> list[Widget]:
        """The blocks above ``recent`` (the mounted newest), folded by a chat of their own
        (never mounted: the live chat's state is not touched) from the chat's start."""
        try:
            folder = ChatView(max_blocks=self.max_blocks, show_reasoning=self.show_reasoning)
            blocks = await folder._fold(message, message.history.chat_from)
        except Exception as exc:  # a damaged history must not take the app down
            history_failed(self, exc)
            return []
        return blocks[: -len(recent)] if recent else blocks
