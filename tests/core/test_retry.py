"""The one retry helper: bounded, Retry-After honoured but capped, jittered, cancellable."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from ml_intern_tui.core.retry import RetryPolicy, Transient, retry_after_seconds, with_retries


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class GaveUp(Exception):
    pass


def _give_up(last: Transient, attempts: int) -> Exception:
    return GaveUp(f"{last} after {attempts} attempts")


async def test_transient_failures_are_retried_then_the_answer_comes_back() -> None:
    answers: list[object] = [Transient("503"), Transient("429", retry_after=7), "ok"]

    async def request() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    sleeps = Sleeps()
    policy = RetryPolicy(attempts=3, base_delay_s=0.5)
    assert await with_retries(request, policy, give_up=_give_up, sleep=sleeps) == "ok"
    assert sleeps.delays == [0.5, 7.0]


async def test_attempts_are_bounded_and_other_errors_are_not_retried() -> None:
    calls = 0

    async def busy() -> None:
        nonlocal calls
        calls += 1
        raise Transient("server error HTTP 503")

    sleeps = Sleeps()
    with pytest.raises(GaveUp, match=r"^server error HTTP 503 after 4 attempts$"):
        await with_retries(busy, RetryPolicy(max_delay_s=3), give_up=_give_up, sleep=sleeps)
    assert calls == 4 and sleeps.delays == [1.0, 2.0, 3.0]

    async def refused() -> None:
        raise ValueError("HTTP 401")

    with pytest.raises(ValueError):
        await with_retries(refused, RetryPolicy(), give_up=_give_up, sleep=sleeps)
    assert len(sleeps.delays) == 3


def test_jitter_spreads_backoff_but_stays_under_the_cap() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=10.0, jitter=0.5)
    delays = [policy.delay(2) for _ in range(200)]
    assert all(2.0 <= d <= 3.0 for d in delays) and len(set(delays)) > 1
    assert all(policy.delay(9) == 10.0 for _ in range(20))
    assert policy.delay(1, retry_after=5) == 5  # the server's word is taken as given


def test_retry_after_in_seconds_or_as_a_date_and_a_hostile_one_is_capped() -> None:
    assert retry_after_seconds("7") == 7.0 and retry_after_seconds("-3") == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < (retry_after_seconds(later) or 0) <= 30
    assert RetryPolicy(max_retry_after_s=60).delay(1, retry_after=10**9) == 60


async def test_cancelling_the_wait_ends_the_call_without_another_try() -> None:
    calls = 0

    async def busy() -> None:
        nonlocal calls
        calls += 1
        raise Transient("429", retry_after=3600)

    policy = RetryPolicy(max_retry_after_s=3600)
    task = asyncio.create_task(with_retries(busy, policy, give_up=_give_up))
    for _ in range(100):
        if calls:
            break
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert calls == 1
