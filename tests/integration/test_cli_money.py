"""The real command against the fake router: budgets, exit codes, unknown ids, unpriced."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.http_server import FakeHTTPServer
from fakes.openai_server import Reply
from fakes.router_server import FakeRouter
from integration.test_cli import cli, events_of

from ml_intern_tui.core import protocol as p
from ml_intern_tui.headless import TextPrinter, spend_line


@pytest.fixture
def router_env() -> Iterator[tuple[FakeRouter, dict[str, str]]]:
    with FakeRouter() as router, FakeHTTPServer() as hub:
        env = {
            "HF_TOKEN": "hf_fake_router_token",
            "HF_ENDPOINT": hub.base_url,
            "ML_INTERN_LLM__HF_ROUTER_BASE": router.base_url,
            "ML_INTERN_LLM__MAX_RETRIES": "1",
            "ML_INTERN_LLM__RETRY_BASE_DELAY_S": "0.01",
        }
        yield router, env


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def test_budget_stops_with_exit_3_after_the_call_that_crosses_it(
    router_env: tuple[FakeRouter, dict[str, str]], tmp_path: Path
) -> None:
    router, env = router_env
    read = ("read", json.dumps({"path": "missing.txt"}))
    # $0.0055 per call on novita: the second call crosses $0.01
    router.enqueue(*[Reply(text="", tool_calls=[read], usage=usage(5000, 1000)) for _ in range(5)])
    proc = cli(
        ["--budget", "0.01", "--mode", "auto", "-p", "keep reading", "--json"],
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 3, proc.stderr
    assert router.requests_count == 2
    spends = [e for e in events_of(proc.stdout) if e.type == "spend"]
    assert spends[-1].llm_usd == pytest.approx(0.011) and spends[-1].unpriced_calls == 0
    assert "budget" in proc.stderr.splitlines()[-1]


def test_unknown_router_model_is_one_line_and_exit_2(
    router_env: tuple[FakeRouter, dict[str, str]], tmp_path: Path
) -> None:
    router, env = router_env
    proc = cli(["--model", "moonshotai/Kimi-K2.7", "-p", "hi"], cwd=tmp_path, env=env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "moonshotai/Kimi-K2.7" in lines[0] and "did you mean moonshotai/Kimi-K2.6" in lines[0]
    assert router.requests_count == 0


def test_unpriced_model_with_a_budget_says_so_and_never_reports_zero(
    router_env: tuple[FakeRouter, dict[str, str]], tmp_path: Path
) -> None:
    router, env = router_env
    router.enqueue(Reply(text="hello", usage=usage(4000, 50)))
    proc = cli(
        ["--model", "Qwen/Qwen3-Coder-480B-A35B-Instruct", "--budget", "3", "-p", "hi", "--json"],
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    events = events_of(proc.stdout)
    warnings = [e.text for e in events if e.type == "notice" and e.level == "warning"]
    assert any("no known price" in w and "$3.00 budget" in w for w in warnings)
    spend = [e for e in events if e.type == "spend"][-1]
    assert spend.unpriced_calls == 1 and spend.prompt_tokens == 4000


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_text_mode_prints_spend_for_a_person_and_never_zero_for_unpriced() -> None:
    out, err = io.StringIO(), Tty()
    printer = TextPrinter(out, err, streaming=True)
    printer(p.Spend(llm_usd=0.0, jobs_usd=0.0, unpriced_calls=2, prompt_tokens=10))
    printer(p.TurnComplete(final_text="", iterations=2))
    assert "· spent unpriced (2 model calls with no known price)" in err.getvalue()
    assert "$0.00" not in err.getvalue()
    assert spend_line(p.Spend(llm_usd=0.5, jobs_usd=0.0, unpriced_calls=1)) == (
        "$0.50 + 1 unpriced model call"
    )
    cached = p.Spend(llm_usd=0.0042, jobs_usd=0.0, prompt_tokens=1000, cached_tokens=900)
    assert spend_line(cached) == "$0.0042, 90% of input from cache"
