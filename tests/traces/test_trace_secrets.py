"""No secret of a listed form survives a trace export or upload (nor the journal or /export).

A journal is written *by hand*, unscrubbed (as an older version, or a bug, might have left
it), with every form below in every place a trace shows: what the user typed, the
assistant's text, its reasoning (as a message field and as a journaled reasoning event),
tool-call arguments (valid JSON and not), tool output and a compaction summary. It is
exported to a file and uploaded to a fake Hub; each form is then looked for in the file,
in every string of every line, and in every byte the Hub received (file contents and
pre-upload samples decoded from base64).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import hub_repos
from fakes.http_server import FakeHTTPServer
from fakes.hub_jobs import TOKEN, USER, install_hub_jobs

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.core.journal import Journal
from ml_intern_tui.core.transcript import Transcript
from ml_intern_tui.integrations.hub import HubClient
from ml_intern_tui.services.traces import TraceOptions, TraceUploader
from ml_intern_tui.traces.export import write_trace
from ml_intern_tui.traces.queue import UploadQueue

SID = "20260301-101500-5ec2e7"
PEM_BODY = "MIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn8ygWyF8PbnGy0AHB7MbsYb"

# (form, how it appears in text, the part that must not survive anywhere)
FORMS: list[tuple[str, str, str]] = [
    ("hf-token", "hf_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fQ", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3f"),
    (
        "openai-key",
        "sk-Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3Ab4Cd5Ef6",
        "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3",
    ),
    (
        "openai-project-key",
        "sk-proj-Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0_Fe9-Dc8Ba7",
        "Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0",
    ),
    (
        "anthropic-key",
        "sk-ant-api03-Xy7_abcdEFGH1234ijklMNOP5678qrst-uvwx",
        "Xy7_abcdEFGH1234ijklMNOP5678qrst",
    ),
    (
        "github-classic-token",
        "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
    ),
    (
        "github-fine-grained-token",
        "github_pat_11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789abcdefghijklmnopqrstuvw",
        "mNoPqRsTuVwXyZ0123456789abcdefghijkl",
    ),
    ("aws-access-key-id", "AKIAZ7QRSTUVWXYZ2345", "AKIAZ7QRSTUVWXYZ2345"),
    (
        "aws-secret-access-key",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETKEY",
    ),
    (
        "slack-bot-token",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    (
        "slack-user-token",
        "xoxp-2222222222-3333333333-4444444444-abcdef0123456789abcdef0123456789",
        "abcdef0123456789abcdef0123456789",
    ),
    (
        "slack-app-token",
        "xapp-1-A0123456789-1234567890123-fedcba9876543210fedcba9876543210",
        "fedcba9876543210fedcba9876543210",
    ),
    (
        "slack-webhook-url",
        "https://hooks.slack.com/services/T0AB12CD3/B0EF45GH6/aBcDeFgHiJkLmNoPqRsTuVwX",
        "aBcDeFgHiJkLmNoPqRsTuVwX",
    ),
    (
        "rsa-private-key-block",
        f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\nqweRTYuiop1234\n-----END RSA PRIVATE KEY-----",
        PEM_BODY,
    ),
    (
        "openssh-private-key-block",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
        "-----END OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
    ),
    (
        "pkcs8-private-key-block",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAo\n"
        "-----END PRIVATE KEY-----",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAo",
    ),
    (
        "pgp-private-key-block",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF0x3Q0BCADJ8k2mZ9Qw\n"
        "-----END PGP PRIVATE KEY BLOCK-----",
        "lQOYBF0x3Q0BCADJ8k2mZ9Qw",
    ),
    (
        "jwt",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIn0"
        ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    ("password-in-https-url", "https://alice:S3cr3t-pw9@example.com/repo.git", "S3cr3t-pw9"),
    ("password-in-db-url", "postgres://bob:hunter2xyz@db:5432/app", "hunter2xyz"),
    ("password-in-url-without-user", "redis://:r3disPa55@cache:6379/0", "r3disPa55"),
    ("bearer-token", "Authorization: Bearer tok_abcdefghijklmnop123", "tok_abcdefghijklmnop123"),
    ("api-key-assignment", "OPENAI_API_KEY=plain-value-771", "plain-value-771"),
    ("secret-assignment", "CLIENT_SECRET: 'cl13nt-s3cret-88'", "cl13nt-s3cret-88"),
    ("password-assignment", 'DB_PASSWORD="correct horse battery"', "correct horse battery"),
    ("token-assignment", "export WANDB_TOKEN=w4ndbT0kenValue", "w4ndbT0kenValue"),
    ("json-secret-field", '{"api_key": "json-key-value-9"}', "json-key-value-9"),
    ("password-flag", "mysql --password hunter22x", "hunter22x"),
]
IDS = [form for form, _, _ in FORMS]


def _raw(handle: Any, record: dict[str, Any]) -> None:
    handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def unscrubbed_journal(directory: Path) -> Path:
    """A journal holding every form in every place, written without scrubbing."""
    directory.mkdir(parents=True)
    path = directory / f"{SID}.jsonl"
    ts = 1_800_000_000.0
    with path.open("w", encoding="utf-8") as out:
        meta = {"kind": "meta", "session_id": SID, "created": ts, "cwd": "/w", "model": "m/x"}
        _raw(out, meta)
        _raw(out, {"kind": "message", "message": {"role": "system", "content": "You help."}})
        for n, (form, text, _) in enumerate(FORMS):
            user = {
                "role": "user",
                "content": f"[{form}] use this: {text} please",
                "_origin": "user",
            }
            _raw(out, {"kind": "message", "message": user})
            event = p.ReasoningDelta(session_id=SID, ts=ts + n, text=f"Reasoning about {text}.")
            _raw(out, {"kind": "event", "event": event.model_dump(mode="json")})
            args = json.dumps({"command": f"deploy --verbose {text}", "env": {"NOTE": text}})
            calls = [
                {
                    "id": f"a{n}",
                    "type": "function",
                    "function": {"name": "bash", "arguments": args},
                },
                {
                    "id": f"b{n}",
                    "type": "function",
                    "function": {"name": "write", "arguments": '{"content": "' + text},
                },
            ]
            assistant = {
                "role": "assistant",
                "content": f"I will use {text} now.",
                "reasoning_content": f"The user gave me {text}.",
                "tool_calls": calls,
            }
            _raw(out, {"kind": "message", "message": assistant})
            for call_id in (f"a{n}", f"b{n}"):
                result = {"role": "tool", "tool_call_id": call_id, "content": f"out:\n{text}\n"}
                _raw(out, {"kind": "message", "message": result})
        summary = "Summary: " + " ".join(text for _, text, _ in FORMS)
        kept = [
            {"role": "system", "content": "You help."},
            {"role": "assistant", "content": summary, "_origin": "summary"},
        ]
        _raw(out, {"kind": "replace", "messages": kept})
    return path


def hub_bytes(server: FakeHTTPServer) -> list[bytes]:
    """Everything the fake Hub received, with base64 file contents and samples decoded."""
    found: list[bytes] = []
    for request in server.requests:
        found.append(request.body)
        for line in request.body.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            stack = [item]
            while stack:
                value = stack.pop()
                if isinstance(value, dict):
                    for inner in value.values():
                        if isinstance(inner, str):
                            found.append(inner.encode())
                            with contextlib.suppress(ValueError):  # file contents, samples
                                found.append(base64.b64decode(inner, validate=True))
                        else:
                            stack.append(inner)
                elif isinstance(value, list):
                    stack.extend(value)
    return found


def strings_of(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from strings_of(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from strings_of(inner)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Export and upload the unscrubbed journal once; every form is checked against it."""
    base = tmp_path_factory.mktemp("secrets")
    journal = unscrubbed_journal(base / "sessions")
    exported = write_trace(journal, base / "export" / "trace.jsonl").read_text(encoding="utf-8")
    with FakeHTTPServer() as server:
        install_hub_jobs(server)
        hub = hub_repos.install(server, user=USER, token=TOKEN)
        options = TraceOptions(endpoint=server.base_url, sessions_dir=base / "sessions")
        service = TraceUploader(
            options,
            hub=HubClient(server.base_url, token=TOKEN, token_from_env=False),
            bus=EventBus(),
            queue=UploadQueue(base / "q.json"),
        )
        message = asyncio.run(service.share_now(SID))
        received = hub_bytes(server)
        stored = hub.repo(f"{USER}/ml-intern-sessions", "dataset").branches["main"]
    return {
        "journal": journal.read_text(encoding="utf-8"),
        "exported": exported,
        "strings": "\n".join(
            s for line in exported.splitlines() for s in strings_of(json.loads(line))
        ),
        "received": received,
        "stored": b"".join(stored.values()),
        "message": message,
    }


