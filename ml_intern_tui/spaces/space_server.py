"""The API server that runs inside a sandbox Space: shell commands, files, background jobs.

Shipped with the package and uploaded into the Space (``Dockerfile`` runs it); it uses
the standard library only, so it runs on any Python 3.11+ image. Every route needs the
header ``X-Sandbox-Authorization: Bearer <SANDBOX_API_TOKEN>``, compared in constant
time; without a token of at least 32 characters in the environment every route answers
503 (a Space started without its secret is closed, not open). File routes stay inside
``SANDBOX_ROOT`` (``/app``): ``..``, absolute paths elsewhere and symbolic links that
lead out are refused. Commands run in their own process group so a kill stops their
children too.

Routes (all ``POST`` with a JSON body, answers are JSON):
``/api/health``, ``/api/bash {command, work_dir, timeout, call_id}``, ``/api/kill
{call_id}``, ``/api/read {path, offset, limit}``, ``/api/write {path, content}``,
``/api/edit {path, old_str, new_str, replace_all}``, ``/api/jobs/start {command,
work_dir}``, ``/api/jobs/log {job_id, offset}``, ``/api/jobs/kill {job_id}``.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MAX_BODY = 16 * 1024 * 1024
MAX_OUTPUT = 200_000
"""Characters of one command's output sent back (head and tail kept)."""
MAX_READ_BYTES = 10 * 1024 * 1024
MAX_TIMEOUT_S = 3600
MIN_TOKEN_CHARS = 32
KILL_GRACE_S = 2.0


