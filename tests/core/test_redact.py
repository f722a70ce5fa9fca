"""Secret scrubbing: every credential form is hidden, ordinary text is left alone."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from ml_intern_tui.core.redact import contains_redaction, redact, redact_text

HF = "hf_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3f"
ANTHROPIC = "sk-ant-api03-" + "Xy7_abcdEFGH1234ijklMNOP5678qrst-uvwx"
OPENAI = "sk-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3Ab4Cd5Ef6"
OPENAI_PROJ = "sk-proj-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3_Ab4-Cd5Ef6"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDRLw0oK4X3MVxX3b0a8m6x0vP1Hn6R1TqQ2cX9+2f8zAAAAJg3E+6ANxPu\n"
    "-----END OPENSSH PRIVATE KEY-----"
)


@pytest.mark.parametrize(
    ("text", "secret", "marker"),
    [
        (f"export X={HF} now", HF, "[REDACTED_HF_TOKEN]"),
        (f"key {ANTHROPIC} here", ANTHROPIC, "[REDACTED_ANTHROPIC_KEY]"),
        (f"key {OPENAI} here", OPENAI, "[REDACTED_API_KEY]"),
        (f"key {OPENAI_PROJ} here", OPENAI_PROJ, "[REDACTED_API_KEY]"),
        (
            "push with ghp_abcdefghijklmnopqrstuvwxyz0123456789AB",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB",
            "[REDACTED_GITHUB_TOKEN]",
        ),
        (
            "gho_abcdefghijklmnopqrstuvwxyz0123456789AB",
            "gho_abcdefghijklmnopqrstuvwxyz0123456789AB",
            "[REDACTED_GITHUB_TOKEN]",
        ),
        (
            "ghs_abcdefghijklmnopqrstuvwxyz0123456789AB ",
            "ghs_abcdefghijklmnopqrstuvwxyz0123456789AB",
            "[REDACTED_GITHUB_TOKEN]",
        ),
        (
            "ghu_abcdefghijklmnopqrstuvwxyz0123456789AB ghr_abcdefghijklmnopqrstuvwxyz0123456789AB",
            "ghr_abcdefghijklmnopqrstuvwxyz0123456789AB",
            "[REDACTED_GITHUB_TOKEN]",
        ),
        (
            "github_pat_11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789abcdefghijklmnopqrstuvw",
            "github_pat_11ABCDEFG0aBcDeFgHiJkL",
            "[REDACTED_GITHUB_TOKEN]",
        ),
        ("id AKIAIOSFODNN7EXAMPLE.", "AKIAIOSFODNN7EXAMPLE", "[REDACTED_AWS_KEY_ID]"),
        ("id ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A", "[REDACTED_AWS_KEY_ID]"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = [REDACTED_AWS_SECRET]",
        ),
        (
            "SLACK_BOT=xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp",
            "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp",
            "[REDACTED_SLACK_TOKEN]",
        ),
        (
            "xoxp-2222-3333-4444-abcdef0123",
            "xoxp-2222-3333-4444-abcdef0123",
            "[REDACTED_SLACK_TOKEN]",
        ),
        ("xoxa-2-abcdef0123456789", "xoxa-2-abcdef0123456789", "[REDACTED_SLACK_TOKEN]"),
        (
            "app xapp-1-A0123456-1234567890-abcdef0123",
            "xapp-1-A0123456-1234567890-abcdef0123",
            "[REDACTED_SLACK_TOKEN]",
        ),
        (
            "post to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX ok",
            "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "[REDACTED_SLACK_WEBHOOK] ok",
        ),
        (
            "Authorization: Bearer abc.DEF-ghi_jkl123456789",
            "abc.DEF-ghi_jkl123456789",
            "Authorization: Bearer [REDACTED]",
        ),
        (f"before\n{PEM}\nafter", "b3BlbnNzaC1rZXktdjEA", "before\n[REDACTED_PRIVATE_KEY]\nafter"),
        (f"token={JWT};", JWT, "[REDACTED_JWT]"),
        (
            "clone https://alice:S3cr3t!pw@example.com/repo.git",
            "S3cr3t!pw",
            "https://alice:[REDACTED]@example.com/repo.git",
        ),
        (
            "DATABASE_URL=postgres://bob:hunter2@db:5432/app",
            "hunter2",
            "postgres://bob:[REDACTED]@db:5432/app",
        ),
        (
            "cache at redis://:r3disPass@cache:6379/0",
            "r3disPass",
            "redis://:[REDACTED]@cache:6379/0",
        ),
        (
            "https://bob@corp.com:pw1x@host/x",
            "pw1x",
            "https://bob@corp.com:[REDACTED]@host/x",
        ),
        ("https://u:p@ss-w0rd@host/path", "ss-w0rd", "https://u:[REDACTED]@host/path"),
        (
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF0x3Q0BCADJ8k2m\n"
            "-----END PGP PRIVATE KEY BLOCK-----",
            "lQOYBF0x3Q0BCADJ8k2m",
            "[REDACTED_PRIVATE_KEY]",
        ),
        ("GPG_PASSPHRASE=open-sesame-42", "open-sesame-42", "GPG_PASSPHRASE=[REDACTED]"),
        ("gpg --passphrase s3same", "s3same", "--passphrase [REDACTED]"),
        ("HF_TOKEN=abc123def", "abc123def", "HF_TOKEN=[REDACTED]"),
        ("OPENAI_API_KEY: 'some-key-value'", "some-key-value", "OPENAI_API_KEY: '[REDACTED]'"),
        ('db_password = "correct horse"', "correct horse", 'db_password = "[REDACTED]"'),
        ("MY_APIKEY=zzz999", "zzz999", "MY_APIKEY=[REDACTED]"),
        ("CLIENT_SECRET=shh-its-hidden", "shh-its-hidden", "CLIENT_SECRET=[REDACTED]"),
        ("smtp_passwd: qwerty", "qwerty", "smtp_passwd: [REDACTED]"),
        ("AWS_ACCESS_KEY=abcdEFGH", "abcdEFGH", "AWS_ACCESS_KEY=[REDACTED]"),
        ("SIGNING_PRIVATE_KEY=base64stuff", "base64stuff", "SIGNING_PRIVATE_KEY=[REDACTED]"),
        ('{"api_key": "abc-secret"}', "abc-secret", '{"api_key": "[REDACTED]"}'),
        ("X-Api-Key: k3y-val", "k3y-val", "X-Api-Key: [REDACTED]"),
        ("cli --token S3cretValue12345678xyz", "S3cretValue12345678xyz", "--token [REDACTED]"),
    ],
)
def test_secret_forms_are_hidden(text: str, secret: str, marker: str) -> None:
    out = redact_text(text)
    assert secret not in out
    assert marker in out
    assert contains_redaction(out)


@pytest.mark.parametrize(
    "text",
    [
        "The tokenizer splits words into tokens; ask a secretary for the password policy.",
        "commit 3f786850e387550fdab836ed7e6dc881de23001b fixes it",
        "data: aGVsbG8gd29ybGQgdGhpcyBpcyBqdXN0IGJhc2U2NCBkYXRhIG5vdCBhIHNlY3JldA==",
        "eyJhbGciOiJIUzI1NiJ9 alone is not a token",
        "generate(max_tokens=512, max_new_tokens=256) and num_tokens: 300",
        "tokenizer.pad_token = tokenizer.eos_token",
        "pad_token_id: 0",
        '{"token": " the", "logprob": -0.12}',
        "hf_token: str | None = None",
        "token = os.environ['HF_TOKEN']",
        'api_key = os.getenv("OPENAI_API_KEY")',
        "HF_TOKEN=${HF_TOKEN}",
        "password=<your-password>",
        "password: None",
        "pip install scikit-learn; sk-learn-tutorial-for-absolute-beginners",
        "uses hf_hub_download from huggingface_hub",
        "see https://huggingface.co/docs and ssh://git@github.com/org/repo",
        "serve on http://localhost:8080/x?y=1 or http://[::1]:8080/",
        "text http://a:b with c@d, mail a@b.com: https://x.org/",
        "a bearer of good news",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
        "python train.py --lr 3e-4 --epochs 3 --max-new-tokens 128",
        "",
    ],
)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert redact_text(text) == text
    assert not contains_redaction(text)


def test_several_secrets_in_one_text() -> None:
    text = f"{HF} and {OPENAI} and AKIAIOSFODNN7EXAMPLE"
    out = redact_text(text)
    assert out == "[REDACTED_HF_TOKEN] and [REDACTED_API_KEY] and [REDACTED_AWS_KEY_ID]"


def test_redaction_is_idempotent() -> None:
    text = f"HF_TOKEN={HF} https://u:p4ss@h/ Bearer abcdefghijklmnop1234 {JWT} {PEM}"
    once = redact_text(text)
    assert redact_text(once) == once


def test_pem_block_with_literal_newline_escapes() -> None:
    text = '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----\\n"}'
    out = redact_text(text)
    assert "MIIEvQIBADANBg" not in out
    assert "[REDACTED_PRIVATE_KEY]" in out


def test_truncated_pem_block_is_hidden() -> None:
    out = redact_text("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3\nqweRTY12")
    assert "MIIEpAIBAAKCAQEA0Z3" not in out


def test_nested_structures_are_scrubbed_without_mutation() -> None:
    value: dict[str, Any] = {
        "messages": [
            {"role": "user", "content": f"my token is {HF}"},
            {"role": "tool", "content": ("ok", f"Bearer {OPENAI}")},
        ],
        "env": {"GITHUB_TOKEN": "plain-value-without-a-prefix", "PATH": "/usr/bin"},
        "count": 3,
        "ratio": 0.5,
        "flag": None,
    }
    original = copy.deepcopy(value)
    out = redact(value)
    assert value == original
    assert out["messages"][0]["content"] == "my token is [REDACTED_HF_TOKEN]"
    assert isinstance(out["messages"][1]["content"], tuple)
    assert HF not in str(out) and OPENAI not in str(out)
    assert out["env"] == {"GITHUB_TOKEN": "[REDACTED]", "PATH": "/usr/bin"}
    assert (out["count"], out["ratio"], out["flag"]) == (3, 0.5, None)


def test_secret_named_dict_keys_keep_harmless_values() -> None:
    out = redact({"pad_token": "<pad>", "token": "short", "api_key": None, "hf_token": ""})
    assert out == {"pad_token": "<pad>", "token": "short", "api_key": None, "hf_token": ""}


def test_plain_string_and_other_types() -> None:
    assert redact(f"x {HF}") == "x [REDACTED_HF_TOKEN]"
    assert redact(42) == 42
    assert redact([f"{HF}"]) == ["[REDACTED_HF_TOKEN]"]


def test_contains_redaction() -> None:
    assert contains_redaction("a [REDACTED] b")
    assert contains_redaction("[REDACTED_HF_TOKEN]")
    assert not contains_redaction("[redacted] or REDACTED")


@pytest.mark.parametrize(
    ("unit", "times"),
    [
        ("sk-", 50_000),
        ("ab://", 30_000),
        ("password-", 20_000),
        ("eyJaaaaaaaaaa.", 12_000),
        ("a://b:", 25_000),
    ],
)
def test_adversarial_input_stays_linear(unit: str, times: int) -> None:
    text = unit * times
    started = time.perf_counter()
    redact_text(text)
    assert time.perf_counter() - started < 3.0
