"""Remembered approvals: see each rule's exact scope and where it lives, remove the ones
you regret (a rule from a project file or a variable says where to remove it)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class PermissionsScreen(ModalScreen[None]):
    """Lists the rules from a ``permissions`` event; ``d`` asks the core to forget one."""

    BINDINGS = [
        Binding("d,delete", "remove", "Remove rule", id="permissions.remove"),
        Binding("escape,q", "dismiss", "Close", id="permissions.close"),
    ]

    DEFAULT_CSS = """
    PermissionsScreen {
        align: center middle;
        & > Vertical {
            width: 100; max-width: 95%; height: auto; max-height: 80%;
            border: round $primary; background: $surface; padding: 0 1;
        }
        & OptionList { height: auto; max-height: 20; border: none; }
        & .keys { color: $text-muted; }
    }
    """

    class Remove(Message):
        def __init__(self, rule: str) -> None:
            super().__init__()
            self.rule = rule

    def __init__(
        self,
        rules: list[str],
        sources: dict[str, str] | None = None,
        fixed: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.rules = list(rules)
        self.sources = dict(sources or {})
        self.fixed = dict(fixed or {})

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Remembered approvals"
            yield OptionList(id="rules")
            yield Static("d remove the highlighted rule · Esc close", classes="keys")

    def on_mount(self) -> None:
        self.set_rules(self.rules, self.sources, self.fixed)

    def set_rules(
        self,
        rules: list[str],
        sources: dict[str, str] | None = None,
        fixed: dict[str, str] | None = None,
    ) -> None:
        self.rules = list(rules)
        self.sources = dict(sources or {})
        self.fixed = dict(fixed or {})
        options = self.query_one(OptionList)
        options.clear_options()
        if not rules:
            options.add_option(Option("No remembered approvals.", disabled=True))
            return
        for rule in rules:
            options.add_option(Option(self._label(rule), id=rule))
        options.highlighted = 0
        options.focus()

    def _label(self, rule: str) -> Content:
        label = Content.styled(rule, "bold")
        where = self.sources.get(rule)
        if where:
            label = Content.assemble(label, "\n", (f"  from {where}", "$text-muted"))
        if rule in self.fixed:
            label = Content.assemble(label, "\n", (f"  {self.fixed[rule]}", "$text-warning"))
        return label

    def action_remove(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None or not self.rules:
            return
        rule = options.get_option_at_index(options.highlighted).id
        if not rule:
            return
        if rule in self.fixed:
            self.notify(  # a rule's pattern is a model's command: literal, never markup
                f"{rule} stays: {self.fixed[rule]}.", severity="warning", timeout=6, markup=False
            )
            return
        self.app.post_message(self.Remove(rule))
