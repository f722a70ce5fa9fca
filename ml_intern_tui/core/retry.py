"""One retry policy for the HTTP clients: bounded attempts, exponential backoff with jitter,
``Retry-After`` honoured but capped, and cancellable (a cancelled wait ends the call).

A client wraps one request in :func:`with_retries`; the request raises :class:`Transient`
for what may pass later (429, 5xx, a dropped connection), any other exception for what
will not. Once the attempts are spent the last :class:`Transient` is handed to
``give_up``, which turns it into the client's own one-line error.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[object]]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one request is retried."""

    attempts: int = 4
    """Tries in all (the first included)."""
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    max_retry_after_s: float = 60.0
    """A ``Retry-After`` longer than this is shortened (the attempts stay bounded)."""
    jitter: float = 0.0
    """Up to this fraction is added at random to a backoff delay, so clients that failed
    together do not come back together (``Retry-After`` is taken as given)."""

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1, 2, ...)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after_s)
        backoff = float(min(self.base_delay_s * 2.0 ** (retry - 1), self.max_delay_s))
        if self.jitter > 0:
            backoff = min(backoff * (1.0 + random.uniform(0.0, self.jitter)), self.max_delay_s)
        return backoff


class Transient(Exception):
    """A failure that may pass if the request is tried again (after ``retry_after``)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(value: object) -> float | None:
    """A ``Retry-After`` header value (seconds or an HTTP date) in seconds, or ``None``."""
    if value is None or value == "":
        return None
    try:
        return max(float(str(value)), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)


async def with_retries(
    request: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    give_up: Callable[[Transient, int], Exception],
    sleep: Sleep = asyncio.sleep,
) -> T:
    """``await request()``, again after each :class:`Transient` while attempts are left.

    ``give_up(last, attempts)`` makes the error raised when they are spent.
    """
    attempt = 1
    while True:
        try:
            return await request()
        except Transient as exc:
            if attempt >= policy.attempts:
                raise give_up(exc, attempt) from exc
            await sleep(policy.delay(attempt, exc.retry_after))
            attempt += 1
