"""Escape sequences from a hostile model, tool or server never drive the terminal.

Unit tests of the sanitizer (every escape family, C1, bidi, ``\\r``), the app on a fake
runtime showing them visibly in every pane, journals read back (resume, session list)
and the real CLI in a subprocess against the fake OpenAI server: no ESC byte (nor any
other control character but ``\\n``/``\\t``) on stdout or stderr, ``--json`` exact.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI, Reply
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.journal import Journal
from ml_intern_tui.core.transcript import export_saved
from ml_intern_tui.paths import data_dir, sessions_dir
from ml_intern_tui.safety.terminal import (
    is_terminal_safe,
    json_terminal_safe,
    safe_event,
    terminal_safe,
    terminal_safe_value,
)
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.screens.sessions import SessionsScreen
from ml_intern_tui.tui.screens.tool_detail import ToolDetailScreen

ESC = "\x1b"
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

TITLE = f"{ESC}]0;pwned\x07"
CLIPBOARD = f"{ESC}]52;c;cHduZWQ=\x07"
CLEAR = f"{ESC}[2J"
LEAVE_ALT = f"{ESC}[?1049l"
ATTACK = f"before {TITLE} {CLIPBOARD} {CLEAR}{LEAVE_ALT} after"


# ------------------------------------------------------------------ sanitizer


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (f"{ESC}]0;pwned\x07", "␛]0;pwned␇"),  # OSC 0: window and icon title, BEL-ended
        (f"{ESC}]2;pwned{ESC}\\", "␛]2;pwned␛\\"),  # OSC 2 ended by ST
        (f"{ESC}]8;;https://evil.example{ESC}\\click{ESC}]8;;{ESC}\\", "␛]8;;https://evil"),
        (f"{ESC}]52;c;cHduZWQ=\x07", "␛]52;c;cHduZWQ=␇"),  # clipboard write
        (f"{ESC}[2J{ESC}[H", "␛[2J␛[H"),  # clear screen, cursor home
        (f"{ESC}[?1049l", "␛[?1049l"),  # leave the alternate screen
        (f"{ESC}[?1000h", "␛[?1000h"),  # mouse reporting on
        (f"{ESC}P+q544e{ESC}\\", "␛P+q544e␛\\"),  # DCS (request termcap)
        (f"{ESC}_Gf=100;AAAA{ESC}\\", "␛_Gf=100;AAAA␛\\"),  # APC (kitty graphics)
        (f"{ESC}^privacy{ESC}\\", "␛^privacy␛\\"),  # PM
        (f"{ESC}Xstring{ESC}\\", "␛Xstring␛\\"),  # SOS
        (f"{ESC}c", "␛c"),  # RIS: full reset
        (f"{ESC}7{ESC}8", "␛7␛8"),  # save / restore cursor
        ("\x9b2J", "\\x9b2J"),  # 8-bit CSI
        ("\x9d0;pwned\x9c", "\\x9d0;pwned\\x9c"),  # 8-bit OSC ... ST
        ("\x90q\x9c", "\\x90q\\x9c"),  # 8-bit DCS
        ("a\x00b\x07c\x08d\x7f", "a␀b␇c␈d␡"),
        ("safe\rrm -rf ~", "safe␍rm -rf ~"),  # a carriage return cannot overwrite
        ("ls \u202eexe.txt", "ls \\u202eexe.txt"),  # right-to-left override
        ("\u2066a\u2067b\u2068c\u2069 \u202a\u202b\u202c\u202d", "\\u2066a\\u2067b\\u2068c\\u2069"),
    ],
)
def test_every_escape_family_is_made_visible(raw: str, shown: str) -> None:
    out = terminal_safe(f"x {raw} y")
    assert is_terminal_safe(out)
    assert not UNSAFE.search(out)
    assert shown in out


def test_colours_are_dropped_and_text_kept() -> None:
    out = terminal_safe(f"{ESC}[1;31merror{ESC}[0m: {ESC}[8mhidden{ESC}[m{ESC}[K done")
    assert out == "error: hidden done"  # concealed text shows


def test_line_ends_tabs_and_unicode_are_kept() -> None:
    text = "a\tb\nc — ünïcödé 中文 👩‍👩‍👧 🏴󠁧󠁢󠁳󠁣󠁴󠁿 e\u0301"
    assert terminal_safe(text) is text  # nothing to change: the very same object
    assert terminal_safe("one\r\ntwo\r\n") == "one\ntwo\n"
    assert terminal_safe("chunk ends with\r") == "chunk ends with"  # the rest of a split \r\n


def test_split_sequence_is_as_harmless_as_a_whole_one() -> None:
    pieces = [f"x{ESC}]0;pw", "ned\x07 and ", f"{ESC}", "[2J"]
    joined = "".join(terminal_safe(piece) for piece in pieces)
    assert is_terminal_safe(joined) and "␛]0;pwned␇" in joined and "␛[2J" in joined


def test_long_text_stays_linear() -> None:
    started = time.perf_counter()
    out = terminal_safe(f"{ESC}[" * 200_000 + "\x9b" * 100_000 + "\r" * 100_000)
    assert is_terminal_safe(out)
    assert time.perf_counter() - started < 3.0


def test_nested_values_and_events_are_copied_only_where_needed() -> None:
    clean = p.ToolCall(call_id="c1", tool="bash", args={"command": "ls"})
    assert safe_event(clean) is clean
    dirty = p.ApprovalRequired(
        items=[
            p.ApprovalItem(
                call_id="c1",
                tool="bash",
                title=f"Run: echo {TITLE}",
                details=f"$ echo {CLEAR}",
                remember_scope="bash: echo*",
            )
        ]
    )
    safe = safe_event(dirty)
    assert safe is not dirty and ESC in dirty.items[0].title  # the original is untouched
    assert safe.items[0].title == "Run: echo ␛]0;pwned␇" and safe.items[0].details == "$ echo ␛[2J"
    value = {"k\x1b": [f"v{ESC}", ("t\x9b",)], "n": 1}
    assert terminal_safe_value(value) == {"k␛": ["v␛", ("t\\x9b",)], "n": 1}


def test_json_keeps_the_exact_text_with_terminal_controls_escaped() -> None:
    text = f"{ATTACK} \x7f \x9b \u202e \u2028"
    line = json_terminal_safe(p.AssistantMessage(text=text).model_dump_json())
    assert not UNSAFE.search(line) and "\u2028" not in line
    assert json.loads(line)["text"] == text


# ----------------------------------------------------------------- the app


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime()


@pytest.fixture
def app(runtime: FakeRuntime) -> MLInternApp:
    return MLInternApp(runtime, clock=fixed_clock)


def screen_rows(app: MLInternApp) -> list[str]:
    """The text of every row the screen would draw (control segments left out)."""
    update = app.screen._compositor.render_full_update()
    rows: list[str] = []
    for strip in update.strips:
        segments = strip if hasattr(strip, "__iter__") else [strip]
        rows.append("".join(seg.text for part in segments for seg in part if not seg.control))
    return rows


def attack_events(rt: FakeRuntime) -> None:
    rt.publish(
        p.TurnStarted(text=f"user pasted {CLEAR}"),
        p.ReasoningDelta(text=f"thinking {TITLE}"),
        p.AssistantDelta(text=f"Answer {TITLE} "),
        p.AssistantDelta(text=f"{CLIPBOARD} [bold red]not markup[/bold red] \u202eevil"),
        p.AssistantMessage(
            text=f"Answer {TITLE} {CLIPBOARD} [bold red]not markup[/bold red] \u202eevil"
        ),
        p.ToolCall(call_id="c1", tool="[red]bash[/red]", args={"command": f"echo {LEAVE_ALT}"}),
        p.ToolProgress(call_id="c1", text=f"progress {CLEAR}"),
        p.ToolResultEvent(
            call_id="c1",
            ok=True,
            summary=f"exit 0 {TITLE}",
            output=f"out {CLIPBOARD}\nline2 \x9b2J",
            data={"columns": ["text"], "rows": [[f"[b]cell[/b] {TITLE}"]]},
        ),
        p.JobUpdated(job_id="job-1", kind="local", status="running", title=f"train {TITLE}"),
        p.JobLog(job_id="job-1", lines=[f"epoch 1 {CLEAR}", f"{ESC}]0;log-title\x07"]),
        p.Notice(level="warning", text=f"notice {TITLE}"),
        p.Error(kind="llm", message=f"server said {LEAVE_ALT}", recoverable=True),
        p.ToolCall(call_id="a1", tool="bash", args={"command": f"rm {TITLE}"}),
        p.ApprovalRequired(
            items=[
                p.ApprovalItem(
                    call_id="a1",
                    tool="bash",
                    title=f"Run: rm {TITLE}",
                    details=f"$ rm {TITLE}\n{CLEAR}",
                    remember_scope=f"bash: rm {TITLE}*",
                )
            ]
        ),
    )


async def test_every_pane_shows_escapes_visibly_and_never_draws_them(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(160, 60)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id)
        attack_events(runtime)
        await wait_for(pilot, lambda: app.drawer.is_open and "job-1" in app.jobs.jobs)
        await pilot.pause(0.2)
        rows = screen_rows(app)
        text = "\n".join(rows)
        assert not UNSAFE.search(text), [r for r in rows if UNSAFE.search(r)]
        assert "␛]0;pwned␇" in text  # the chat, the tool tree and the drawer show it
        assert "[bold red]not markup[/bold red]" in text  # model text is never markup
        assert "\\u202eevil" in text
        assert "Run: rm ␛]0;pwned␇" in text  # the approval drawer's title
        assert "[red]bash[/red]" in text  # a model-chosen tool name is literal
        record = app.tools.records["c1"]
        assert record.output == "out ␛]52;c;cHduZWQ=␇\nline2 \\x9b2J"

        app.push_screen(ToolDetailScreen(record))
        await pilot.pause(0.2)
        detail = "\n".join(screen_rows(app))
        assert not UNSAFE.search(detail)
        assert "[red]bash[/red] · c1" in detail  # the border title, not red "bash"
        assert "[b]cell[/b] ␛]0;pwned␇" in detail  # a dataset cell is not markup either
        assert "␛[?1049l" in detail


async def test_ui_notices_are_terminal_safe(app: MLInternApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        app.local_notice(f"The agent stopped: {TITLE}", "error", hint=f"hint {CLEAR}")
        await pilot.pause(0.2)
        text = "\n".join(screen_rows(app))
        assert not UNSAFE.search(text)
        assert "The agent stopped: ␛]0;pwned␇" in text and "hint ␛[2J" in text


def write_journal(directory: Path, jobs: Path) -> Path:
    journal = Journal.create(directory, "20260101-000000-abcdef", {"model": f"m{TITLE}"})
    journal.append({"kind": "message", "message": {"role": "user", "content": f"hi {TITLE}"}})
    for event in (
        p.TurnStarted(text=f"hi {TITLE}"),
        p.AssistantMessage(text=f"answer {CLIPBOARD}"),
        p.ToolCall(call_id="c1", tool="bash", args={"command": f"x {CLEAR}"}),
        p.JobUpdated(job_id="job-9", kind="local", status="completed", title="t"),
    ):
        journal.record_event(event)
    journal.append(
        {"kind": "message", "message": {"role": "assistant", "content": f"answer {CLIPBOARD}"}}
    )
    journal.close()
    jobs.mkdir(parents=True, exist_ok=True)
    (jobs / "job-9.log").write_text(f"log line {LEAVE_ALT}\n")
    return journal.path


async def test_a_resumed_session_and_its_export_are_terminal_safe(
    app: MLInternApp, runtime: FakeRuntime, tmp_path: Path
) -> None:
    """A hostile journal and job log, read by the core into a ``history`` event: every
    pane shows their escapes visibly (the chat, the tree, the jobs and the transcript)."""

    write_journal(sessions_dir(), data_dir() / "jobs")
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id)
        runtime.publish(*runtime.resumed("20260101-000000-abcdef"))
        await wait_for(pilot, lambda: "job-9" in app.jobs.jobs and "c1" in app.tools.records)
        await wait_for(pilot, lambda: len(app.chat.blocks) >= 4)
        await pilot.pause(0.2)
        text = "\n".join(screen_rows(app))
        assert not UNSAFE.search(text), [r for r in screen_rows(app) if UNSAFE.search(r)]
        assert "hi ␛]0;pwned␇" in text and "answer ␛]52;c;cHduZWQ=␇" in text
        assert list(app.jobs.jobs["job-9"].lines) == ["log line ␛[?1049l"]
        assert app.tools.records["c1"].args == {"command": "x ␛[2J"}
        assert not UNSAFE.search(app.transcript.to_markdown())
    path = sessions_dir() / "20260101-000000-abcdef.jsonl"
    exported = export_saved(path, tmp_path / "out.md").read_text()
    assert not UNSAFE.search(exported) and "answer ␛]52;c;cHduZWQ=␇" in exported


async def test_the_session_list_is_terminal_safe(app: MLInternApp) -> None:
    """Titles, previews and models of saved sessions come from journals (the core lists
    them): the browser shows their escapes as text."""
    write_journal(sessions_dir(), data_dir() / "jobs")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id)
        app.run_slash("sessions")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen))
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        await wait_for(pilot, lambda: screen.table.row_count == 1)
        (info,) = screen.sessions or []
        for text in (info.title, info.prompt, info.last_answer, info.model):
            assert is_terminal_safe(text)
        assert info.title == "hi ␛]0;pwned␇" and info.model == "m␛]0;pwned␇"
        await pilot.pause(0.1)
        rows = screen_rows(app)
        assert not UNSAFE.search("\n".join(rows)), [r for r in rows if UNSAFE.search(r)]
        assert any("hi ␛]0;pwned␇" in row for row in rows)


# ---------------------------------------------------------------- headless


def run_cli(
    args: list[str], cwd: Path, fake: FakeOpenAI, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "VLLM_BASE_URL": fake.base_url,
        "ML_INTERN_LLM__MAX_RETRIES": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "ml_intern_tui.cli", "--model", "vllm/m", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def hostile_replies(fake: FakeOpenAI, cwd: Path) -> str:
    (cwd / f"notes{CLEAR}.txt").write_text(f"file text {TITLE}\n")
    answer = f"Done {TITLE} {CLIPBOARD}\n{CLEAR}{LEAVE_ALT}\x9b31m \u202eevil\rover"
    fake.enqueue(
        Reply(
            text="",
            reasoning=f"plan {TITLE}",
            tool_calls=[("read", json.dumps({"path": f"notes{CLEAR}.txt"}))],
        ),
        Reply(text=answer, chunks=7),
    )
    return answer


def assert_no_control_bytes(data: bytes) -> None:
    text = data.decode("utf-8")
    assert b"\x1b" not in data
    assert not UNSAFE.search(text), repr(text[:2000])


def test_headless_text_output_holds_no_escape(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        hostile_replies(fake, tmp_path)
        proc = run_cli(["--mode", "auto", "-p", f"go {TITLE}"], tmp_path, fake)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert_no_control_bytes(proc.stdout)
    assert_no_control_bytes(proc.stderr)
    out = proc.stdout.decode()
    assert "▸ read  notes␛[2J.txt" in proc.stderr.decode()  # the tool line shows the escape
    assert "Done ␛]0;pwned␇ ␛]52;c;cHduZWQ=␇" in out and "\\u202eevil␍over" in out


def test_headless_json_keeps_the_exact_text(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        answer = hostile_replies(fake, tmp_path)
        proc = run_cli(["--mode", "auto", "--json", "-p", "go"], tmp_path, fake)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert_no_control_bytes(proc.stdout)
    events: list[dict[str, Any]] = [json.loads(line) for line in proc.stdout.splitlines()]
    final = [e for e in events if e["type"] == "assistant_message"][-1]
    assert final["text"] == answer  # exact, with every escape, once decoded
    deltas = "".join(e["text"] for e in events if e["type"] == "assistant_delta")
    assert deltas == answer
    call = next(e for e in events if e["type"] == "tool_call")
    assert call["args"] == {"path": f"notes{CLEAR}.txt"}
    result = next(e for e in events if e["type"] == "tool_result")
    assert f"file text {TITLE}" in result["output"]


def test_stopped_line_in_ask_mode_shows_the_escape_visibly(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        command = json.dumps({"command": f"rm -rf x {TITLE}"})
        fake.enqueue(Reply(text="", tool_calls=[("bash", command)]))
        proc = run_cli(["--mode", "ask", "-p", "go"], tmp_path, fake)
    assert proc.returncode == 3, proc.stderr.decode()[-2000:]
    assert_no_control_bytes(proc.stdout)
    assert_no_control_bytes(proc.stderr)
    assert "stopped: bash needs approval — Run: rm -rf x ␛]0;pwned␇" in proc.stderr.decode()
