"""Posting Slack messages through slack_sdk's async clients, with bounded retries.

Two ways in: an incoming webhook (``AsyncWebhookClient``; Slack answers ``ok``) or the Web
API's ``chat.postMessage`` with a bot token and a channel (``AsyncWebClient``; Slack
answers HTTP 200 with ``{"ok": false, "error": ...}`` for logical errors). slack_sdk's
retry handlers retry rate limits (HTTP 429), server errors and connection errors; ours
subclass them so the wait follows the app's one ``core.retry.RetryPolicy`` (``Retry-After`` honoured but
capped, exponential backoff otherwise) and every retry of a message counts against one
bound. Transient ``ok: false`` answers (``ratelimited``, ``internal_error``) are retried
the same way. Anything else fails at once with one line saying what to fix; tokens and
webhook URLs never appear in those lines.

slack_sdk (and aiohttp) are imported on first use: building the app must not pay for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ml_intern_tui.core.retry import RetryPolicy, retry_after_seconds
from ml_intern_tui.integrations.slack import DEFAULT_API_BASE, SlackMessage

Sleep = Callable[[float], Awaitable[Any]]


@dataclass(frozen=True)
class SlackTarget:
    """Where a message goes: a webhook URL, or a bot token and a channel."""

    webhook_url: str | None = None
    token: str | None = field(default=None, repr=False)
    channel: str | None = None
    api_base: str = DEFAULT_API_BASE
    username: str | None = None
    icon_emoji: str | None = None

    def __repr__(self) -> str:  # never show the secrets
        kind = "webhook" if self.webhook_url else f"chat.postMessage {self.channel}"
        return f"SlackTarget({kind})"

    def scrub(self, text: str) -> str:
        """``text`` with this target's secrets replaced (errors can quote URLs)."""
        for secret, label in ((self.webhook_url, "<webhook URL>"), (self.token, "<token>")):
            if secret:
                text = text.replace(secret, label)
        return text


class SlackError(Exception):
    """A message that could not be posted; the text is one line for a person."""

    def __init__(
        self, message: str, *, retryable: bool, retry_after: float | None = None, code: str = ""
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.code = code


RETRYABLE_API_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable",
     "request_timeout"}
)  # fmt: skip
_HINTS = {
    "invalid_auth": "check the bot token",
    "not_authed": "check the bot token",
    "token_revoked": "the bot token was revoked; make a new one",
    "account_inactive": "the bot token belongs to a deactivated app or user",
    "channel_not_found": "check the channel name or id",
    "not_in_channel": "invite the bot to the channel (/invite @your-bot)",
    "is_archived": "the channel is archived",
    "channel_is_archived": "the channel is archived",
    "missing_scope": "give the bot the chat:write scope",
    "no_service": "the webhook URL is not valid any more; create a new webhook",
    "invalid_token": "the webhook URL is not valid any more; create a new webhook",
    "action_prohibited": "an admin has restricted this webhook",
    "posting_to_general_channel_denied": "only admins may post to this channel",
}
_BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format", "invalid_payload"})


def _retry_after(headers: dict[str, Any]) -> float | None:
    """``Retry-After`` from slack_sdk's response headers (values may be lists)."""
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    return retry_after_seconds(raw[0] if isinstance(raw, list) and raw else raw)


def _refused(code: str, status: int | None = None) -> str:
    where = f"HTTP {status}: " if status is not None else ""
    hint = _HINTS.get(code)
    return f"Slack refused the message ({where}{code})" + (f"; {hint}" if hint else "")


class _Budget:
    """The attempts of one message, shared by every retry handler and the ``ok: false`` loop."""

    def __init__(self, policy: RetryPolicy, sleep: Sleep) -> None:
        self.policy = policy
        self.sleep = sleep
        self.used = 1

    def left(self) -> bool:
        return self.used < self.policy.attempts

    async def wait(self, retry_after: float | None = None) -> None:
        delay = self.policy.delay(self.used, retry_after)
        self.used += 1
        await self.sleep(delay)


def _handlers(budget: _Budget) -> list[Any]:
    """slack_sdk's retry handlers for 429, server errors and connection errors, waiting
    by ``budget`` (its built-in rate-limit handler would wait any ``Retry-After``)."""
    import aiohttp
    from slack_sdk.http_retry.builtin_async_handlers import (
        AsyncConnectionErrorRetryHandler,
        AsyncRateLimitErrorRetryHandler,
        AsyncServerErrorRetryHandler,
    )

    class Bounded:
        async def can_retry_async(self, **kwargs: Any) -> bool:
            return budget.left() and bool(await self._can_retry_async(**kwargs))  # type: ignore[attr-defined]

        async def prepare_for_next_attempt_async(
            self, *, state: Any, request: Any, response: Any = None, error: Any = None
        ) -> None:
            state.next_attempt_requested = True
            headers = response.headers if response is not None else {}
            await budget.wait(_retry_after(headers))
            state.increment_current_attempt()

    class RateLimit(Bounded, AsyncRateLimitErrorRetryHandler):
        pass

    class ServerError(Bounded, AsyncServerErrorRetryHandler):
        async def _can_retry_async(self, *, response: Any = None, **_: Any) -> bool:
            return response is not None and response.status_code >= 500

    class Connection(Bounded, AsyncConnectionErrorRetryHandler):
        pass

    unreachable: list[type[Exception]] = [aiohttp.ClientConnectionError, asyncio.TimeoutError]
    return [RateLimit(), ServerError(), Connection(error_types=unreachable)]


