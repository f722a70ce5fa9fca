"""Long outputs spilled to files: redacted as written, kept with the session, gone with it.

Before, ``bash`` spilled to ``/tmp/ml-intern-tui/<session>/`` with raw secrets and never
deleted anything (89 MB after two runs). Now the file sits in ``<id>.files/`` beside the
session's journal (or in a private temporary directory removed at exit when the session
is not journaled), holds no secret, can still be read by the model with ``read``, and
is deleted with the session: from the sessions browser, or when an unused session is
discarded. Job log files are redacted the same way.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from ml_intern_tui.core import known_secrets
from ml_intern_tui.core.journal import Journal, files_dir
from ml_intern_tui.core.saved_sessions import delete_session
from ml_intern_tui.core.tool import SessionState, ToolContext
from ml_intern_tui.jobs.local import OutputCollector
from ml_intern_tui.jobs.registry import JobRegistry
from ml_intern_tui.tools.bash import BashTool
from ml_intern_tui.tools.files import ReadTool

HF = "hf_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3f"
SERVICE = "opaque-Service-Value-4471"


def test_the_spill_file_is_redacted_as_written(tmp_path: Path) -> None:
    known_secrets.register(SERVICE, "MY_SERVICE_TOKEN")
    collector = OutputCollector(300, lambda: tmp_path / "spill.txt")
    lines = [f"line {i} HF_TOKEN={HF} svc={SERVICE}" for i in range(5000)]
    lines[2500:2503] = [
        "-----BEGIN PRIVATE KEY-----",
        "MIIEvQIBADANBgkqhkiG9w0B",
        "-----END PRIVATE KEY-----",
    ]
    collector.add(lines)
    collector.text()
    spilled = (tmp_path / "spill.txt").read_text()
    assert HF not in spilled and SERVICE not in spilled and "MIIEvQIBADANBg" not in spilled
    assert spilled.count("\n") == 5000 - 2  # a key block becomes one line, nothing is lost
    assert "line 4999 HF_TOKEN=[REDACTED_HF_TOKEN] svc=[REDACTED_MY_SERVICE_TOKEN]" in spilled


@pytest.fixture
def session(tmp_path: Path) -> Journal:
    journal = Journal.create(tmp_path / "sessions", "20260101-000000-aaaaaa", {})
    journal.append({"kind": "message", "message": {"role": "user", "content": "go"}})
    return journal


async def test_bash_spills_next_to_the_journal_and_read_can_open_it(
    tmp_path: Path, session: Journal
) -> None:
    ctx = ToolContext(
        call_id="c1",
        session_id=session.session_id,
        cwd=tmp_path,
        state=SessionState(),
        publish=lambda _e: None,
        output_budget=2_000,
        files_dir=session.files_dir,
    )
    bash = BashTool()
    command = f'for i in $(seq 3000); do echo "$i HF_TOKEN={HF}"; done'
    result = await bash.run(bash.Args(command=command), ctx)
    assert result.truncated and result.data is not None
    spill = Path(result.data["spill_path"])
    assert spill.parent == tmp_path / "sessions" / "20260101-000000-aaaaaa.files"
    assert str(spill) in result.output  # the model is told where it is
    mode = (await asyncio.to_thread(spill.parent.stat)).st_mode
    assert mode & 0o077 == 0  # private to the user
    read = ReadTool()
    page = await read.run(read.Args(path=str(spill), offset=2999, limit=2), ctx)
    assert "2999 HF_TOKEN=[REDACTED_HF_TOKEN]" in page.output and HF not in page.output
    session.close()

    # The sessions browser's "d": the journal and its files go together.
    await asyncio.to_thread(delete_session, tmp_path / "sessions", session.session_id)
    assert not await asyncio.to_thread(spill.parent.exists)


def test_an_unused_session_takes_its_files_with_it(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path, "20260101-000000-bbbbbb", {})
    journal.files_dir.mkdir()
    (journal.files_dir / "bash-output-x.txt").write_text("x")
    assert journal.unused
    journal.discard()
    assert not journal.path.exists() and not journal.files_dir.exists()
    assert files_dir(journal.path) == tmp_path / "20260101-000000-bbbbbb.files"


def test_unjournaled_spills_go_when_the_process_exits(tmp_path: Path) -> None:
    code = (
        "from ml_intern_tui.tools.bash import process_files_dir\n"
        "d = process_files_dir(); (d / 'bash-output-1.txt').write_text('x'); print(d)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    directory = Path(proc.stdout.strip())
    assert directory.name.startswith("ml-intern-tui-")
    assert not directory.exists()


async def test_job_log_files_are_redacted(tmp_path: Path) -> None:
    known_secrets.register(SERVICE, "MY_SERVICE_TOKEN")
    registry = JobRegistry(lambda _e: None, tmp_path / "logs", batch_interval_s=0.05)
    try:
        record = await registry.start_local(
            f"echo HF_TOKEN={HF}; echo value {SERVICE}; echo done", tmp_path, title="env"
        )
        await registry.wait(record.id, timeout_s=10)
    finally:
        await registry.shutdown()
    assert record.log_path is not None
    assert await asyncio.to_thread(record.log_path.read_text) == (
        "HF_TOKEN=[REDACTED_HF_TOKEN]\nvalue [REDACTED_MY_SERVICE_TOKEN]\ndone\n"
    )
