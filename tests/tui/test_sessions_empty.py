"""The sessions browser leaves out sessions nobody typed into, except the open one."""

from __future__ import annotations

import os

from ml_intern_tui.core.journal import Journal
from ml_intern_tui.paths import sessions_dir
from ml_intern_tui.tui.app import MLInternApp
from tui.test_sessions_screen import NOW, column, open_browser, save, status_text


def unused(session_id: str, updated: float) -> None:
    """An app start's journal: meta and the system prompt, no message from anyone."""
    journal = Journal.create(sessions_dir(), session_id, {"model": "openai/gpt-4o"})
    journal.append({"kind": "message", "message": {"role": "system", "content": "You are…"}})
    journal.close()
    os.utime(journal.path, (updated, updated))


async def test_empty_sessions_are_hidden_but_the_open_one_is_listed(app: MLInternApp) -> None:
    save("20231114-180000-aaaaaa", "inspect the imdb dataset", updated=NOW - 3 * 86_400)
    for n in range(3):
        unused(f"20231115-00000{n}-eeeee{n}", NOW - 600 - n)
    unused("s-test", NOW - 5)  # the open session: nothing typed yet
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_browser(app, pilot, 2)
        assert column(screen, "id") == ["test", "aaaaaa"]  # short ids
        assert column(screen, "title")[0] == "● (no message)"
        assert "2 sessions, newest first" in status_text(screen)


async def test_an_empty_directory_but_for_unused_sessions_is_the_empty_state(
    app: MLInternApp,
) -> None:
    unused("20231115-000000-eeeeee", NOW - 600)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_browser(app, pilot, 0)
        assert "No saved sessions yet" in status_text(screen)
