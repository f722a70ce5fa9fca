"""The model server of ``bench/session.py``: a fake OpenAI server in a process of its own.

Run as ``python bench/session_server.py CALLS``. It prints its base URL, answers request
``k`` (counted from 1) with a ``read`` call of ``src/mod_{k:03d}.py`` until ``CALLS``
requests were answered (the last one is a short text answer, which ends the turn), and
when its stdin closes prints one JSON line: for every request, when it arrived and when
its answer was sent (``time.monotonic``, the same clock in every process of the
machine) and the prompt size it reported.

It answers at once and keeps no request bodies (300 of them would take a gigabyte). The
prompt size it reports is the request's length in bytes / 4: a stand-in for a server's
tokenizer (real servers count their own way; the app calibrates onto their count).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from fakes.openai_server import FakeOpenAI, RecordedRequest, Reply, _Handler  # noqa: E402

FINAL_TEXT = "All the files are read."


def tool_path(k: int) -> str:
    """The file request ``k`` asks the agent to read."""
    return f"src/mod_{k:03d}.py"


class SessionServer(FakeOpenAI):
    """Scripted for one long turn; stamps every request's arrival and end."""

    def __init__(self, calls: int) -> None:
        self.calls = calls
        self.count = 0
        self.stamps: list[dict[str, Any]] = []
        self._stamp_lock = threading.Lock()
        super().__init__()

    def _record(self, request: RecordedRequest) -> Reply:
        with self._cond:
            self.count += 1
            k = self.count
            self._cond.notify_all()
        self.request_event.set()
        prompt = int(request.headers.get("content-length") or 0) // 4
        usage = {"prompt_tokens": prompt, "completion_tokens": 20, "total_tokens": prompt + 20}
        if k >= self.calls:
            return Reply(text=FINAL_TEXT, usage=usage)
        arguments = json.dumps({"path": tool_path(k)})
        return Reply(text="", tool_calls=[("read", arguments)], usage=usage)

    def stamp(self, arrived: float, answered: float, prompt: int) -> None:
        with self._stamp_lock:
            self.stamps.append({"arrived": arrived, "answered": answered, "prompt": prompt})

    def _handler_class(self) -> type[_Handler]:
        fake = self

        class Timed(_Handler):
            server_fake = fake

            def do_POST(self) -> None:
                arrived = time.monotonic()
                super().do_POST()
                prompt = int(self.headers.get("content-length") or 0) // 4
                fake.stamp(arrived, time.monotonic(), prompt)

        return Timed


def main() -> int:
    calls = int(sys.argv[1])
    with SessionServer(calls) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()  # until the benchmark closes our stdin
        with server._stamp_lock:
            stamps = sorted(server.stamps, key=lambda s: s["arrived"])
    print(json.dumps(stamps), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
