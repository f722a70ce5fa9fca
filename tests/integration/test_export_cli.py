"""``ml-intern-tui export SESSION``: Markdown to stdout, the trace to a file, bad ids in
one line with exit 2, secrets and terminal escapes never written out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ml_intern_tui.cli import main
from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.journal import Journal
from ml_intern_tui.paths import sessions_dir
from ml_intern_tui.traces.export import trace_bytes

SESSION = "20240101-120000-abcdef"
SECRET = "hf_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7"


def saved_session(session: str = SESSION) -> Path:
    journal = Journal.create(sessions_dir(), session, {"model": "vllm/m", "cwd": "/w"})
    journal.append({"kind": "message", "message": {"role": "system", "content": "sys"}})
    journal.append({"kind": "message", "message": {"role": "user", "content": "train it"}})
    answer = f"Trained \x1b]0;pwned\x07 with token {SECRET}."
    journal.append({"kind": "message", "message": {"role": "assistant", "content": answer}})
    for event in (
        p.Ready(model="vllm/m", mode="ask", tools=[], cwd="/w", context_limit=32_000),
        p.TurnStarted(text="train it"),
        p.ToolCall(call_id="c1", tool="bash", args={"command": "python train.py"}),
        p.ToolResultEvent(call_id="c1", ok=True, summary="exit 0", output="ok"),
        p.AssistantMessage(text=answer),
        p.TurnComplete(final_text=answer, iterations=2),
    ):
        event.session_id = session
        journal.record_event(event)
    journal.close()
    return journal.path


def test_markdown_goes_to_stdout_scrubbed_and_terminal_safe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved_session()
    assert main(["export", SESSION[:12], "--cwd", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# ml-intern session {SESSION}")
    assert "**You**\n\ntrain it" in out and "- tool `bash` python train.py" in out
    assert "Trained" in out and SECRET not in out
    assert "\x1b" not in out and "\x07" not in out


def test_trace_goes_to_a_file_by_default_the_same_bytes_as_the_app_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = saved_session()
    assert main(["export", "last", "--format", "trace", "--cwd", str(tmp_path)]) == 0
    written = tmp_path / f"ml-intern-{SESSION}.jsonl"
    assert written.read_bytes() == trace_bytes(journal)
    assert str(written) in capsys.readouterr().err
    lines = [json.loads(line) for line in written.read_text().splitlines()]
    assert lines[0]["type"] == "summary"
    assert any(line["type"] == "assistant" for line in lines)
    assert SECRET not in written.read_text()
    assert oct(written.stat().st_mode & 0o777) == "0o600"


def test_output_flag_and_trace_to_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved_session()
    assert main(["export", SESSION, "-o", "out/t.md", "--cwd", str(tmp_path)]) == 0
    assert (tmp_path / "out" / "t.md").read_text().startswith("# ml-intern session")
    capsys.readouterr()
    assert main(["export", SESSION, "-f", "trace", "-o", "-", "--cwd", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    decoded = [json.loads(line) for line in out.splitlines()]
    assert decoded[0]["type"] == "summary" and "\x1b" not in out and "\x07" not in out


@pytest.mark.parametrize(
    ("key", "says"),
    [("nope", "no session 'nope'"), ("2024", "ambiguous"), ("", "no session id")],
)
def test_bad_session_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, says: str
) -> None:
    saved_session()
    saved_session("20240102-120000-fedcba")
    assert main(["export", key, "--cwd", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and lines[0].startswith("ml-intern-tui export:")


def test_unknown_format_and_unwritable_output_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved_session()
    with pytest.raises(SystemExit) as stop:
        main(["export", SESSION, "--format", "pdf"])
    assert stop.value.code == 2
    (tmp_path / "file").write_text("x")
    capsys.readouterr()
    assert main(["export", SESSION, "-o", "file/sub.md", "--cwd", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "could not write" in err[0]


def test_the_real_command_exports_and_never_runs_a_prompt(tmp_path: Path) -> None:
    saved_session()
    proc = subprocess.run(
        [sys.executable, "-m", "ml_intern_tui", "export", SESSION],
        cwd=tmp_path,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"# ml-intern session {SESSION}")
