"""``/login``: a Hugging Face token typed in a hidden field, handed to the core as an op.

The token never goes through the prompt (whose text is kept in the history file), the
chat or the transcript: the field shows dots, the screen returns the token, and the app
submits ``login`` (a ``SecretStr``); the core's credential service stores it through
huggingface_hub and answers with a notice that names the account, never the token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import SecretStr
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ml_intern_tui.core.login_op import Login

if TYPE_CHECKING:
    from ml_intern_tui.tui.app import MLInternApp

TOKENS_URL = "https://huggingface.co/settings/tokens"
IN_PROMPT = (
    "Type /login alone: the token goes in a hidden field, not in the prompt "
    "(the prompt's text is kept in its history)."
)


class LoginScreen(ModalScreen[str | None]):
    """Enter sends the token; Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="login.cancel")]

    DEFAULT_CSS = """
    LoginScreen {
        align: center middle;
        & > Vertical {
            width: 76; max-width: 95%; height: auto;
            border: round $accent; background: $surface; padding: 1 2;
        }
        & Input { margin-top: 1; }
        & .keys { color: $text-muted; margin-top: 1; }
    }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled("Log in to the Hugging Face Hub", "bold"))
            yield Static(
                Content(
                    f"Paste a token from {TOKENS_URL}. It is checked with the Hub and stored "
                    "where every Hugging Face tool finds it; it is never shown or saved here."
                )
            )
            yield Input(password=True, placeholder="hf_…", id="login-token")
            yield Static(
                Content.from_markup("[b]Enter[/] log in · [b]Esc[/] cancel"), classes="keys"
            )

    def on_mount(self) -> None:
        self.query_one("#login-token", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


async def run_login(app: MLInternApp, arg: str) -> None:
    """``/login``: ask for the token in the hidden field and submit it to the core."""
    if arg.strip():
        app.local_notice(IN_PROMPT, "error", hint="Nothing was sent or stored.")
        return
    token = await app.push_screen_wait(LoginScreen())
    if not token:
        app.local_notice("Login cancelled: no token was stored.")
        return
    app.submit(Login(token=SecretStr(token)))
