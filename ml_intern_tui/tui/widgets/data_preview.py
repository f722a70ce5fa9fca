"""A tool's tabular result (dataset sample rows) as a scrollable table."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from ml_intern_tui.safety.terminal import terminal_safe

MAX_ROWS = 200
MAX_CELL = 120


def table_of(data: dict[str, Any] | None) -> tuple[list[str], list[list[str]]] | None:
    """``(columns, rows)`` when a result carries a table (``data["columns"]`` and ``["rows"]``)."""
    if not data:
        return None
    columns, rows = data.get("columns"), data.get("rows")
    if not isinstance(columns, list) or not isinstance(rows, list) or not columns:
        return None
    names = [str(c.get("name", c)) if isinstance(c, dict) else str(c) for c in columns]
    table: list[list[str]] = []
    for row in rows[:MAX_ROWS]:
        cells = (
            row
            if isinstance(row, list)
            else [row.get(n, "") for n in names]
            if isinstance(row, dict)
            else [row]
        )
        table.append([_cell(value) for value in cells[: len(names)]])
    return names, table


def _cell(value: Any) -> str:
    text = str(value).replace("\n", " ⏎ ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


class DataPreview(DataTable[Text]):
    """Rows of a dataset preview; arrows and page keys scroll, cells are cut to stay readable."""

    DEFAULT_CSS = """
    DataPreview { height: auto; max-height: 20; margin: 0 0 1 0; }
    """

    def __init__(self, columns: list[str], rows: list[list[str]], **kwargs: Any) -> None:
        super().__init__(zebra_stripes=True, cursor_type="row", **kwargs)
        self._columns = columns
        self._rows = rows

    def on_mount(self) -> None:
        # Dataset content is anyone's text: cells are literal ``Text`` (a ``str`` cell
        # would be read as Rich markup), and terminal-safe.
        self.add_columns(*(Text(terminal_safe(name)) for name in self._columns))
        for row in self._rows:
            padded = row + [""] * (len(self._columns) - len(row))
            self.add_row(*(Text(terminal_safe(cell)) for cell in padded))
