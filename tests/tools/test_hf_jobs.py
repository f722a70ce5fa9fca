"""``hf_jobs`` against the fake Jobs API: every operation, bad input, failures, approvals."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes.http_server import FakeHTTPServer
from fakes.hub_jobs import USER, FakeJobStore, running_hub_jobs

from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.core.approval import ApprovalPolicy
from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.tool import (
    BadArguments,
    ToolContext,
    ToolError,
    ToolResult,
    parse_arguments,
)
from ml_intern_tui.integrations.hub import NO_TOKEN, HubClient
from ml_intern_tui.jobs.registry import JobRegistry
from ml_intern_tui.tools.hf_jobs import HfJobsTool
from ml_intern_tui.tools.hf_jobs_args import HfJobsArgs

Wait = Callable[..., Awaitable[None]]
TRAIN = """from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained("gpt2")
print("training")
"""
TRAIN_PUSH = TRAIN + 'model.push_to_hub("tester/gpt2-ft")\n'


@pytest.fixture
def fake() -> Iterator[tuple[FakeHTTPServer, FakeJobStore]]:
    with running_hub_jobs() as both:
        yield both


@pytest.fixture
def server(fake: tuple[FakeHTTPServer, FakeJobStore]) -> FakeHTTPServer:
    return fake[0]


@pytest.fixture
def store(fake: tuple[FakeHTTPServer, FakeJobStore]) -> FakeJobStore:
    return fake[1]


@pytest.fixture
def hf_ctx(ctx: ToolContext, server: FakeHTTPServer, registry: JobRegistry) -> ToolContext:
    ctx.services = replace(
        ctx.services, hub=HubClient(server.base_url, token="hf_fake"), jobs=registry
    )
    return ctx


tool = HfJobsTool(poll_interval_s=0.05)


def args(**raw: Any) -> HfJobsArgs:
    parsed = parse_arguments(tool, raw)
    assert isinstance(parsed, HfJobsArgs)
    return parsed


async def call(ctx: ToolContext, **raw: Any) -> ToolResult:
    return await tool.run(args(**raw), ctx)


def sent(server: FakeHTTPServer, path: str = rf"/api/jobs/{USER}") -> dict[str, Any]:
    body: dict[str, Any] = server.calls("POST", path)[-1].json()
    return body


# ---------------------------------------------------------------------------- run


async def test_run_inline_script_returns_at_once_and_joins_the_registry(
    hf_ctx: ToolContext, server: FakeHTTPServer, store: FakeJobStore, registry: JobRegistry
) -> None:
    started = time.monotonic()
    result = await call(
        hf_ctx, operation="run", script=TRAIN_PUSH, dependencies=["transformers"],
        flavor="a10g-large", timeout="2h",
    )  # fmt: skip
    assert time.monotonic() - started < 5  # the job is still scheduling: run did not wait
    job = store.last()
    assert result.ok and result.data is not None and result.data["job_id"] == job.id
    assert f"{server.base_url}/jobs/{USER}/{job.id}" in result.output
    assert "a10g-large" in result.output and "$4.00" in result.output and "2h" in result.output
    body = sent(server)
    assert body["dockerImage"].startswith("ghcr.io/astral-sh/uv")
    assert body["flavor"] == "a10g-large" and body["timeoutSeconds"] == 7200
    assert body["secrets"] == {"HF_TOKEN": "hf_fake"}
    assert body["environment"]["PYTHONUNBUFFERED"] == "1"
    shell = body["command"][-1]
    assert base64.b64encode(TRAIN_PUSH.encode()).decode() in shell
    assert "--with transformers" in shell and "--python 3.12" in shell
    record = registry.require(job.id)
    assert record.kind == "hf" and record.status == "scheduling" and record.flavor == "a10g-large"
    assert "hf_fake" not in result.output + result.summary + record.title


async def test_run_follows_logs_to_completion(
    hf_ctx: ToolContext, store: FakeJobStore, registry: JobRegistry, wait_until: Wait
) -> None:
    result = await call(hf_ctx, operation="run", script="print('hi')", flavor="t4-small")
    job_id = result.data["job_id"] if result.data else ""
    store.set_stage(job_id, "RUNNING")
    store.log(job_id, "hi")
    await wait_until(lambda: list(registry.require(job_id).tail) == ["hi"], what="the log line")
    store.complete(job_id, running_secs=600)
    done = await call(hf_ctx, operation="wait", job_id=job_id, wait_timeout_s=10)
    assert done.summary == f"{job_id} completed"
    assert "$0.10" in done.output and "hi" in done.output  # t4-small $0.60/h x 10 min


async def test_run_script_by_url_and_from_a_local_file(
    hf_ctx: ToolContext, server: FakeHTTPServer, project: Path, registry: JobRegistry
) -> None:
    url = "https://example.org/sft.py"
    await call(hf_ctx, operation="run", script=url, dependencies=["trl", "peft"], python="3.11")
    assert sent(server)["command"] == [
        "uv",
        "run",
        "--with",
        "trl",
        "--with",
        "peft",
        "--python",
        "3.11",
        url,
    ]
    (project / "train.py").write_text("print('from file')\n")
    result = await call(hf_ctx, operation="run", script="train.py")
    assert base64.b64encode(b"print('from file')\n").decode() in sent(server)["command"][-1]
    assert registry.require((result.data or {})["job_id"]).title == "train.py · cpu-basic"


async def test_run_docker_mode(hf_ctx: ToolContext, server: FakeHTTPServer) -> None:
    result = await call(
        hf_ctx,
        operation="run",
        image="python:3.12",
        command=["python", "-c", "print(1)"],
        timeout=600,
    )
    body = sent(server)
    assert body["dockerImage"] == "python:3.12" and body["command"] == ["python", "-c", "print(1)"]
    assert body["timeoutSeconds"] == 600 and body["flavor"] == "cpu-basic"
    assert result.ok


async def test_run_under_an_org_and_refuses_a_foreign_namespace(
    hf_ctx: ToolContext, server: FakeHTTPServer
) -> None:
    await call(hf_ctx, operation="run", script="print(1)", namespace="acme")
    assert server.calls("POST", r"/api/jobs/acme")
    with pytest.raises(ToolError, match="not yours"):
        await call(hf_ctx, operation="run", script="print(1)", namespace="someone-else")


async def test_secrets_are_sent_but_never_shown(
    hf_ctx: ToolContext,
    server: FakeHTTPServer,
    store: FakeJobStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WANDB_API_KEY", "wandb-secret-value")
    monkeypatch.setenv("MY_OTHER", "other-secret-value")
    raw = {
        "operation": "run", "script": "print(1)", "flavor": "a10g-small",
        "secrets": {"WANDB_API_KEY": "", "OTHER": "$MY_OTHER", "LIT": "literal-secret-value",
                    "HF_TOKEN": "model-made-up"},
        "env": {"MODE": "fast"},
    }  # fmt: skip
    request = tool.approval(args(**raw), hf_ctx)
    result = await call(hf_ctx, **raw)
    body = sent(server)
    assert body["secrets"] == {
        "WANDB_API_KEY": "wandb-secret-value", "OTHER": "other-secret-value",
        "LIT": "literal-secret-value", "HF_TOKEN": "hf_fake",
    }  # fmt: skip
    assert request is not None
    assert (
        "WANDB_API_KEY" in request.details
        and "OTHER" in request.details
        and "MODE" in request.details
    )
    inspected = await call(hf_ctx, operation="inspect", job_id=store.last().id)
    assert "WANDB_API_KEY" in inspected.output
    shown = " ".join(
        [request.title, request.details, result.output, result.summary, inspected.output]
    )
    for secret in ("wandb-secret-value", "other-secret-value", "literal-secret-value", "hf_fake"):
        assert secret not in shown


async def test_a_secret_missing_locally_is_a_clear_error(
    hf_ctx: ToolContext, server: FakeHTTPServer
) -> None:
    with pytest.raises(ToolError, match="local environment has no NOPE"):
        await call(hf_ctx, operation="run", script="print(1)", secrets={"NOPE": ""})
    assert not server.calls("POST", rf"/api/jobs/{USER}")


# ----------------------------------------------------------------- read-only ops


async def test_ps_lists_jobs_as_a_table(hf_ctx: ToolContext, store: FakeJobStore) -> None:
    running = store.add(stage="RUNNING", flavor="a100-large")
    done = store.add(stage="COMPLETED", flavor="cpu-upgrade")
    result = await call(hf_ctx, operation="ps")
    assert result.summary == "2 jobs · 1 active"
    rows = result.output.splitlines()
    assert "STAGE" in rows[1] and "FLAVOR" in rows[1] and "CREATED" in rows[1]
    line = next(r for r in rows if r.startswith(running.id))
    assert "RUNNING" in line and "a100-large" in line
    assert any(r.startswith(done.id) and "COMPLETED" in r for r in rows)


async def test_logs_of_an_unfollowed_job_are_fetched_and_cut_to_the_tail(
    hf_ctx: ToolContext, store: FakeJobStore
) -> None:
    job = store.add(stage="RUNNING")
    store.log(job.id, *[f"line {i}" for i in range(100)])
    result = await call(hf_ctx, operation="logs", job_id=job.id, lines=5)
    assert result.output.splitlines()[1:] == [f"line {i}" for i in range(95, 100)]


async def test_logs_of_a_followed_job_come_from_the_registry(
    hf_ctx: ToolContext,
    server: FakeHTTPServer,
    store: FakeJobStore,
    registry: JobRegistry,
    wait_until: Wait,
) -> None:
    job_id = (await call(hf_ctx, operation="run", script="print(1)")).summary.split()[0]
    store.set_stage(job_id, "RUNNING")
    store.log(job_id, "one", "two", "three")
    await wait_until(lambda: len(registry.require(job_id).tail) == 3, what="lines")
    tail_requests = len(
        [r for r in server.calls("GET", rf"/api/jobs/{USER}/{job_id}/logs") if r.arg("tail")]
    )
    result = await call(hf_ctx, operation="logs", job_id=job_id, lines=2)
    assert result.output.splitlines()[1:] == ["two", "three"]
    assert "last 2 of 3 lines" in result.output
    after = [r for r in server.calls("GET", rf"/api/jobs/{USER}/{job_id}/logs") if r.arg("tail")]
    assert len(after) == tail_requests  # no extra fetch


async def test_inspect_summarises_the_job(hf_ctx: ToolContext, store: FakeJobStore) -> None:
    job = store.add(stage="RUNNING", flavor="l4x1", environment={"EPOCHS": "3"})
    result = await call(hf_ctx, operation="inspect", job_id=job.id)
    assert result.summary == f"{job.id} running"
    for text in (
        "stage: RUNNING",
        "flavor: l4x1",
        "image: python:3.12",
        "env: EPOCHS",
        f"/jobs/{USER}/{job.id}",
    ):
        assert text in result.output


async def test_wait_on_an_unfollowed_job_polls_until_it_ends(
    hf_ctx: ToolContext, server: FakeHTTPServer, store: FakeJobStore, wait_until: Wait
) -> None:
    job = store.add(stage="RUNNING", flavor="cpu-basic")
    waiter = asyncio.create_task(call(hf_ctx, operation="wait", job_id=job.id, wait_timeout_s=10))
    inspected = rf"/api/jobs/{USER}/{job.id}"
    await wait_until(lambda: len(server.calls("GET", inspected)) >= 2, what="polling")
    assert not waiter.done()
    store.complete(job.id, running_secs=3600)
    result = await asyncio.wait_for(waiter, 10)
    assert result.summary == f"{job.id} completed"
    assert "cost $0.05" in result.output


async def test_wait_gives_up_after_its_timeout(
    hf_ctx: ToolContext, store: FakeJobStore, recorder: Any
) -> None:
    job = store.add(stage="RUNNING")
    result = await call(hf_ctx, operation="wait", job_id=job.id, wait_timeout_s=1)
    assert result.summary == f"{job.id} still running"
    assert "wait again" in result.output
    assert recorder.progress and "waiting" in recorder.progress[0]


async def test_cancel_an_unfollowed_job(
    hf_ctx: ToolContext, server: FakeHTTPServer, store: FakeJobStore
) -> None:
    job = store.add(stage="RUNNING")
    result = await call(hf_ctx, operation="cancel", job_id=job.id)
    assert server.calls("POST", rf"/api/jobs/{USER}/{job.id}/cancel")
    assert store.jobs[job.id].stage == "CANCELED" and "cancel requested" in result.output


async def test_cancel_a_followed_job_goes_through_the_registry(
    hf_ctx: ToolContext, server: FakeHTTPServer, store: FakeJobStore, registry: JobRegistry
) -> None:
    job_id = (await call(hf_ctx, operation="run", script="print(1)")).summary.split()[0]
    store.set_stage(job_id, "RUNNING")
    result = await call(hf_ctx, operation="cancel", job_id=job_id)
    assert server.calls("POST", rf"/api/jobs/{USER}/{job_id}/cancel")
    assert (
        registry.require(job_id).status == "cancelled" and result.summary == f"{job_id} cancelled"
    )
    again = await call(hf_ctx, operation="cancel", job_id=job_id)
    assert "already" in again.summary


# -------------------------------------------------------------------- scheduled


async def test_scheduled_jobs_lifecycle(
    hf_ctx: ToolContext, server: FakeHTTPServer, store: FakeJobStore
) -> None:
    created = await call(
        hf_ctx,
        operation="scheduled run",
        script="print('nightly')",
        schedule="@daily",
        flavor="cpu-upgrade",
    )
    body = sent(server, rf"/api/scheduled-jobs/{USER}")
    assert body["schedule"] == "@daily" and body["jobSpec"]["flavor"] == "cpu-upgrade"
    assert body["jobSpec"]["secrets"] == {"HF_TOKEN": "hf_fake"} and "hf_fake" not in created.output
    sid = (created.data or {})["scheduled_job_id"]
    listed = await call(hf_ctx, operation="scheduled ps")
    assert sid in listed.output and "@daily" in listed.output and "active" in listed.output
    await call(hf_ctx, operation="scheduled suspend", job_id=sid)
    assert store.scheduled[sid]["suspend"] is True
    inspected = await call(hf_ctx, operation="scheduled inspect", job_id=sid)
    assert "suspended" in inspected.output and "secrets: HF_TOKEN" in inspected.output
    await call(hf_ctx, operation="scheduled_resume", job_id=sid)  # spelling is normalised
    assert store.scheduled[sid]["suspend"] is False
    deleted = await call(hf_ctx, operation="scheduled delete", job_id=sid)
    assert deleted.summary == f"{sid} deleted" and sid not in store.scheduled
    assert (await call(hf_ctx, operation="scheduled ps")).summary == "no scheduled jobs"


# ------------------------------------------------------------ bad input, failures


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"operation": "run", "script": "print(1)", "flavor": "a10g"}, "close matches: a10g-small"),
        ({"operation": "run", "script": "print(1)", "flavor": "gpu-huge"}, "unknown flavor"),
        ({"operation": "run"}, "needs script"),
        ({"operation": "run", "script": "print(1)", "timeout": "two hours"}, "not a duration"),
        ({"operation": "run", "script": "print(1)", "timeout": "0"}, "not a duration"),
        ({"operation": "run", "command": ["python"]}, "needs image"),
        ({"operation": "run", "script": "x", "command": ["y"], "image": "z"}, "not both"),
        ({"operation": "logs"}, "needs job_id"),
        ({"operation": "scheduled run", "script": "print(1)"}, "needs schedule"),
        ({"operation": "run", "script": "print(1)", "env": {"BAD-NAME": "1"}}, "variable names"),
        ({"operation": "launch"}, "operation"),
        ({"operation": "ps", "hardware": "a10g-small"}, "hardware"),
    ],
)
def test_bad_arguments_are_clear(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(BadArguments, match=message):
        parse_arguments(tool, raw)


async def test_a_missing_script_file_is_a_clear_error(hf_ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="not a file"):
        await call(hf_ctx, operation="run", script="missing.py")


@pytest.mark.parametrize(
    ("raw", "method", "path"),
    [
        ({"operation": "run", "script": "print(1)"}, "POST", rf"/api/jobs/{USER}"),
        ({"operation": "ps"}, "GET", rf"/api/jobs/{USER}"),
        ({"operation": "scheduled ps"}, "GET", rf"/api/scheduled-jobs/{USER}"),
    ],
)
async def test_a_server_error_is_a_one_line_failure(
    hf_ctx: ToolContext, server: FakeHTTPServer, raw: dict[str, Any], method: str, path: str
) -> None:
    server.fail_next(method, path, 500, "jobs backend is down")
    with pytest.raises(ToolError) as caught:
        await call(hf_ctx, **raw)
    message = str(caught.value)
    assert "\n" not in message and "500" in message and "jobs backend is down" in message


async def test_payment_required_explains_itself(
    hf_ctx: ToolContext, server: FakeHTTPServer
) -> None:
    server.fail_next("POST", rf"/api/jobs/{USER}", 402, "Payment required")
    with pytest.raises(ToolError, match="payment required"):
        await call(hf_ctx, operation="run", script="print(1)", flavor="a10g-small")


async def test_an_unknown_job_id_says_so(hf_ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="no job 'nope'"):
        await call(hf_ctx, operation="inspect", job_id="nope")


async def test_without_a_token_every_operation_says_how_to_fix_it(
    ctx: ToolContext, server: FakeHTTPServer
) -> None:
    ctx.services = replace(
        ctx.services, hub=HubClient(server.base_url, token=None, token_from_env=False)
    )
    for raw in ({"operation": "ps"}, {"operation": "run", "script": "print(1)"}):
        with pytest.raises(ToolError) as caught:
            await call(ctx, **raw)
        assert str(caught.value) == NO_TOKEN
    with pytest.raises(ToolError, match="no Hugging Face token"):
        tool.approval(args(operation="run", script="print(1)", flavor="a10g-large"), ctx)
    assert not server.requests


# -------------------------------------------------------------------- approvals


@pytest.mark.parametrize(
    "operation",
    ["ps", "logs", "inspect", "wait", "cancel", "scheduled ps", "scheduled inspect"],
)
def test_read_only_and_cancel_never_ask(hf_ctx: ToolContext, operation: str) -> None:
    assert tool.approval(args(operation=operation, job_id="j1"), hf_ctx) is None


@pytest.mark.parametrize(
    ("flavor", "timeout", "cost", "risk", "title"),
    [
        ("cpu-basic", "30m", 0.025, "medium", "HF job on cpu-basic · $0.05/h · 30m max ≈ $0.03"),
        ("a10g-large", "2h", 4.00, "high", "HF job on a10g-large · $2.00/h · 2h max ≈ $4.00"),
        ("h200", "90m", 15.00, "high", "HF job on h200 · $10.00/h · 1h30m max ≈ $15.00"),
        ("a100x8", "1d", 768.00, "high", "HF job on a100x8 · $32.00/h · 1d max ≈ $768.00"),
        ("t4-small", 5400, 0.90, "high", "HF job on t4-small · $0.60/h · 1h30m max ≈ $0.90"),
        ("rtx-pro-6000", "1h", None, "high", "HF job on rtx-pro-6000 · price unknown · 1h max"),
    ],
)
def test_run_asks_for_spend_with_the_worst_case(
    hf_ctx: ToolContext, flavor: str, timeout: str | int, cost: float | None, risk: str, title: str
) -> None:
    request = tool.approval(
        args(operation="run", script=TRAIN_PUSH, flavor=flavor, timeout=timeout), hf_ctx
    )
    assert request is not None
    assert request.kind == "spend" and request.risk == risk and request.title == title
    assert request.cost_estimate_usd == (pytest.approx(cost) if cost is not None else None)
    assert request.operation == "run" and request.scope_value == flavor == request.scope_pattern
    assert f"flavor: {flavor}" in request.details and "timeout:" in request.details
    assert "mode: script" in request.details and "model.push_to_hub" in request.details
    assert "push_to_hub:" not in request.details  # no warning: the script pushes


def test_run_details_show_spend_budget_and_a_lost_results_warning(hf_ctx: ToolContext) -> None:
    spend = SpendTracker(llm_usd=0.42)
    spend.set_job_cost("old", 1.0)
    hf_ctx.services = replace(hf_ctx.services, spend=spend, settings=AppConfig(budget_usd=5.0))
    request = tool.approval(
        args(
            operation="run", script=TRAIN, flavor="a10g-large", timeout="2h", dependencies=["trl"]
        ),
        hf_ctx,
    )
    assert request is not None
    details = request.details
    assert "session spend so far: $1.42" in details
    assert "budget: $5.00 · remaining $3.58" in details
    assert "exceeds the remaining budget" in details
    assert "never calls push_to_hub" in details
    assert (
        "dependencies: trl" in details
        and "price: $2.00/h" in details
        and "worst-case cost: $4.00" in details
    )
    docker = tool.approval(
        args(operation="run", image="python:3.12", command=["python", "x.py"]), hf_ctx
    )
    assert (
        docker is not None
        and "mode: docker" in docker.details
        and "command: python x.py" in docker.details
    )


def test_script_preview_is_cut(hf_ctx: ToolContext) -> None:
    script = "\n".join(f"print({i})" for i in range(100))
    request = tool.approval(args(operation="run", script=script), hf_ctx)
    assert request is not None
    assert "print(39)" in request.details and "print(40)" not in request.details
    assert "60 more lines" in request.details


@pytest.mark.parametrize("operation", ["scheduled delete", "scheduled suspend", "scheduled resume"])
def test_scheduled_changes_always_need_a_person(hf_ctx: ToolContext, operation: str) -> None:
    request = tool.approval(args(operation=operation, job_id="s1"), hf_ctx)
    assert request is not None and request.kind == "manual"
    policy = ApprovalPolicy("yolo", budget_usd=None, spend=SpendTracker())
    assert policy.decide("hf_jobs", request).action == "ask"


def test_scheduled_run_is_manual_with_its_cost_per_run(hf_ctx: ToolContext) -> None:
    request = tool.approval(
        args(
            operation="scheduled run",
            script="print(1)",
            schedule="@hourly",
            flavor="a10g-small",
            timeout="1h",
        ),
        hf_ctx,
    )
    assert request is not None and request.kind == "manual"
    assert request.cost_estimate_usd == pytest.approx(1.0)
    assert "@hourly" in request.title and "per run" in request.details
    policy = ApprovalPolicy("yolo", budget_usd=None, spend=SpendTracker())
    assert policy.decide("hf_jobs", request).action == "ask"
    assert (
        policy.decide("hf_jobs", tool.approval(args(operation="scheduled ps"), hf_ctx)).action
        == "run"
    )


def test_the_schema_comes_from_the_arguments_model() -> None:
    spec = tool.spec()["function"]
    assert spec["name"] == "hf_jobs"
    props = spec["parameters"]["properties"]
    assert "scheduled resume" in props["operation"]["enum"]
    for name in (
        "script",
        "dependencies",
        "image",
        "command",
        "flavor",
        "timeout",
        "secrets",
        "schedule",
    ):
        assert props[name]["description"]
