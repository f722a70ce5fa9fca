"""Slack: Markdown → mrkdwn, payload limits, and the client's retries against a fake Slack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.slack_api import BOT_TOKEN, FakeSlack

from ml_intern_tui.core.retry import RetryPolicy
from ml_intern_tui.integrations.slack import SlackMessage, split_sections, to_mrkdwn, truncate
from ml_intern_tui.integrations.slack_client import SlackClient, SlackError, SlackTarget


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


class Sleeps:
    """Records the delays the client asks for instead of waiting them out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def client(sleeps: Sleeps, **retry: float) -> SlackClient:
    return SlackClient(retry=RetryPolicy(**retry), sleep=sleeps, timeout_s=5)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- mrkdwn


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("**bold** and __also bold__", "*bold* and *also bold*"),
        ("*italic* and _italic_", "_italic_ and _italic_"),
        ("***both***", "*_both_*"),
        ("~~gone~~", "~gone~"),
        ("see [the docs](https://hf.co/docs)", "see <https://hf.co/docs|the docs>"),
        ("[q](https://x.io/?a=1&b=2)", "<https://x.io/?a=1&amp;b=2|q>"),
        ("[https://x.io](https://x.io)", "<https://x.io>"),
        ("[train.py](train.py)", "train.py (train.py)"),
        ("# Results\n## Next steps ##", "*Results*\n*Next steps*"),
        ("- one\n* two\n+ three\n  - nested", "• one\n• two\n• three\n  • nested"),
        ("- [ ] todo\n- [x] done", "☐ todo\n☑ done"),
        ("1. first\n2. second", "1. first\n2. second"),
        ("a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"),
        ("> a quote with **bold**", "> a quote with *bold*"),
        ("snake_case_name, 2 * 3 * 4", "snake_case_name, 2 * 3 * 4"),
        ("`**not bold** <x>`", "`**not bold** &lt;x&gt;`"),
    ],
)
def test_markdown_becomes_slack_mrkdwn(markdown: str, expected: str) -> None:
    assert to_mrkdwn(markdown) == expected


def test_code_blocks_are_kept_verbatim_with_entities_escaped() -> None:
    markdown = "Run:\n```python\nif a < b and **c**:\n    print('_x_ & ~~y~~')\n```\nDone **now**."
    assert to_mrkdwn(markdown) == (
        "Run:\n```\nif a &lt; b and **c**:\n    print('_x_ &amp; ~~y~~')\n```\nDone *now*."
    )


def test_slack_entities_pass_but_broadcasts_do_not() -> None:
    text = "ask <@U12AB> in <#C0ML|ml> see <https://x.io|x>; <!channel> <!here> <b>"
    assert to_mrkdwn(text) == (
        "ask <@U12AB> in <#C0ML|ml> see <https://x.io|x>; &lt;!channel&gt; &lt;!here&gt; &lt;b&gt;"
    )


def test_urls_keep_their_underscores() -> None:
    text = "see https://github.com/a/b/blob/main/__init__.py and *this*"
    assert to_mrkdwn(text) == "see https://github.com/a/b/blob/main/__init__.py and _this_"


def test_tables_become_aligned_code_blocks() -> None:
    table = "| model | acc |\n|---|---:|\n| **bert** | 0.91 |\n| roberta-large | 0.93 |\n\nok"
    assert to_mrkdwn(table) == (
        "```\nmodel          acc\nbert           0.91\nroberta-large  0.93\n```\n\nok"
    )


def test_long_text_is_split_into_sections_with_code_fences_balanced() -> None:
    code = "\n".join(f"line {i} <tag> & more" for i in range(400))
    text = to_mrkdwn("intro\n```\n" + code + "\n```\noutro")
    pieces = split_sections(text, 2900)
    assert len(pieces) > 3
    assert all(len(p) <= 2900 for p in pieces)
    assert all(p.count("```") % 2 == 0 for p in pieces)
    assert pieces[1].startswith("```\n") and pieces[0].endswith("\n```")
    # Nothing lost but the fences added at the cuts.
    joined = "\n".join(pieces)
    assert joined.count("<tag>") == 0 and joined.count("&lt;tag&gt;") == 400


@pytest.mark.parametrize(("room", "kept"), [(115, "x" * 95 + "&amp;"), (98, "x" * 95)])
def test_truncation_says_so_and_never_cuts_an_entity(room: int, kept: str) -> None:
    text = "x" * 95 + "&amp;" + "<https://example.com/a|link>" + "y" * 200
    cut = truncate(text, room + 60)  # 60: room for the "not shown" line
    head, note = cut.split("\n", 1)
    assert head == kept
    assert note == f"_… ({len(text) - len(kept):,} more characters not shown)_"


