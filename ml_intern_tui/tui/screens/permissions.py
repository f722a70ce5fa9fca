"""Remembered approvals: see each rule's exact scope, remove the ones you regret."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
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
            width: 90; max-width: 95%; height: auto; max-height: 80%;
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

    def __init__(self, rules: list[str]) -> None:
        super().__init__()
        self.rules = list(rules)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Remembered approvals"
            yield OptionList(id="rules")
            yield Static("d remove the highlighted rule · Esc close", classes="keys")

    def on_mount(self) -> None:
        self.set_rules(self.rules)

    def set_rules(self, rules: list[str]) -> None:
        self.rules = list(rules)
        options = self.query_one(OptionList)
        options.clear_options()
        if not rules:
            options.add_option(Option("No remembered approvals.", disabled=True))
            return
        for rule in rules:
            options.add_option(Option(rule, id=rule))
        options.highlighted = 0
        options.focus()

    def action_remove(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None or not self.rules:
            return
        rule = options.get_option_at_index(options.highlighted).id
        if rule:
            self.app.post_message(self.Remove(rule))
