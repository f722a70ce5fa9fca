"""Redaction as an attacker tries to slip secrets past it (issue #10, finding 8).

Each form a secret takes in tool arguments, command output, logs and dumps is hidden;
ordinary ML text is left exactly as it was; text streamed in pieces is redacted as if it
came whole, wherever the pieces are cut.
"""

from __future__ import annotations

import json
import random
import time

import pytest

from ml_intern_tui.core import known_secrets
from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.redact import may_hold_secret, redact, redact_text
from ml_intern_tui.core.redact_events import EventRedactor, redact_event
from ml_intern_tui.core.redact_stream import StreamRedactor

HF = "hf_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3f"
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\n"
    "aNHuRKYA6Yf0nD2zW0Jj4ABAb1HSUVIf3oW+uUz5wI5yA1JXHD5bo4L2BbsKxbPq\n"
    "-----END RSA PRIVATE KEY-----"
)


def test_a_value_that_runs_into_a_later_marker_is_still_hidden() -> None:
    # As in a journal: a JSON-encoded string, where line ends are the two characters \n.
    escaped = f"MY_SECRET=abc123\\nHF_TOKEN={HF}"
    assert redact_text(escaped) == "MY_SECRET=[REDACTED]\\nHF_TOKEN=[REDACTED_HF_TOKEN]"
    assert redact_text(escaped.replace("\\n", "\n")) == (
        "MY_SECRET=[REDACTED]\nHF_TOKEN=[REDACTED_HF_TOKEN]"
    )
    assert redact_text("API_KEY=x9y8z7[REDACTED] tail") == "API_KEY=[REDACTED] tail"


def test_dotenv_write_arguments_are_hidden_in_every_form() -> None:
    content = f'DB_PASSWORD=hunter2\nHF_TOKEN={HF}\nAPI_SECRET="two words"\nDEBUG=true\n'
    arguments = json.dumps({"path": ".env", "content": content})
    message = {
        "role": "assistant",
        "tool_calls": [{"id": "c1", "function": {"name": "write", "arguments": arguments}}],
    }
    record = {"kind": "message", "message": message}
    event = p.ToolCall(call_id="c1", tool="write", args={"path": ".env", "content": content})
    for scrubbed in (
        json.dumps(redact(record)),
        redact_event(event).model_dump_json(),
        redact_text(json.dumps(arguments)),  # doubly encoded: \\\" quotes, \\n line ends
    ):
        for secret in ("hunter2", HF, "two words"):
            assert secret not in scrubbed
        assert "DEBUG=true" in scrubbed


def test_nul_separated_environments_are_split() -> None:
    environ = "HOME=/root\0DB_PASSWORD=hunter2\0MY_TOKEN=opaque-value-1\0PATH=/usr/bin\0"
    assert redact_text(environ) == (
        "HOME=/root\0DB_PASSWORD=[REDACTED]\0MY_TOKEN=[REDACTED]\0PATH=/usr/bin\0"
    )


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("export DB_PASSWORD='s3cr3t pass'", "s3cr3t pass"),
        ('export API_KEY="abc def ghi"', "abc def ghi"),
        ("export MY_SECRET=abc123", "abc123"),
        ('{"api_key": "k-123456"}', "k-123456"),
        ('{\\"api_key\\": \\"k-123456\\"}', "k-123456"),
        ('{"apiKey": "k-123456", "accessToken": "t-98765"}', "t-98765"),
        ("hf_token: abcdef123", "abcdef123"),
        ("token: Zk3mQ9pL2xV7nB4cR8tY", "Zk3mQ9pL2xV7nB4cR8tY"),
        ("GET /v1/models?access_token=abc123def456&page=2", "abc123def456"),
        ("url: https://api.x.io/q?api_key=abc123def&x=1", "abc123def"),
        ("curl -H 'Authorization: Bearer eyJ0eXAiOiJKV1QiLCJh.abcdef' x", "eyJ0eXAiOiJKV1QiLCJh"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        ("authorization: token gho_abc123def456", "gho_abc123def456"),
        ("curl -u alice:s3cr3tpw https://api.example.com", "s3cr3tpw"),
        ("curl --user bob:pa55word https://x", "pa55word"),
        ("machine api.heroku.com login me@x.io password 0123abcd", "0123abcd"),
        ("MYSQL_PWD=sqlpass99 mysql -u root", "sqlpass99"),
        ("PGPASSWORD=pgpass99 psql", "pgpass99"),
        ("psql --password hunter22", "hunter22"),
        ("app --api-key=k3y-value-77", "k3y-value-77"),
        (
            "key = AIzaSyA1234567890abcdefghijklmnopqrstuv",
            "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        ),
        ("glpat-abcdefghij1234567890", "glpat-abcdefghij1234567890"),
        ("npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
        ("pypi-AgEIcHlwaS5vcmcCJGE0YmQ5ZDY1LTQ3ZTMtNGI4ZS05N2ZkLWQ", "AgEIcHlwaS5vcmc"),
        ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjtT1zdp7dc"),
        (f"key file:\n{PEM}\nend", "MIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn"),
        ("environ({'HF_TOKEN': 'opaque-1', 'MY_SERVICE_TOKEN': 'svc-value-2'})", "svc-value-2"),
        ("12345 pts/0 S python x.py HF_TOKEN=opaque-1 MY_SERVICE_TOKEN=svc-value-2", "svc-value-2"),
    ],
)
def test_attack_forms_are_hidden(text: str, secret: str) -> None:
    out = redact_text(text)
    assert secret not in out, out
    assert redact_text(out) == out  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "step 120: loss=0.23 grad_norm=1.04 learning_rate: 2e-5",
        "model.generate(max_new_tokens=256, max_tokens=512, num_beams=4)",
        "inputs = tokenizer(text, return_token_type_ids=True); token_type_ids = x",
        "tokenizer = AutoTokenizer.from_pretrained('bert-base-uncased')",
        'tokenizer.pad_token = tokenizer.eos_token; eos_token: "</s>"',
        "num_key_value_heads: 8\nkey_dim=64\nhead_dim: 128",
        '{"token_ids": [1, 2, 3], "token": " the", "logprob": -0.1}',
        "TOKENIZERS_PARALLELISM=false python train.py",
        "push_to_hub(use_auth_token=True, token=None)",
        "trainer --hub_token $HF_TOKEN --output_dir out",
        "docker run -u 1000:1000 -v /data:/data image",
        "OLDPWD=/home/me PWD=/home/me/project",
        "SSL_KEY_FILE=/etc/ssl/private/server.key",
        "The password policy and the secret sauce: keys, tokens and more.",
        "git push -u origin main:main",
    ],
)
def test_ordinary_ml_text_is_untouched(text: str) -> None:
    assert redact_text(text) == text