def test_payload_fits_slack_limits() -> None:
    message = SlackMessage("Big", "word " * 20_000, "info", context="session `s1`")
    payload = message.payload()
    assert len(payload["text"]) <= 39_000
    sections = [b for b in payload["blocks"] if b["type"] == "section"]
    assert 2 <= len(sections) <= 40
    assert all(len(b["text"]["text"]) <= 3000 for b in sections)
    assert payload["blocks"][-1]["type"] == "context"
    assert payload["blocks"][0]["text"]["text"].startswith(":information_source: *Big*\n")


# ----------------------------------------------------------------------------- client


async def test_webhook_posts_text_and_blocks(slack: FakeSlack) -> None:
    target = SlackTarget(webhook_url=slack.webhook_url())
    message = SlackMessage("Turn complete", "**Accuracy** 0.91", "success", "model `m`")
    sleeps = Sleeps()
    attempts = await client(sleeps).send(target, message)
    assert attempts == 1 and sleeps.delays == []
    (posted,) = slack.messages
    assert posted.via == "webhook"
    assert posted.text == ":white_check_mark: *Turn complete*\n*Accuracy* 0.91\nmodel `m`"
    assert posted.block_texts() == [
        ":white_check_mark: *Turn complete*\n*Accuracy* 0.91",
        "model `m`",
    ]
    (request,) = slack.requests("webhook")
    assert request.headers["content-type"] == "application/json;charset=utf-8"  # slack_sdk's
    assert "authorization" not in request.headers


async def test_web_api_posts_with_bearer_token_and_channel(slack: FakeSlack) -> None:
    target = SlackTarget(
        token=BOT_TOKEN, channel="#ml", api_base=slack.api_base, username="intern",
        icon_emoji=":robot_face:",
    )  # fmt: skip
    await client(Sleeps()).send(target, SlackMessage("Hello", "from *the* agent"))
    (posted,) = slack.messages
    assert posted.via == "api" and posted.channel == "C0ML"
    assert posted.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    body = posted.body
    assert body["channel"] == "#ml" and body["username"] == "intern"
    assert body["icon_emoji"] == ":robot_face:"
    assert body["unfurl_links"] is False and body["unfurl_media"] is False
    assert body["text"] == ":information_source: *Hello*\nfrom _the_ agent"


async def test_rate_limit_honours_retry_after(slack: FakeSlack) -> None:
    slack.fail_next(429, retry_after=7, via="api")
    slack.fail_next(429, retry_after=120, via="api")
    target = SlackTarget(token=BOT_TOKEN, channel="C0ML", api_base=slack.api_base)
    sleeps = Sleeps()
    attempts = await client(sleeps, max_retry_after_s=60).send(target, SlackMessage("hi"))
    assert attempts == 3
    assert sleeps.delays == [7.0, 60.0]  # as Slack asked; an absurd wait is capped
    assert len(slack.messages) == 1 and len(slack.requests("api")) == 3


async def test_server_errors_back_off_exponentially_with_a_cap_then_give_up(
    slack: FakeSlack,
) -> None:
    slack.fail_next(500, via="webhook", times=10)
    target = SlackTarget(webhook_url=slack.webhook_url())
    sleeps = Sleeps()
    slack_client = client(sleeps, attempts=5, base_delay_s=1.0, max_delay_s=5.0)
    with pytest.raises(SlackError) as caught:
        await slack_client.send(target, SlackMessage("hi"))
    assert str(caught.value) == "Slack server error (HTTP 500)"
    assert sleeps.delays == [1.0, 2.0, 4.0, 5.0]
    assert len(slack.requests("webhook")) == 5 and slack.messages == []


async def test_ok_false_transient_errors_are_retried(slack: FakeSlack) -> None:
    slack.fail_next(200, error="internal_error", via="api")
    slack.fail_next(200, error="ratelimited", via="api")
    target = SlackTarget(token=BOT_TOKEN, channel="#ml", api_base=slack.api_base)
    sleeps = Sleeps()
    assert await client(sleeps, base_delay_s=0.5).send(target, SlackMessage("hi")) == 3
    assert sleeps.delays == [0.5, 1.0]


