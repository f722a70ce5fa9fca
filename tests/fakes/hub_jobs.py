"""A fake HF Jobs API: ``/api/whoami-v2``, ``/api/jobs/...`` and ``/api/scheduled-jobs/...``.

Install it on a :class:`~fakes.http_server.FakeHTTPServer`; the returned
:class:`FakeJobStore` is the test's remote control. Jobs start in ``SCHEDULING`` (or the
store's ``initial_stage``) and move only when the test says so (``set_stage``,
``complete``), and print only the lines the test gives them (``log``)::

    store = install_hub_jobs(server)
    job = store.last()
    store.set_stage(job.id, "RUNNING")
    store.log(job.id, "epoch 1", "epoch 2")
    store.drop_streams(job.id)          # open log streams end cleanly mid-job
    store.complete(job.id, running_secs=1800)

Log streams follow the real API: SSE events ``{"data": line, "timestamp": ...}`` that
replay the job's log from the start, then keep the connection open for new lines until
the job reaches a final stage. A request with ``?tail=N`` gets the last ``N`` lines and
the stream closes at once (a snapshot: the real server would keep it open, and the
client would wait five quiet seconds before returning).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fakes.http_server import FakeHTTPServer, FakeRequest, FakeResponse

TOKEN = "hf_fake"
USER = "tester"
ORGS = ("acme",)
FINAL_STAGES = frozenset({"COMPLETED", "CANCELED", "ERROR", "DELETED"})
_NS = r"(?P<ns>[\w.-]+)"
_ID = r"(?P<id>[\w-]+)"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


@dataclass
class FakeJob:
    """One job as the fake server keeps it."""

    id: str
    namespace: str
    spec: dict[str, Any]
    """The request body the client sent (command, environment, secrets, flavor...)."""
    stage: str = "SCHEDULING"
    message: str | None = None
    lines: list[str] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started_at: datetime | None = None
    finished_at: datetime | None = None
    running_secs: int | None = None
    """Overrides the computed running time (deterministic costs in tests)."""
    drop_epoch: int = 0
    streams_opened: int = 0

    @property
    def final(self) -> bool:
        return self.stage in FINAL_STAGES

    def durations(self) -> dict[str, Any]:
        running = self.running_secs
        if running is None and self.started_at is not None:
            end = self.finished_at or datetime.now(UTC)
            running = int((end - self.started_at).total_seconds())
        return {"runningSecs": running}

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "owner": {"id": "u1", "name": self.namespace, "type": "user"},
            "status": {"stage": self.stage, "message": self.message},
            "createdAt": _iso(self.created_at),
            "startedAt": _iso(self.started_at),
            "finishedAt": _iso(self.finished_at),
            "dockerImage": self.spec.get("dockerImage"),
            "spaceId": self.spec.get("spaceId"),
            "command": self.spec.get("command"),
            "arguments": self.spec.get("arguments", []),
            "environment": self.spec.get("environment", {}),
            # The real API never returns secret values.
            "secrets": dict.fromkeys(self.spec.get("secrets") or {}, "<encrypted>"),
            "flavor": self.spec.get("flavor", "cpu-basic"),
            "labels": self.spec.get("labels"),
            "durations": self.durations(),
        }


class FakeJobStore:
    """The jobs and scheduled jobs of the fake Hub, and the test's controls over them."""

    def __init__(self, *, initial_stage: str = "SCHEDULING") -> None:
        self.initial_stage = initial_stage
        self.jobs: dict[str, FakeJob] = {}
        self.scheduled: dict[str, dict[str, Any]] = {}
        self.cond = threading.Condition()
        self.closed = False
        self._ids = itertools.count(1)

    # -------------------------------------------------------------- test controls

    def last(self) -> FakeJob:
        with self.cond:
            return list(self.jobs.values())[-1]

    def add(self, namespace: str = USER, stage: str = "RUNNING", **spec: Any) -> FakeJob:
        """A job that exists on the Hub without this session having started it."""
        body = {"flavor": "cpu-basic", "dockerImage": "python:3.12", "command": ["true"], **spec}
        job = self._new(namespace, body)
        self.set_stage(job.id, stage)
        return job

    def set_stage(self, job_id: str, stage: str, message: str | None = None) -> None:
        with self.cond:
            job = self.jobs[job_id]
            now = datetime.now(UTC)
            if stage == "RUNNING" and job.started_at is None:
                job.started_at = now
            if stage in FINAL_STAGES and job.finished_at is None:
                job.started_at = job.started_at or now
                job.finished_at = now
            job.stage = stage
            job.message = message
            self.cond.notify_all()

    def log(self, job_id: str, *lines: str) -> None:
        with self.cond:
            self.jobs[job_id].lines.extend(lines)
            self.cond.notify_all()

    def complete(
        self, job_id: str, stage: str = "COMPLETED", *, running_secs: int | None = None
    ) -> None:
        with self.cond:
            self.jobs[job_id].running_secs = running_secs
        self.set_stage(job_id, stage)

    def drop_streams(self, job_id: str) -> None:
        """End the job's open log streams cleanly, as a flaky proxy would."""
        with self.cond:
            self.jobs[job_id].drop_epoch += 1
            self.cond.notify_all()

    def streams_opened(self, job_id: str) -> int:
        with self.cond:
            return self.jobs[job_id].streams_opened

    def close(self) -> None:
        """End every open stream (call before the server closes)."""
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    # ------------------------------------------------------------------- inside

    def _new(self, namespace: str, body: dict[str, Any]) -> FakeJob:
        with self.cond:
            job_id = f"job{next(self._ids):04d}"
            job = FakeJob(id=job_id, namespace=namespace, spec=body, stage=self.initial_stage)
            self.jobs[job_id] = job
            return job

    def _stream(self, job: FakeJob, tail: int | None) -> Iterator[str]:
        def event(text: str) -> str:
            return json.dumps({"data": text, "timestamp": _iso(datetime.now(UTC))})

        with self.cond:
            job.streams_opened += 1
            epoch = job.drop_epoch
            snapshot = list(job.lines)
        if tail is not None:
            for line in snapshot[-tail:] if tail else []:
                yield event(line)
            return
        yield event(f"===== Job started at {_iso(job.started_at or job.created_at)} =====")
        sent = 0
        while True:
            with self.cond:
                while (
                    sent >= len(job.lines)
                    and not job.final
                    and job.drop_epoch == epoch
                    and not self.closed
                ):
                    self.cond.wait(0.5)
                pending = job.lines[sent:]
                stop = job.final or job.drop_epoch != epoch or self.closed
            for line in pending:
                yield event(line)
            sent += len(pending)
            if self.closed or (stop and sent >= len(job.lines)):
                return


