"""A fake Slack on 127.0.0.1: incoming webhooks and the Web API's ``chat.postMessage``.

It answers as Slack does: a webhook replies ``200 ok`` (text) or an error code as text
with a 4xx status; ``chat.postMessage`` replies HTTP 200 with ``{"ok": true, ...}`` or
``{"ok": false, "error": ...}`` (bad token, unknown channel, no text, invalid blocks),
and rate limits are HTTP 429 with ``Retry-After``. Messages it accepts are kept in
``messages``; every request is in ``server.requests``::

    slack = FakeSlack()
    url = slack.webhook_url()                    # http://127.0.0.1:PORT/services/T0/B0/x
    slack.fail_next(429, retry_after=0)          # the next request is rate-limited
    slack.fail_next(200, error="internal_error") # then an ok:false answer
    ...
    assert slack.messages[0].text.startswith(":white_check_mark:")
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from fakes.http_server import FakeHTTPServer, FakeRequest, FakeResponse

BOT_TOKEN = "xoxb-1111-2222-fakebottoken"
CHANNELS = {"#ml": "C0ML", "C0ML": "C0ML", "#general": "C0GEN", "C0GEN": "C0GEN"}
WEBHOOK_PATH = "/services/T0FAKE/B0FAKE/"
TEXT_LIMIT = 40_000
SECTION_LIMIT = 3_000
MAX_BLOCKS = 50


@dataclass
class PostedMessage:
    """One message Slack accepted."""

    via: str
    """``webhook`` or ``api``."""
    text: str
    blocks: list[dict[str, Any]] | None
    channel: str | None
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def block_texts(self) -> list[str]:
        out = []
        for block in self.blocks or []:
            if block.get("type") == "section":
                out.append(block["text"]["text"])
            elif block.get("type") == "context":
                out.extend(e["text"] for e in block["elements"])
        return out


@dataclass
class _Fault:
    status: int
    error: str | None
    retry_after: str | None
    via: str | None


class FakeSlack:
    """The fake; ``api_base`` is what a destination's ``api_base`` should be."""

    def __init__(self) -> None:
        self.server = FakeHTTPServer()
        self.messages: list[PostedMessage] = []
        self.webhook_secrets = {"hookhookhook"}
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self.arrived = threading.Condition(self._lock)
        self._register()

    # ------------------------------------------------------------------ setup

    @property
    def api_base(self) -> str:
        return f"{self.server.base_url}/api"

    def webhook_url(self, secret: str = "hookhookhook") -> str:
        return f"{self.server.base_url}{WEBHOOK_PATH}{secret}"

    def fail_next(
        self,
        status: int,
        *,
        error: str | None = None,
        retry_after: float | str | None = None,
        via: str | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` requests (``via`` ``webhook``/``api``, or any) fail this way.

        ``status`` 200 with ``error`` is a Web API ``ok:false``; a webhook gets ``error``
        as its text body.
        """
        with self._lock:
            for _ in range(times):
                ra = None if retry_after is None else str(retry_after)
                self._faults.append(_Fault(status, error, ra, via))

    def requests(self, via: str | None = None) -> list[FakeRequest]:
        return [
            r
            for r in self.server.requests
            if via is None
            or (via == "webhook" and r.path.startswith(WEBHOOK_PATH))
            or (via == "api" and r.path.startswith("/api/"))
        ]

    def wait_for_messages(self, count: int, timeout: float = 10.0) -> list[PostedMessage]:
        """Block (the test's thread) until ``count`` messages were accepted."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)

    def close(self) -> None:
        self.server.close()

    def __enter__(self) -> FakeSlack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ routes

    def _fault_for(self, via: str) -> _Fault | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.via in (None, via):
                    return self._faults.pop(i)
        return None

    def _accept(self, message: PostedMessage) -> None:
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()

    def _register(self) -> None:
        server = self.server

        @server.route("POST", WEBHOOK_PATH + r"(?P<secret>[\w-]+)")
        def webhook(req: FakeRequest) -> FakeResponse:
            fault = self._fault_for("webhook")
            if fault is not None:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                text = fault.error or ("rate_limited" if fault.status == 429 else "error")
                return FakeResponse(
                    fault.status, text.encode(), {"Content-Type": "text/html", **headers}
                )
            if req.group("secret") not in self.webhook_secrets:
                return FakeResponse.text("no_service", 404, "text/html")
            try:
                body = req.json()
            except ValueError:
                return FakeResponse.text("invalid_payload", 400, "text/html")
            problem = _check_payload(body)
            if problem:
                return FakeResponse.text(problem, 400, "text/html")
            self._accept(
                PostedMessage("webhook", body.get("text", ""), body.get("blocks"), None, body)
            )
            return FakeResponse.text("ok", 200, "text/html")

        @server.route("POST", r"/api/chat\.postMessage")
        def post_message(req: FakeRequest) -> FakeResponse:
            fault = self._fault_for("api")
            if fault is not None:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                if fault.status == 200:
                    return FakeResponse.json({"ok": False, "error": fault.error or "fatal_error"})
                data = {"ok": False, "error": fault.error or "ratelimited"}
                return FakeResponse.json(data, fault.status, headers)
            auth = req.headers.get("authorization", "")
            if not auth:
                return FakeResponse.json({"ok": False, "error": "not_authed"})
            if auth != f"Bearer {BOT_TOKEN}":
                return FakeResponse.json({"ok": False, "error": "invalid_auth"})
            try:
                body = json.loads(req.body or b"{}")
            except ValueError:
                return FakeResponse.json({"ok": False, "error": "invalid_json"})
            channel = CHANNELS.get(str(body.get("channel")))
            if channel is None:
                return FakeResponse.json({"ok": False, "error": "channel_not_found"})
            problem = _check_payload(body)
            if problem:
                return FakeResponse.json({"ok": False, "error": problem})
            self._accept(
                PostedMessage(
                    "api", body.get("text", ""), body.get("blocks"), channel, body, req.headers
                )
            )
            return FakeResponse.json(
                {"ok": True, "channel": channel, "ts": f"1700000000.{len(self.messages):06d}"}
            )


def _check_payload(body: Any) -> str | None:
    """Slack's own checks on what a message may hold (the error code, or ``None``)."""
    if not isinstance(body, dict):
        return "invalid_payload"
    text, blocks = body.get("text"), body.get("blocks")
    if not text and not blocks:
        return "no_text"
    if isinstance(text, str) and len(text) > TEXT_LIMIT:
        return "msg_too_long"
    if blocks is not None:
        if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
            return "invalid_blocks"
        for block in blocks:
            if block.get("type") == "section":
                if len(block.get("text", {}).get("text", "")) > SECTION_LIMIT:
                    return "invalid_blocks"
            elif block.get("type") == "context":
                if len(block.get("elements", [])) > 10:
                    return "invalid_blocks"
            else:
                return "invalid_blocks"
    return None