class ApiError(Exception):
    """An expected failure: answered with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def root_dir() -> Path:
    return Path(os.environ.get("SANDBOX_ROOT", "/app")).resolve()


def confined(raw: Any, *, must_exist: bool = False) -> Path:
    """``raw`` as a path inside the root (symbolic links resolved), or a 400/403."""
    if not isinstance(raw, str) or not raw or "\0" in raw:
        raise ApiError(400, "path must be a non-empty string without NUL bytes")
    root = root_dir()
    candidate = Path(raw)
    if not candidate.is_absolute():
        candidate = root / candidate
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError) as exc:
        raise ApiError(400, f"cannot resolve {raw}: {exc}") from exc
    if resolved != root and not resolved.is_relative_to(root):
        raise ApiError(403, f"{raw} is outside {root}")
    if must_exist and not resolved.exists():
        raise ApiError(404, f"{raw} does not exist")
    return resolved


def cut(text: str, limit: int = MAX_OUTPUT) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    head = limit // 4
    tail = limit - head
    left_out = len(text) - limit
    return f"{text[:head]}\n[... {left_out:,} characters cut ...]\n{text[-tail:]}", True


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, SIGKILL after a grace period."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


class Sandbox:
    """The processes and jobs of one server."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.jobs: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
        self.log_dir = Path(os.environ.get("SANDBOX_LOG_DIR", "/tmp/sandbox-jobs"))

    def work_dir(self, raw: Any) -> Path:
        path = confined(raw or str(root_dir()), must_exist=True)
        if not path.is_dir():
            raise ApiError(400, f"work_dir {raw} is not a directory")
        return path

    def spawn(self, command: Any, cwd: Path, stdout: Any) -> subprocess.Popen[bytes]:
        if not isinstance(command, str) or not command.strip():
            raise ApiError(400, "command must be a non-empty string")
        return subprocess.Popen(
            ["bash", "-c", command],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def bash(self, body: dict[str, Any]) -> dict[str, Any]:
        timeout = body.get("timeout", 120)
        if not isinstance(timeout, int) or not 1 <= timeout <= MAX_TIMEOUT_S:
            raise ApiError(400, f"timeout must be a whole number of seconds, 1-{MAX_TIMEOUT_S}")
        call_id = str(body.get("call_id") or secrets.token_hex(6))
        started = time.monotonic()
        proc = self.spawn(body.get("command"), self.work_dir(body.get("work_dir")), subprocess.PIPE)
        with self.lock:
            self.running[call_id] = proc
        timed_out = False
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(proc)
            out, _ = proc.communicate()
        finally:
            with self.lock:
                self.running.pop(call_id, None)
        text, truncated = cut(out.decode("utf-8", errors="replace"))
        return {
            "output": text,
            "exit_code": proc.returncode,
            "timed_out": timed_out,
            "truncated": truncated,
            "elapsed_s": round(time.monotonic() - started, 3),
        }

    def kill(self, body: dict[str, Any]) -> dict[str, Any]:
        call_id = body.get("call_id")
        with self.lock:
            procs = [p for c, p in self.running.items() if call_id in (None, c)]
        for proc in procs:
            kill_group(proc)
        return {"killed": len(procs)}

    def read(self, body: dict[str, Any]) -> dict[str, Any]:
        path = confined(body.get("path"), must_exist=True)
        if path.is_dir():
            raise ApiError(400, f"{body.get('path')} is a directory")
        if path.stat().st_size > MAX_READ_BYTES:
            raise ApiError(413, f"{body.get('path')} is over {MAX_READ_BYTES:,} bytes")
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            raise ApiError(415, f"{body.get('path')} is a binary file")
        lines = data.decode("utf-8", errors="replace").splitlines()
        offset = max(int(body.get("offset") or 1), 1)
        limit = max(int(body.get("limit") or 2000), 1)
        return {
            "path": str(path),
            "lines": lines[offset - 1 : offset - 1 + limit],
            "offset": offset,
            "total_lines": len(lines),
        }

    def write(self, body: dict[str, Any]) -> dict[str, Any]:
        content = body.get("content")
        if not isinstance(content, str):
            raise ApiError(400, "content must be a string")
        path = confined(body.get("path"))
        if path.is_dir():
            raise ApiError(400, f"{body.get('path')} is a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        # The resolved path is inside the root; O_NOFOLLOW refuses a link planted since.
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        fd = os.open(path, flags, 0o644)
        data = content.encode()
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return {"path": str(path), "bytes": len(data), "lines": content.count("\n")}

    def edit(self, body: dict[str, Any]) -> dict[str, Any]:
        old, new = body.get("old_str"), body.get("new_str")
        if not isinstance(old, str) or not old or not isinstance(new, str):
            raise ApiError(400, "old_str (non-empty) and new_str must be strings")
        path = confined(body.get("path"), must_exist=True)
        text = path.read_text(encoding="utf-8")
        count = text.count(old)
        if count == 0:
            raise ApiError(409, "old_str was not found in the file")
        if count > 1 and not body.get("replace_all"):
            raise ApiError(409, f"old_str occurs {count} times; give more context or replace_all")
        updated = text.replace(old, new) if body.get("replace_all") else text.replace(old, new, 1)
        return {**self.write({"path": str(path), "content": updated}), "replacements": count}

    def job_start(self, body: dict[str, Any]) -> dict[str, Any]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        job_id = f"rjob-{secrets.token_hex(4)}"
        log_path = self.log_dir / f"{job_id}.log"
        with log_path.open("wb") as log:
            proc = self.spawn(body.get("command"), self.work_dir(body.get("work_dir")), log)
        with self.lock:
            self.jobs[job_id] = (proc, log_path)
        return {"job_id": job_id}

    def _job(self, body: dict[str, Any]) -> tuple[subprocess.Popen[bytes], Path]:
        with self.lock:
            job = self.jobs.get(str(body.get("job_id")))
        if job is None:
            raise ApiError(404, f"no job {body.get('job_id')!r}")
        return job

    def job_log(self, body: dict[str, Any]) -> dict[str, Any]:
        proc, log_path = self._job(body)
        offset = max(int(body.get("offset") or 0), 0)
        code = proc.poll()  # before reading, so no line written before the end is missed
        with log_path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(1024 * 1024)
        if code is None or len(data) == 1024 * 1024:
            # Only whole lines while it runs (a line being written comes next time).
            data = data[: data.rfind(b"\n") + 1] if b"\n" in data else b""
        return {
            "text": data.decode("utf-8", errors="replace"),
            "next_offset": offset + len(data),
            "running": code is None or len(data) == 1024 * 1024,
            "exit_code": code,
        }

    def job_kill(self, body: dict[str, Any]) -> dict[str, Any]:
        proc, _ = self._job(body)
        kill_group(proc)
        return {"exit_code": proc.returncode}


ROUTES = {
    "/api/health": lambda box, body: {"ok": True},
    "/api/bash": Sandbox.bash,
    "/api/kill": Sandbox.kill,
    "/api/read": Sandbox.read,
    "/api/write": Sandbox.write,
    "/api/edit": Sandbox.edit,
    "/api/jobs/start": Sandbox.job_start,
    "/api/jobs/log": Sandbox.job_log,
    "/api/jobs/kill": Sandbox.job_kill,
}


def authorised(header: str | None, token: str) -> bool:
    """Whether ``header`` is ``Bearer <token>`` (constant time in the token)."""
    given = (header or "").removeprefix("Bearer ").strip()
    return hmac.compare_digest(given.encode(), token.encode())


def make_handler(box: Sandbox, token: str | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return  # request lines would be the Space's logs; they hold nothing useful

        def answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self.handle_call(read_body=False)

        def do_POST(self) -> None:
            self.handle_call(read_body=True)

        def handle_call(self, *, read_body: bool) -> None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not token or len(token) < MIN_TOKEN_CHARS:
                self.close_connection = True
                return self.answer(503, {"error": "the sandbox has no API token configured"})
            if not authorised(self.headers.get("X-Sandbox-Authorization"), token):
                self.close_connection = True
                return self.answer(401, {"error": "missing or wrong sandbox API token"})
            if length < 0 or length > MAX_BODY:
                self.close_connection = True
                return self.answer(413, {"error": f"body over {MAX_BODY:,} bytes"})
            route = ROUTES.get(self.path.split("?", 1)[0])
            raw = self.rfile.read(length) if read_body and length else b""
            if route is None:
                return self.answer(404, {"error": f"no route {self.path}"})
            try:
                body = json.loads(raw or b"{}")
                if not isinstance(body, dict):
                    raise ApiError(400, "the body must be a JSON object")
                return self.answer(200, route(box, body))
            except ApiError as exc:
                return self.answer(exc.status, {"error": str(exc)})
            except (ValueError, OSError) as exc:
                return self.answer(400, {"error": f"{type(exc).__name__}: {exc}"})

    return Handler


def serve(port: int, token: str | None, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """A server bound to ``host:port`` (``port`` 0: any free one); call ``serve_forever``."""
    server = ThreadingHTTPServer((host, port), make_handler(Sandbox(), token))
    server.daemon_threads = True
    return server


def main() -> None:
    port = int(os.environ.get("PORT", "7860"))
    host = os.environ.get("SANDBOX_HOST", "0.0.0.0")
    server = serve(port, os.environ.get("SANDBOX_API_TOKEN"), host)
    print(f"sandbox API listening on {host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(0)


if __name__ == "__main__":
    main()