def test_the_journal_really_holds_every_secret(outputs: dict[str, Any]) -> None:
    """Guards the test itself: the input is unscrubbed, so finding nothing means scrubbing."""
    for _form, _text, secret in FORMS:
        assert secret in outputs["journal"] or json.dumps(secret)[1:-1] in outputs["journal"]
    assert "Uploaded session" in outputs["message"]


def test_every_place_still_shows_up_scrubbed(outputs: dict[str, Any]) -> None:
    lines = [json.loads(line) for line in outputs["exported"].splitlines()]
    kinds = {
        block.get("type")
        for line in lines
        if isinstance(line.get("message", {}).get("content"), list)
        for block in line["message"]["content"]
    }
    assert kinds == {"thinking", "text", "tool_use", "tool_result"}
    assert outputs["exported"].count("[REDACTED") >= len(FORMS) * 8
    assert outputs["stored"] and b"[REDACTED" in outputs["stored"]
    assert any(b'"type": "summary"' in blob for blob in outputs["received"])  # decoded upload


@pytest.mark.parametrize(("form", "text", "secret"), FORMS, ids=IDS)
def test_no_secret_survives_export_or_upload(
    outputs: dict[str, Any], form: str, text: str, secret: str
) -> None:
    assert secret not in outputs["exported"], f"{form} survived in the exported file"
    assert secret not in outputs["strings"], f"{form} survived in a decoded string"
    needle = secret.encode()
    assert needle not in outputs["stored"], f"{form} survived in the uploaded file"
    for blob in outputs["received"]:
        assert needle not in blob, f"{form} reached the Hub"


@pytest.mark.parametrize(("form", "text", "secret"), FORMS, ids=IDS)
def test_no_secret_survives_the_journal_or_markdown_export(
    tmp_path: Path, form: str, text: str, secret: str
) -> None:
    journal = Journal.create(tmp_path / "s", "j", {})
    journal.append({"kind": "message", "message": {"role": "user", "content": f"x {text} y"}})
    journal.record_event(p.ToolCall(call_id="c", tool="bash", args={"command": f"run {text}"}))
    journal.close()
    assert secret not in journal.path.read_text(encoding="utf-8")

    transcript = Transcript()
    transcript.record(p.TurnStarted(text=f"here: {text}"))
    transcript.record(p.ToolCall(call_id="c", tool="bash", args={"command": f"run {text}"}))
    transcript.record(p.AssistantMessage(text=f"using {text}"))
    out = transcript.export(tmp_path / "t.md")
    assert secret not in out.read_text(encoding="utf-8")
