"""``/mcp``: every configured MCP server, its state, tools and last error; ``r`` reconnects.

The app keeps an ``McpBoard`` fed by ``mcp_status`` events from the start, so the screen
shows the current state when it opens and follows changes while it is open.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.coordinate import Coordinate
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.formatting import one_line

STATES: dict[str, tuple[str, str]] = {
    "ready": ("●", "$success"),
    "connecting": ("◌", "$warning"),
    "failed": ("✗", "bold $error"),
    "disabled": ("○", "$text-muted"),
}
"""State → (glyph, style) for the first column."""


class McpBoard:
    """The servers as their latest ``mcp_status`` events describe them (in config order)."""

    def __init__(self) -> None:
        self.servers: dict[str, p.McpStatus] = {}
        self._listeners: list[Callable[[], None]] = []

    def update(self, event: p.McpStatus) -> None:
        self.servers[event.server] = event
        for listener in list(self._listeners):
            listener()

    def listen(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def unlisten(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)


def state_cell(status: p.McpStatus) -> Content:
    glyph, style = STATES.get(status.state, ("·", ""))
    label: str = status.state
    if status.state == "connecting" and status.attempt > 1:
        label = f"connecting #{status.attempt}"
    return Content.assemble((glyph, style), " ", label)


class McpScreen(ModalScreen[None]):
    """A table of servers; the highlighted one's tools (or error) below it."""

    BINDINGS = [
        Binding("r", "reconnect", "Reconnect", id="mcp.reconnect"),
        Binding("escape,q", "dismiss", "Close", id="mcp.close"),
    ]

    DEFAULT_CSS = """
    McpScreen {
        align: center middle;
        & > Vertical {
            width: 110; max-width: 98%; height: auto; max-height: 90%;
            border: round $primary; background: $surface; padding: 0 1;
        }
        & DataTable { height: auto; max-height: 12; }
        & #mcp-detail {
            height: auto; max-height: 16; border-top: solid $primary-muted; padding: 0 1;
        }
        & .keys { color: $text-muted; }
    }
    """

    def __init__(self, board: McpBoard, on_reconnect: Callable[[str], None]) -> None:
        super().__init__()
        self.board = board
        self.on_reconnect = on_reconnect
        self.names: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "MCP servers"
            yield DataTable[str | Content | Text](id="mcp-servers", cursor_type="row")
            with VerticalScroll(id="mcp-detail"):
                yield Static("", id="mcp-tools")
            yield Static(
                "↑↓ select · r reconnect (or connect a disabled server) · Esc close",
                classes="keys",
            )

    @property
    def table(self) -> DataTable[str | Content | Text]:
        return self.query_one("#mcp-servers", DataTable)

    def on_mount(self) -> None:
        table = self.table
        for label, key, width in (
            ("State", "state", 15),  # "◌ connecting #3": Content cells are not measured
            ("Server", "server", None),
            ("Transport", "transport", None),
            ("Trusted", "trusted", None),
            ("Tools", "tools", None),
            ("Last error", "error", None),
        ):
            table.add_column(label, key=key, width=width)
        self.board.listen(self.refresh_servers)
        self.refresh_servers()
        table.focus()

    def on_unmount(self) -> None:
        self.board.unlisten(self.refresh_servers)

    def refresh_servers(self) -> None:
        """Rebuild the rows from the board, keeping the highlighted server."""
        table = self.table
        keep = self.highlighted
        table.clear()
        self.names = list(self.board.servers)
        for name, status in self.board.servers.items():
            table.add_row(  # names and errors: literal (measured) Text, a str is markup
                state_cell(status),
                Text(name),
                Text(status.transport),
                "yes" if status.trusted else "no",
                str(len(status.tools)) if status.state != "disabled" else "–",
                Text(one_line(status.error, 40)) if status.error else "",
                key=name,
            )
        if keep in self.names:
            table.move_cursor(row=self.names.index(keep))
        self.show_detail()

    @property
    def highlighted(self) -> str | None:
        table = self.table
        if not self.names or table.row_count == 0:
            return None
        row = min(max(table.cursor_row, 0), table.row_count - 1)
        key = table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return str(key) if key is not None else None

    def on_data_table_row_highlighted(self) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        """The highlighted server: where it is, its error in full, and its tools."""
        detail = self.query_one("#mcp-tools", Static)
        name = self.highlighted
        status = self.board.servers.get(name) if name else None
        if status is None:
            detail.update(
                Content(
                    "No MCP servers configured. Add one under [mcp.servers.NAME] in your config."
                )
            )
            return
        lines = [Content.assemble((status.server, "bold"), "  ", (status.target, "$text-muted"))]
        if status.error:
            lines.append(Content.assemble(("Last error  ", "$error"), status.error))
        if status.state == "disabled":
            lines.append(Content.styled("Disabled: enabled = false in the config.", "$text-muted"))
        if not status.tools and not status.withheld and status.state == "ready":
            lines.append(Content.styled("The server offers no tools.", "$text-muted"))
        for tool in status.tools:
            lines.append(
                Content.assemble(("• ", "$accent"), (tool.name, "bold"), "  ", tool.description)
            )
        for tool in status.withheld:  # listed so the user knows why the model lacks it
            lines.append(Content.assemble(("× ", "$warning"), (tool.name, "bold"), "  ", tool.note))
        detail.update(Content("\n").join(lines))

    def action_reconnect(self) -> None:
        name = self.highlighted
        if name is not None:
            self.on_reconnect(name)
            self.notify(f"Reconnecting {name}…", timeout=3, markup=False)
