"""A hostile journal cannot make a resume read files it should not (nor hang it).

The history of a resumed session carries the end of each job's log file, read by the
jobs layer from a job id found in the journal. A journal can be copied from anywhere,
so its ids are an attacker's: paths out of the log directory, links to secrets, FIFOs
that would block a reader forever, and logs far too big to read whole.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.resume import session_history
from ml_intern_tui.jobs.registry import SAVED_TAIL_BYTES, JobRegistry

SECRET = "TOP-SECRET-VALUE"


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    directory = tmp_path / "data" / "jobs"
    directory.mkdir(parents=True)
    return directory


def registry(logs: Path) -> JobRegistry:
    return JobRegistry(lambda _event: None, log_dir=logs)


def history_lines(logs: Path, *job_ids: str) -> list[str]:
    events = [p.JobUpdated(job_id=job_id, kind="local", status="completed") for job_id in job_ids]
    history = session_history(events, chat_blocks=10, log_tail=registry(logs).saved_log_tail)
    return [line for e in history.events if isinstance(e, p.JobLog) for line in e.lines]


@pytest.mark.parametrize(
    "job_id",
    ["../outside", "../../data/outside", "/etc/passwd", "sub/dir", ".hidden", "..", "", "a\0b"],
)
def test_job_ids_that_are_not_plain_names_read_nothing(logs: Path, job_id: str) -> None:
    (logs.parent / "outside.log").write_text(f"{SECRET}\n")
    (logs / ".hidden.log").write_text(f"{SECRET}\n")
    (logs / "sub").mkdir()
    (logs / "sub" / "dir.log").write_text(f"{SECRET}\n")
    assert registry(logs).saved_log_tail(job_id) == []
    assert not any(SECRET in line for line in history_lines(logs, job_id))


def test_a_log_that_is_a_link_is_not_followed(logs: Path, tmp_path: Path) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text(f"{SECRET}\n")
    (logs / "job-link.log").symlink_to(secret)
    (logs / "job-ok.log").write_text("epoch 1\n")
    assert history_lines(logs, "job-link", "job-ok") == ["epoch 1"]


def test_a_log_that_is_a_fifo_does_not_hang_the_resume(logs: Path) -> None:
    os.mkfifo(logs / "job-fifo.log")
    result: list[list[str]] = []
    reader = threading.Thread(target=lambda: result.append(history_lines(logs, "job-fifo")))
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading a FIFO as a job log blocked the resume"
    assert result == [[]]


def test_a_huge_log_is_read_from_its_end_only(logs: Path) -> None:
    line = "x" * 99 + "\n"
    with (logs / "job-big.log").open("w") as handle:
        handle.write("first line that must not come back\n")
        for index in range(60_000):  # about 6 MB
            handle.write(f"{index:06d} {line}")
    tail = registry(logs).saved_log_tail("job-big")
    assert len(tail) == 2_000
    assert tail[-1].startswith("059999 ") and all(len(row) == 106 for row in tail)
    assert sum(len(row) + 1 for row in tail) <= SAVED_TAIL_BYTES
    assert registry(logs).saved_log_tail("job-big", lines=3)[0].startswith("059997 ")
    assert registry(logs).saved_log_tail("job-none") == []