class SlackClient:
    """Posts messages to Slack through slack_sdk (a client per message: retries are per
    message, and nothing is held open between notifications)."""

    def __init__(
        self,
        *,
        retry: RetryPolicy | None = None,
        timeout_s: float = 10.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.retry = retry or RetryPolicy(jitter=0.1)
        self.timeout_s = timeout_s
        self._sleep = sleep

    async def aclose(self) -> None:
        """Nothing to close: each message's client session ends with the message."""

    async def send(self, target: SlackTarget, message: SlackMessage) -> int:
        """Post ``message``, retrying what may pass later; returns the attempts used.

        Raises :class:`SlackError` once the attempts are spent or on a refusal. If Slack
        rejects the blocks, the message is sent once more as plain text.
        """
        budget = _Budget(self.retry, self._sleep)
        payload = message.payload()
        while True:
            try:
                await self._post(target, payload, budget)
                return budget.used
            except SlackError as exc:
                if exc.code in _BLOCK_ERRORS and "blocks" in payload:
                    payload = message.payload(blocks=False)
                    continue
                if not exc.retryable or not budget.left():
                    raise
                await budget.wait(exc.retry_after)

    async def _post(self, target: SlackTarget, payload: dict[str, Any], budget: _Budget) -> None:
        """One request (slack_sdk retrying transport trouble); a :class:`SlackError` says
        whether a later try may help."""
        import aiohttp

        try:
            if target.webhook_url:
                await self._webhook(target, payload, budget)
            else:
                await self._web_api(target, payload, budget)
        except TimeoutError as exc:
            raise SlackError("Slack did not answer in time", retryable=True) from exc
        except aiohttp.ClientError as exc:
            detail = target.scrub(str(exc) or type(exc).__name__)[:200]
            raise SlackError(f"cannot reach Slack ({detail})", retryable=True) from exc

    def _timeout(self) -> int:
        return max(1, round(self.timeout_s))

    async def _webhook(self, target: SlackTarget, payload: dict[str, Any], budget: _Budget) -> None:
        from slack_sdk.webhook.async_client import AsyncWebhookClient

        assert target.webhook_url is not None
        client = AsyncWebhookClient(
            target.webhook_url, timeout=self._timeout(), retry_handlers=_handlers(budget)
        )
        response = await client.send_dict(dict(payload))
        status = response.status_code
        if status == 200:
            return
        _raise_for_status(status, _retry_after(dict(response.headers or {})))
        code = target.scrub(str(response.body or "").strip())[:80] or "error"
        raise SlackError(_refused(code, status), retryable=False, code=code)

    async def _web_api(self, target: SlackTarget, payload: dict[str, Any], budget: _Budget) -> None:
        from slack_sdk.errors import SlackApiError
        from slack_sdk.web.async_client import AsyncWebClient

        client = AsyncWebClient(
            token=target.token,
            base_url=f"{target.api_base.rstrip('/')}/",
            timeout=self._timeout(),
            retry_handlers=_handlers(budget),
        )
        extra = {
            key: getattr(target, key) for key in ("username", "icon_emoji") if getattr(target, key)
        }
        try:
            await client.chat_postMessage(
                channel=target.channel or "",
                **payload,
                unfurl_links=False,
                unfurl_media=False,
                **extra,
            )
        except SlackApiError as exc:
            status = int(getattr(exc.response, "status_code", 0) or 0)
            _raise_for_status(status, _retry_after(dict(exc.response.headers or {})))
            data = getattr(exc.response, "data", None)
            if not isinstance(data, dict):
                raise SlackError(
                    f"Slack answered HTTP {status} without JSON", retryable=status == 200
                ) from None
            code = str(data.get("error") or f"http_{status}")
            raise SlackError(
                _refused(code), retryable=code in RETRYABLE_API_ERRORS, code=code
            ) from None


def _raise_for_status(status: int, retry_after: float | None) -> None:
    """A rate limit or server error slack_sdk's handlers did not get past (they spent the
    budget, or, for webhooks, slack_sdk retries 429 only): :meth:`SlackClient.send` tries
    again while the message's budget lasts."""
    if status == 429:
        raise SlackError("Slack is rate-limiting", retryable=True, retry_after=retry_after)
    if status >= 500:
        raise SlackError(
            f"Slack server error (HTTP {status})", retryable=True, retry_after=retry_after
        )