def test_known_values_are_hidden_whatever_their_shape() -> None:
    known_secrets.register("opaque-Value-9931", "MY_SERVICE_TOKEN")
    assert redact_text("echo opaque-Value-9931") == "echo [REDACTED_MY_SERVICE_TOKEN]"
    assert redact({"x": ["opaque-Value-9931"]}) == {"x": ["[REDACTED_MY_SERVICE_TOKEN]"]}
    assert not known_secrets.register("short", "X")  # too short to scrub safely


# ----------------------------------------------------------------- streaming

STREAM = (
    "Here is what I found in the environment.\n"
    f"HF_TOKEN={HF} and MY_SECRET=abc123 were set\n"
    "Authorization: Bearer abcdefghijklmnop1234567 in the log\n"
    f'DB_PASSWORD="correct horse battery" too\n{PEM}\n'
    "the service value opaque-Value-9931 was printed\n"
    "Plain words at the end without a newline"
)
FRAGMENTS = ["aB3dE5gH7", "abc123", "abcdefghijklmnop", "correct horse", "MIIEpAIBAAK", "Value-99"]


@pytest.mark.parametrize("seed", range(40))
def test_streamed_text_is_redacted_as_if_it_came_whole(seed: int) -> None:
    known_secrets.register("opaque-Value-9931", "MY_SERVICE_TOKEN")
    rng = random.Random(seed)
    stream = StreamRedactor(early=True)
    released: list[str] = []
    i = 0
    while i < len(STREAM):
        size = rng.randint(1, 9)
        released.append(stream.feed(STREAM[i : i + size]))
        i += size
        so_far = "".join(released)
        assert not any(fragment in so_far for fragment in FRAGMENTS), so_far
    released.append(stream.flush())
    assert "".join(released) == redact_text(STREAM)


def test_prose_streams_word_by_word_and_a_risky_line_waits() -> None:
    stream = StreamRedactor(early=True)
    assert stream.feed("The loss went") == "The loss "
    assert stream.feed(" down quickly") == "went down "
    assert stream.feed(" and HF_TOKEN=hf_abc") == ""  # a line that may hold a secret waits
    assert stream.feed("def and more ") == ""
    assert stream.feed("\nnext") == "quickly and HF_TOKEN=[REDACTED] and more \n"
    assert stream.flush() == "next"
    assert may_hold_secret("Bearer") and not may_hold_secret("the loss went down")


def test_split_deltas_never_show_a_fragment_and_join_to_the_redacted_text() -> None:
    redactor = EventRedactor()
    text = f"Your token is {HF} — keep it safe.\nDone."
    out: list[p.EventBase] = []
    for start in range(0, len(text), 4):
        out += redactor(p.AssistantDelta(text=text[start : start + 4]))
        out += redactor(p.JobLog(job_id="j", lines=["a log line mid-stream"]))  # no flush
        assert not any("aB3dE5" in getattr(e, "text", "") for e in out)
    out += redactor(p.AssistantMessage(text=text))
    deltas = "".join(e.text for e in out if isinstance(e, p.AssistantDelta))
    assert deltas == redact_text(text) == "Your token is [REDACTED_HF_TOKEN] — keep it safe.\nDone."
    final = out[-1]
    assert isinstance(final, p.AssistantMessage) and final.text == deltas
    first_job_log = next(i for i, e in enumerate(out) if isinstance(e, p.JobLog))
    assert first_job_log < len(out) - 2  # job lines went out while the answer streamed


def test_event_redaction_matches_the_journal() -> None:
    event = p.ToolResultEvent(call_id="c", ok=True, summary="ok", output=f"HF_TOKEN={HF}")
    scrubbed = redact_event(event)
    assert isinstance(scrubbed, p.ToolResultEvent)
    assert scrubbed.output == "HF_TOKEN=[REDACTED_HF_TOKEN]" and event.output.endswith(HF[-5:])
    clean = p.Notice(text="all good")
    assert redact_event(clean) is clean


@pytest.mark.parametrize(
    "text",
    [
        'PASSWORD=\\"' * 20_000,
        'PASSWORD=\\"' + "\\\\" * 50_000,
        "curl " * 30_000,
        "authorization: basic " * 10_000,
        "A_TOKEN=\x00" * 30_000,
        "-----BEGIN PRIVATE KEY-----\n" * 5_000,
    ],
)
def test_adversarial_input_stays_bounded(text: str) -> None:
    started = time.perf_counter()
    redact_text(text)
    stream = StreamRedactor(early=True)
    for start in range(0, min(len(text), 60_000), 7):
        stream.feed(text[start : start + 7])
    stream.flush()
    assert time.perf_counter() - started < 5.0
