"""The trust question: shown before anything starts when a project's config wants to
change what only the user should (mode, remembered rules, programs run at launch…).

One key per answer, keyboard only: ``o`` trusts it for this run, ``a`` always (this path
and exactly this content), ``i`` or Esc ignores those settings. The bindings have no ids,
so no ``[keymap]`` -- least of all the project's own -- can move them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from ml_intern_tui.safety.trust_store import ProjectTrust

TrustAnswer = Literal["once", "always", "ignore"]
LIST_LINES = 14
_AROUND_THE_LIST = 10
"""Lines the box needs besides the list: border, intro, margins, the last two lines."""

KEYS = "[b]o[/] trust once (this run) · [b]a[/] trust always (this content) · [b]i[/]/[b]esc[/] ignore them"


class TrustScreen(ModalScreen[TrustAnswer]):
    """Lists what the project config would change; dismisses with the user's answer."""

    BINDINGS = [
        Binding("o", "answer('once')", "Trust once", show=False),
        Binding("a", "answer('always')", "Trust always", show=False),
        Binding("i,escape", "answer('ignore')", "Ignore", show=False),
    ]

    DEFAULT_CSS = """
    TrustScreen {
        align: center middle;
        & > Vertical {
            width: 100; max-width: 100%; height: auto; max-height: 100%;
            border: round $warning; background: $surface; padding: 0 1;
        }
        & #trust-settings { height: auto; margin: 1 0; }
        & .setting { color: $text; }
        & .effect { color: $text-muted; padding-left: 4; }
        & .keys { color: $text-muted; }
    }
    """

    def __init__(self, trust: ProjectTrust) -> None:
        super().__init__()
        self.trust = trust

    def compose(self) -> ComposeResult:
        from ml_intern_tui.safety.trust_changes import printable

        trust = self.trust
        count = len(trust.settings)
        intro = (
            f"{printable(str(trust.config))} sets {count} thing{'s' if count != 1 else ''} "
            "only you should decide. They apply only if you trust whoever wrote this file"
        )
        if trust.changed_since_trusted:
            intro += " (it changed since you last trusted it)"
        with Vertical() as box:
            box.border_title = "Trust this project's settings?"
            yield Static(Content(intro + ":"))
            with VerticalScroll(id="trust-settings"):
                for setting in trust.settings:
                    yield Static(Content.styled(setting.line(), "bold"), classes="setting")
                    yield Static(Content(setting.effect), classes="effect")
            yield Static(
                Content("Ignoring them keeps your own settings; the project's safe ones apply.")
            )
            yield Static(Content.from_markup(KEYS), classes="keys")

    def on_mount(self) -> None:
        self._fit()
        self.query_one("#trust-settings").focus()  # arrows and page keys scroll the list

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Give the list what the screen has left, so the answers always stay visible."""
        spare = self.size.height - _AROUND_THE_LIST
        self.query_one("#trust-settings").styles.max_height = max(3, min(LIST_LINES, spare))

    def action_answer(self, answer: TrustAnswer) -> None:
        self.dismiss(answer)
