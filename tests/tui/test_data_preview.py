"""Dataset sample rows from a tool result render as a scrollable table in the detail view."""

from __future__ import annotations

import time

from textual.app import App

from ml_intern_tui.tui.screens.tool_detail import ToolDetailScreen
from ml_intern_tui.tui.widgets.data_preview import DataPreview, table_of
from ml_intern_tui.tui.widgets.tool_tree import ToolRecord

DATA = {
    "dataset": "org/chat",
    "split": "train",
    "columns": ["messages", "source"],
    "rows": [["[{'role': 'user', 'content': 'hi'}]", "web"], ["[{'role': 'user'}]", "book"]],
}


def test_table_of_accepts_lists_dicts_and_rejects_missing_columns() -> None:
    assert table_of(DATA) == (["messages", "source"], DATA["rows"])
    assert table_of({"columns": [{"name": "a"}], "rows": [{"a": "x\ny"}]}) == (["a"], [["x ⏎ y"]])
    assert table_of({"rows": [[1]]}) is None
    assert table_of(None) is None


async def test_detail_view_shows_the_sample_rows() -> None:
    record = ToolRecord(
        call_id="c1",
        tool="hf_dataset_inspect",
        args={"dataset": "org/chat"},
        parent_id=None,
        started=time.time(),
        status="ok",
        summary="org/chat · SFT ✓",
        output="...",
        data=DATA,
    )

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(ToolDetailScreen(record))

    async with Host().run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = pilot.app.screen.query_one(DataPreview)
        assert table.row_count == 2
        assert [str(c.label) for c in table.columns.values()] == ["messages", "source"]
        assert str(table.get_row_at(1)[1]) == "book"