def _scheduled_info(sid: str, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": sid,
        "createdAt": _iso(datetime.now(UTC)),
        "jobSpec": body.get("jobSpec", {}),
        "schedule": body.get("schedule"),
        "suspend": bool(body.get("suspend", False)),
        "concurrency": bool(body.get("concurrency", False)),
        "status": {"lastJob": None, "nextJobRunAt": _iso(datetime.now(UTC) + timedelta(hours=1))},
        "owner": {"id": "u1", "name": namespace, "type": "user"},
    }


def install_hub_jobs(
    server: FakeHTTPServer,
    *,
    whoami: bool = True,
    initial_stage: str = "SCHEDULING",
) -> FakeJobStore:
    """Register the Jobs routes (and ``whoami-v2`` unless ``whoami=False``) on ``server``."""
    store = FakeJobStore(initial_stage=initial_stage)

    def authorised(req: FakeRequest) -> bool:
        return req.headers.get("authorization") == f"Bearer {TOKEN}"

    def unauthorised() -> FakeResponse:
        return FakeResponse.error(401, "Invalid credentials in Authorization header")

    def missing(what: str) -> FakeResponse:
        return FakeResponse.error(404, f"{what} not found")

    def job_of(req: FakeRequest) -> FakeJob | None:
        job = store.jobs.get(req.group("id"))
        return job if job is not None and job.namespace == req.group("ns") else None

    if whoami:

        @server.route("GET", r"/api/whoami-v2")
        def whoami_v2(req: FakeRequest) -> FakeResponse:
            if not authorised(req):
                return unauthorised()
            orgs = [{"name": org, "type": "org"} for org in ORGS]
            return FakeResponse.json(
                {"type": "user", "id": "u1", "name": USER, "fullname": "Test User", "orgs": orgs}
            )

    @server.route("POST", rf"/api/jobs/{_NS}")
    def run_job(req: FakeRequest) -> FakeResponse:
        if not authorised(req):
            return unauthorised()
        return FakeResponse.json(store._new(req.group("ns"), req.json()).info())

    @server.route("GET", rf"/api/jobs/{_NS}")
    def list_jobs(req: FakeRequest) -> FakeResponse:
        with store.cond:
            jobs = [j.info() for j in store.jobs.values() if j.namespace == req.group("ns")]
        return FakeResponse.json(jobs)

    @server.route("GET", rf"/api/jobs/{_NS}/{_ID}")
    def inspect_job(req: FakeRequest) -> FakeResponse:
        job = job_of(req)
        if job is None:
            return missing("Job")
        with store.cond:
            return FakeResponse.json(job.info())

    @server.route("POST", rf"/api/jobs/{_NS}/{_ID}/cancel")
    def cancel_job(req: FakeRequest) -> FakeResponse:
        job = job_of(req)
        if job is None:
            return missing("Job")
        if not job.final:
            store.set_stage(job.id, "CANCELED")
        return FakeResponse.json({})

    @server.route("GET", rf"/api/jobs/{_NS}/{_ID}/logs")
    def job_logs(req: FakeRequest) -> FakeResponse:
        job = job_of(req)
        if job is None:
            return missing("Job")
        tail = req.arg("tail")
        return FakeResponse.sse(store._stream(job, int(tail) if tail is not None else None))

    @server.route("POST", rf"/api/scheduled-jobs/{_NS}")
    def create_scheduled(req: FakeRequest) -> FakeResponse:
        if not authorised(req):
            return unauthorised()
        with store.cond:
            sid = f"sched{next(store._ids):04d}"
            store.scheduled[sid] = _scheduled_info(sid, req.group("ns"), req.json())
            return FakeResponse.json(store.scheduled[sid])

    @server.route("GET", rf"/api/scheduled-jobs/{_NS}")
    def list_scheduled(req: FakeRequest) -> FakeResponse:
        with store.cond:
            items = [s for s in store.scheduled.values() if s["owner"]["name"] == req.group("ns")]
        return FakeResponse.json(items)

    @server.route("GET", rf"/api/scheduled-jobs/{_NS}/{_ID}")
    def inspect_scheduled(req: FakeRequest) -> FakeResponse:
        item = store.scheduled.get(req.group("id"))
        return FakeResponse.json(item) if item else missing("Scheduled job")

    @server.route("DELETE", rf"/api/scheduled-jobs/{_NS}/{_ID}")
    def delete_scheduled(req: FakeRequest) -> FakeResponse:
        with store.cond:
            item = store.scheduled.pop(req.group("id"), None)
        return FakeResponse.json({}) if item else missing("Scheduled job")

    for action, suspended in (("suspend", True), ("resume", False)):

        def toggle(req: FakeRequest, suspended: bool = suspended) -> FakeResponse:
            with store.cond:
                item = store.scheduled.get(req.group("id"))
                if item is None:
                    return missing("Scheduled job")
                item["suspend"] = suspended
            return FakeResponse.json({})

        server.route("POST", rf"/api/scheduled-jobs/{_NS}/{_ID}/{action}")(toggle)

    return store


