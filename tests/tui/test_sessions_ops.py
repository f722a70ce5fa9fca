"""The sessions browser behind ops: the UI sends ops and folds answers; it reads no journal.

The fake runtime answers the browser's ops with the core's own service
(``services/session_browser.py``); the guard tells its reads from the UI's by the call
stack, so a screen that went back to reading journals itself (in a thread or not) fails.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core import saved_sessions
from ml_intern_tui.core.journal import Journal
from ml_intern_tui.paths import data_dir, sessions_dir
from ml_intern_tui.services import session_browser
from ml_intern_tui.services.session_browser import SessionBrowser
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.screens.confirm import ConfirmScreen
from tui.conftest import wait_for
from tui.test_resume_history import no_reads_under
from tui.test_sessions_screen import column, open_browser, save, status_text, three_sessions

CORE = (session_browser.__file__,)


async def test_the_guard_tells_the_core_service_from_a_ui_reading_journals() -> None:
    """A listing done by the service is the core's; the same listing done directly from a
    thread (as the browser once did) is caught."""
    three_sessions()
    with no_reads_under(data_dir(), by_core=CORE) as opened:
        listed = await asyncio.to_thread(session_browser.listing, sessions_dir(), "")
    assert len(listed) == 3 and opened == []
    saved_sessions._INFO_CACHE.clear()  # a cached summary would open nothing
    with no_reads_under(data_dir(), by_core=CORE) as opened:
        await asyncio.to_thread(saved_sessions.list_sessions, sessions_dir())
    assert len(opened) == 3


async def test_browsing_forking_deleting_and_exporting_read_no_journal_from_the_ui(
    app: MLInternApp, runtime: object, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    three_sessions()
    save("20231117-100000-eeeeee", "export me", cwd=str(project), updated=1)
    saved_sessions._INFO_CACHE.clear()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        with no_reads_under(data_dir(), by_core=CORE) as opened:
            screen = await open_browser(app, pilot, 4)
            assert column(screen, "id")[-1] == "eeeeee"
            screen.table.move_cursor(row=3)
            await pilot.press("e")
            await wait_for(pilot, lambda: "Exported to" in status_text(screen))
            screen.table.move_cursor(row=0)
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_for(pilot, lambda: screen.table.row_count == 3)
            await pilot.press("f")
            await wait_for(pilot, lambda: not screen.is_attached)
        assert opened == []
    assert len(list(project.glob("ml-intern-20231117-100000-eeeeee-*.md"))) == 1
    assert not (sessions_dir() / "20231116-090000-bbbbbb.jsonl").exists()
    forks = [i for i in saved_sessions.list_sessions(sessions_dir()) if i.forked_from]
    assert [f.forked_from for f in forks] == ["20231115-120000-cccccc"]


# ---------------------------------------------------------------- the service


async def answers(service: SessionBrowser, got: list[p.EventBase], op: object) -> p.EventBase:
    before = len(got)
    assert service.handle_op(op)
    for _ in range(500):
        if len(got) > before:
            return got[-1]
        await asyncio.sleep(0.01)
    raise AssertionError("no answer")


@pytest.fixture
def service() -> tuple[SessionBrowser, list[p.EventBase]]:
    got: list[p.EventBase] = []
    browser = SessionBrowser(
        sessions_dir, current=lambda: "20231114-180000-aaaaaa", cwd=lambda: "", publish=got.append
    )
    return browser, got


@pytest.mark.parametrize(
    "op",
    [
        p.DeleteSession(session_id="../../outside"),
        p.DeleteSession(session_id="last"),  # find_session's words are not ids here
        p.DeleteSession(session_id="20231116"),  # nor are prefixes
        p.ForkSession(session_id="/etc/passwd.jsonl"),  # nor paths
        p.ExportSession(session_id=".hidden"),
        p.DeleteSession(session_id="20231114-180000-aaaaaa"),  # the open session
    ],
)
async def test_the_service_acts_only_on_plain_ids_and_never_on_the_open_session(
    service: tuple[SessionBrowser, list[p.EventBase]], op: object, tmp_path: Path
) -> None:
    browser, got = service
    paths = three_sessions()
    outside = sessions_dir().parent.parent / "outside.jsonl"
    outside.parent.mkdir(parents=True, exist_ok=True)
    Journal.create(outside.parent, "outside", {"model": "m"}).close()
    before = sorted(sessions_dir().iterdir())
    answer = await answers(browser, got, op)
    assert isinstance(answer, p.SessionAction) and answer.error
    assert "\n" not in answer.error
    assert sorted(sessions_dir().iterdir()) == before
    assert all(path.exists() for path in paths) and outside.exists()


async def test_a_sessions_directory_that_cannot_exist_lists_nothing(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    got: list[p.EventBase] = []
    browser = SessionBrowser(lambda: blocked / "sessions", current=str, cwd=str, publish=got.append)
    answer = await answers(browser, got, p.ListSessions())
    assert isinstance(answer, p.SessionList) and answer.sessions == [] and not answer.error
    assert answer.directory == str(blocked / "sessions")  # the empty state names it
    await browser.aclose()


def test_the_browsers_answers_are_not_journaled(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path, "s-1", {"model": "m"})
    size = journal.path.stat().st_size
    journal.record_event(p.SessionList(sessions=[], directory=str(tmp_path)))
    journal.record_event(p.SessionAction(action="delete", session_id="x"))
    journal.close()
    assert journal.path.stat().st_size == size