@pytest.mark.parametrize(
    ("target_kwargs", "expected"),
    [
        (
            {"token": "xoxb-wrong-token-123", "channel": "#ml"},
            "Slack refused the message (invalid_auth); check the bot token",
        ),
        (
            {"token": BOT_TOKEN, "channel": "#nope"},
            "Slack refused the message (channel_not_found); check the channel name or id",
        ),
    ],
)
async def test_logical_errors_fail_at_once_with_a_hint(
    slack: FakeSlack, target_kwargs: dict[str, str], expected: str
) -> None:
    target = SlackTarget(api_base=slack.api_base, **target_kwargs)
    sleeps = Sleeps()
    with pytest.raises(SlackError) as caught:
        await client(sleeps).send(target, SlackMessage("hi"))
    assert str(caught.value) == expected
    assert sleeps.delays == [] and len(slack.requests()) == 1
    assert "xoxb" not in str(caught.value)


async def test_dead_webhook_fails_at_once_without_showing_the_url(slack: FakeSlack) -> None:
    target = SlackTarget(webhook_url=slack.webhook_url("revoked"))
    with pytest.raises(SlackError) as caught:
        await client(Sleeps()).send(target, SlackMessage("hi"))
    message = str(caught.value)
    assert message.startswith("Slack refused the message (HTTP 404: no_service)")
    assert "revoked" not in message and "127.0.0.1" not in message


async def test_unreachable_slack_is_retried_then_reported(slack: FakeSlack) -> None:
    url = slack.webhook_url()
    slack.close()  # nothing listens on that port any more
    sleeps = Sleeps()
    with pytest.raises(SlackError) as caught:
        await client(sleeps, attempts=3).send(SlackTarget(webhook_url=url), SlackMessage("hi"))
    assert caught.value.retryable and len(sleeps.delays) == 2
    assert str(caught.value).startswith("cannot reach Slack")
    assert url not in str(caught.value)


async def test_rejected_blocks_fall_back_to_plain_text(slack: FakeSlack) -> None:
    slack.fail_next(200, error="invalid_blocks", via="api")
    target = SlackTarget(token=BOT_TOKEN, channel="#ml", api_base=slack.api_base)
    await client(Sleeps()).send(target, SlackMessage("hi", "body"))
    (posted,) = slack.messages
    assert posted.blocks is None and posted.text == ":information_source: *hi*\nbody"
    first, second = slack.requests("api")
    assert "blocks" in first.json() and "blocks" not in second.json()


async def test_a_huge_message_is_accepted_by_slack(slack: FakeSlack) -> None:
    body = "\n\n".join(f"## Part {i}\n" + "`code` & text " * 300 for i in range(20))
    target = SlackTarget(webhook_url=slack.webhook_url())
    await client(Sleeps()).send(target, SlackMessage("Report", body))
    (posted,) = slack.messages  # the fake applies Slack's size limits
    assert len(posted.text) <= 40_000 and "more characters not shown" in posted.text


def test_retry_policy_delays() -> None:
    policy = RetryPolicy(base_delay_s=1, max_delay_s=8, max_retry_after_s=30)
    assert [policy.delay(n) for n in range(1, 6)] == [1, 2, 4, 8, 8]
    assert policy.delay(1, retry_after=3) == 3 and policy.delay(1, retry_after=999) == 30
    assert policy.delay(1, retry_after=-5) == 0


def test_target_repr_hides_secrets() -> None:
    target = SlackTarget(token=BOT_TOKEN, channel="#ml")
    assert BOT_TOKEN not in repr(target) and "#ml" in repr(target)
    assert target.scrub(f"bad {BOT_TOKEN}") == "bad <token>"


async def test_web_api_server_errors_are_retried_by_the_sdk_handlers(slack: FakeSlack) -> None:
    slack.fail_next(503, via="api", times=2)
    target = SlackTarget(token=BOT_TOKEN, channel="#ml", api_base=slack.api_base)
    sleeps = Sleeps()
    assert await client(sleeps, base_delay_s=0.5).send(target, SlackMessage("hi")) == 3
    assert sleeps.delays == [0.5, 1.0]
    assert len(slack.requests("api")) == 3 and len(slack.messages) == 1


async def test_a_webhook_rate_limit_waits_as_asked_but_never_past_the_cap(slack: FakeSlack) -> None:
    slack.fail_next(429, retry_after=3600, via="webhook")
    target = SlackTarget(webhook_url=slack.webhook_url())
    sleeps = Sleeps()
    assert await client(sleeps, max_retry_after_s=20).send(target, SlackMessage("hi")) == 2
    assert sleeps.delays == [20.0] and len(slack.messages) == 1