@contextmanager
def running_hub_jobs(**options: Any) -> Iterator[tuple[FakeHTTPServer, FakeJobStore]]:
    """A fake Hub serving the Jobs routes, closed (streams first) on exit."""
    server = FakeHTTPServer()
    store = install_hub_jobs(server, **options)
    try:
        yield server, store
    finally:
        store.close()
        server.close()


def hardware_entry(name: str, usd_per_minute: float, gpu: str | None = None) -> dict[str, Any]:
    """One ``GET /api/jobs/hardware`` item, in the Hub's own field names."""
    accelerator = (
        {"type": "gpu", "model": gpu, "quantity": "1", "vram": "24 GB", "manufacturer": "Nvidia"}
        if gpu
        else None
    )
    return {
        "name": name,
        "prettyName": name.upper(),
        "cpu": "8 vCPU",
        "ram": "32 GB",
        "ephemeralStorage": "100 GB",
        "accelerator": accelerator,
        "unitCostMicroUSD": round(usd_per_minute * 1_000_000),
        "unitCostUSD": usd_per_minute,
        "unitLabel": "minute",
    }


def install_hardware(server: FakeHTTPServer, items: list[dict[str, Any]]) -> None:
    """``GET /api/jobs/hardware``: the hardware list with prices (public, no token needed)."""

    @server.route("GET", r"/api/jobs/hardware")
    def hardware(req: FakeRequest) -> FakeResponse:
        return FakeResponse.json(items)
