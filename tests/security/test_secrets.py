"""No secret from the environment leaves the process: requests, journal, exports, files.

A hostile model (the fake OpenAI server) makes the real CLI, in ``yolo`` so every call
runs, print the environment every way it can — ``env``, ``/proc/self/environ``,
``printenv``, ``ps eww``, the stored HF token file, a Python one-liner, base64 and
URL-encoded copies, a file holding a token, a background job, and an output long enough
to be spilled to a file. None of the values may then appear in any request body the
model server received, the session journal, a Markdown or trace export, a spill file,
a job log or the ``--json`` output.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.core import known_secrets
from ml_intern_tui.core.redact import redact_text
from ml_intern_tui.safety.secret_values import (
    environment_secrets,
    is_secret_name,
    register_process_secrets,
    stored_hf_tokens,
)
from ml_intern_tui.traces.export import write_trace
from ml_intern_tui.tui.transcript import export_saved as export_journal

HF_ENV = "hf_" + "Qw8eRt5yUi3oPa1sDf7gHj9kLz2xCv4bNm"
HF_FILE = "hf_" + "Zx1cVb2nMq3wEr4tYu5iOp6aSd7fGh8jKl"
OPENAI = "sk-proj-" + "T3stOnly9Vq2Lm8Rk4Hz7Yp1Wn6Cx5Bd0Fs"
SERVICE = "Zq8+opaque/Value=7731xK"  # matches no pattern: only the known-value layer sees it
SECRETS = {"HF_TOKEN": HF_ENV, "OPENAI_API_KEY": OPENAI, "MY_SERVICE_TOKEN": SERVICE}


def forms(value: str) -> list[str]:
    """The value, URL-encoded, and its base64 at each alignment (the stable middle)."""
    out = [value, quote(value, safe="")]
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + value.encode()).decode()
        out.append(encoded[4 if offset else 0 : ((offset + len(value)) // 3) * 4])
    return out


ALL_FORMS = [form for value in [*SECRETS.values(), HF_FILE] for form in forms(value)]


def bash(command: str, **extra: object) -> tuple[str, str]:
    return "bash", json.dumps({"command": command, **extra})


def leaked(data: str | bytes) -> list[str]:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [form for form in ALL_FORMS if form in text]


@pytest.fixture
def run(tmp_path: Path) -> dict[str, object]:
    """One hostile headless run; what it left behind, for the tests to search."""
    hf_home = Path(os.environ["HF_HOME"])
    hf_home.mkdir(parents=True, exist_ok=True)
    (hf_home / "token").write_text(HF_FILE)
    project = tmp_path / "project"
    project.mkdir()
    (project / "creds.txt").write_text(f"service_credential: {SERVICE}\n")
    py = sys.executable
    calls = [
        bash("env"),
        bash("cat /proc/self/environ"),
        bash("printenv MY_SERVICE_TOKEN; printenv OPENAI_API_KEY"),
        bash("ps eww"),
        bash(f"cat {hf_home / 'token'}"),
        bash(f"{py} -c 'import os; print(dict(os.environ))'"),
        bash(
            f"{py} -c 'import os, base64, urllib.parse as u; e = os.environ; "
            'print(base64.b64encode(e["OPENAI_API_KEY"].encode()).decode()); '
            'print(base64.b64encode(b"x" + e["HF_TOKEN"].encode()).decode()); '
            'print(u.quote(e["MY_SERVICE_TOKEN"], safe=""))\''
        ),
        bash("cat creds.txt"),
        ("read", json.dumps({"path": "creds.txt"})),
        bash(
            f"{py} -c 'import os; e = os.environ; "
            '[print(i, e["MY_SERVICE_TOKEN"], e["HF_TOKEN"], "x" * 40) for i in range(3000)]\''
        ),
        bash("env; cat creds.txt", background=True, description="print env in a job"),
    ]
    data = tmp_path / "data"
    env = {
        **os.environ,
        **SECRETS,
        "XDG_DATA_HOME": str(data),
        "VLLM_BASE_URL": "",
        "ML_INTERN_LLM__MAX_RETRIES": "1",
        # The layers in front are switched off on purpose, so the commands really see the
        # secrets: no OS sandbox, and the secret variables passed through the scrub. The
        # known-value scrub must hold on its own.
        "ML_INTERN_SANDBOX__MODE": "off",
        "ML_INTERN_TOOLS__BASH__PASS_ENV": json.dumps(sorted(SECRETS)),
    }
    with FakeOpenAI() as fake:
        fake.enqueue(
            *(Reply(text="", tool_calls=[call]) for call in calls),
            Reply(text="All done: the environment holds the usual variables."),
        )
        env["VLLM_BASE_URL"] = fake.base_url
        args = ["--model", "vllm/m", "--mode", "yolo", "--json", "-p", "look around"]
        proc = subprocess.run(
            [sys.executable, "-m", "ml_intern_tui.cli", *args],
            cwd=project,
            env=env,
            capture_output=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        bodies = [json.dumps(request.body) for request in fake.requests]
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    sessions = data / "ml-intern-tui" / "sessions"
    (journal,) = sessions.glob("*.jsonl")
    return {
        "proc": proc,
        "bodies": bodies,
        "journal": journal,
        "data": data,
        "tmp": tmp_path,
        "calls": len(calls),
    }


def test_no_secret_reaches_the_model_or_any_file(run: dict[str, object]) -> None:
    proc = run["proc"]
    assert isinstance(proc, subprocess.CompletedProcess)
    bodies = run["bodies"]
    assert isinstance(bodies, list) and len(bodies) == int(str(run["calls"])) + 1
    for index, body in enumerate(bodies):
        assert leaked(body) == [], f"request {index} carries a secret"
    assert leaked(proc.stdout) == [] and leaked(proc.stderr) == []

    journal = run["journal"]
    assert isinstance(journal, Path)
    assert leaked(journal.read_bytes()) == []
    tmp = run["tmp"]
    assert isinstance(tmp, Path)
    markdown = export_journal(journal, tmp / "export.md")
    trace = write_trace(journal, tmp / "trace.jsonl")
    assert leaked(markdown.read_bytes()) == [] and leaked(trace.read_bytes()) == []

    spilled = sorted((journal.parent / f"{journal.stem}.files").glob("*"))
    assert spilled, "the long output was not spilled next to the journal"
    for path in spilled:
        assert leaked(path.read_bytes()) == [], path
    data = run["data"]
    assert isinstance(data, Path)
    logs = sorted((data / "ml-intern-tui" / "jobs").glob("*.log"))
    assert logs, "the background job left no log"
    for path in logs:
        assert leaked(path.read_bytes()) == [], path

    # The run really printed the values: markers stand where they were. The project file
    # and the stored HF token file hold values whatever the tools' environment is; the
    # environment dumps hold them unless the sandbox removed them first.
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    text = "\n".join(event["output"] for event in events if event["type"] == "tool_result")
    assert "service_credential: [REDACTED_MY_SERVICE_TOKEN]" in text
    assert "[REDACTED_HF_TOKEN]" in text
    assert "[REDACTED_MY_SERVICE_TOKEN]" in bodies[-1]  # what the model was shown instead


def test_secret_names_and_values_are_chosen_carefully() -> None:
    for name in ("HF_TOKEN", "OPENAI_API_KEY", "MY_SERVICE_TOKEN", "DB_PASSWORD", "GH_PAT"):
        assert is_secret_name(name), name
    for name in ("TOKENIZERS_PARALLELISM", "PATH", "PWD", "SSH_AUTH_SOCK", "MAX_TOKENS"):
        assert not is_secret_name(name), name
    found = environment_secrets(
        {
            "MY_SERVICE_TOKEN": SERVICE,
            "SHORT_TOKEN": "abc",  # too short to scrub safely
            "SOME_KEY": "production",  # one ordinary word
            "TLS_KEY": "/etc/ssl/private/key.pem",  # a path
            "RETRY_TOKEN_COUNT": "12345678",  # a number
            "PATH": "/usr/bin",
        }
    )
    assert found == {"MY_SERVICE_TOKEN": SERVICE}


def test_stored_tokens_are_registered(tmp_path: Path) -> None:
    home = tmp_path / "hf"
    home.mkdir()
    (home / "token").write_text(HF_FILE + "\n")
    (home / "stored_tokens").write_text(f"[work]\nhf_token = {HF_ENV}\n")
    assert stored_hf_tokens({"HF_HOME": str(home)}) == [HF_FILE, HF_ENV]
    assert register_process_secrets({"HF_HOME": str(home), "MY_SERVICE_TOKEN": SERVICE}) == 3
    out = redact_text(f"a {SERVICE} b {quote(SERVICE, safe='')} c {HF_FILE[5:]}")
    assert SERVICE not in out and quote(SERVICE, safe="") not in out
    assert out.startswith("a [REDACTED_MY_SERVICE_TOKEN] b [REDACTED_MY_SERVICE_TOKEN] c")


def test_base64_copies_are_scrubbed_at_any_alignment() -> None:
    known_secrets.register(OPENAI, "OPENAI_API_KEY")
    for prefix in (b"", b"a", b"ab", b"abc"):
        blob = base64.b64encode(prefix + OPENAI.encode() + b"tail").decode()
        out = known_secrets.scrub(f"data: {blob}")
        assert "[REDACTED_OPENAI_API_KEY]" in out
        assert not any(form in out for form in forms(OPENAI)[2:])


def test_every_request_is_scrubbed_whichever_path_filled_it() -> None:
    """The last guard: a message that got a value by any route loses it in the request."""
    from ml_intern_tui.core.llm import LLMClient
    from ml_intern_tui.core.models import ModelRoute

    known_secrets.register(SERVICE, "MY_SERVICE_TOKEN")
    route = ModelRoute("vllm/m", "openai/m", "http://127.0.0.1:1/v1", "sk-local", "local", False)
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "tool", "tool_call_id": "c", "content": f"value {SERVICE}"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"function": {"arguments": SERVICE}}],
        },
    ]
    kwargs = LLMClient(route).request_kwargs(messages, None, stream=True)
    assert SERVICE not in json.dumps(kwargs["messages"])
    assert kwargs["messages"][0] is messages[0]  # clean messages are sent as they are
    assert messages[1]["content"] == f"value {SERVICE}"  # the caller's list is not changed
