"""Red team: local tools handing the user's credentials to the model, or hanging on a file.

Before: ``read ~/.aws/credentials`` (and ``~/.ssh/id_*``, ``~/.netrc``, the HF token
file, this app's config with its Slack tokens, ``/proc/<pid>/…``) ran without asking in
every mode, and what it read went to the model's provider. ``hf_dataset_inspect`` showed
``~/.kaggle/kaggle.json`` as rows; ``hf_jobs`` sent a credential file as a job's script;
an upload of a credential file that is not a start-up file, or an MCP argument naming
one, went through. A project's ``.env`` values reached the model through ``bash cat``.
And ``read`` of a FIFO or ``/dev/tty`` hung (or took the user's keystrokes).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.core import known_secrets
from ml_intern_tui.core.approval import ApprovalPolicy
from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.protocol import Approval, ApprovalDecision, UserInput
from ml_intern_tui.core.tool import ToolContext, ToolError
from ml_intern_tui.safety.credentials import credential_reason, env_file_secrets
from ml_intern_tui.tools.files import ReadArgs, ReadTool
from ml_intern_tui.tools.hf_dataset import DatasetInspectArgs, HfDatasetInspectTool
from ml_intern_tui.tools.hf_jobs import resolve_script
from ml_intern_tui.tools.hf_repo_files import HfRepoFilesTool, RepoFilesArgs
from ml_intern_tui.tools.mcp_tool import McpArgs, McpTool

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
KAGGLE_KEY = "0123456789abcdef0123456789abcdef"
WANDB = "wandbKey0123456789abcdefghijklmnopqrstu"


def yolo() -> ApprovalPolicy:
    return ApprovalPolicy("yolo", budget_usd=None, spend=SpendTracker())


@pytest.fixture
def stores(home: Path) -> dict[str, Path]:
    """The usual credential stores of an ML box, in the fake home."""
    files = {
        "ssh": home / ".ssh" / "id_ed25519",
        "aws": home / ".aws" / "credentials",
        "netrc": home / ".netrc",
        "kaggle": home / ".kaggle" / "kaggle.json",
        "gh": home / ".config" / "gh" / "hosts.yml",
        "gcloud": home / ".config" / "gcloud" / "application_default_credentials.json",
        "hf": Path(os.environ["HF_HOME"]) / "token",
        "app": Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern-tui" / "config.toml",
    }
    contents = {
        "ssh": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n",
        "aws": f"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        f"aws_secret_access_key = {AWS_SECRET}\n",
        "netrc": "machine huggingface.co login me password hunter2hunter2\n",
        "kaggle": json.dumps({"username": "me", "key": KAGGLE_KEY}),
        "gh": "github.com:\n    oauth_token: gho_abcdefghijklmnopqrstuvwxyz0123456789\n",
        "gcloud": json.dumps({"refresh_token": "1//0abcdefghijklmnop", "type": "authorized_user"}),
        "hf": "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH\n",
        "app": '[notifications.destinations.team]\ntype = "slack"\ntoken = "xoxb-1-2-3"\n',
    }
    for name, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(contents[name])
    return files


# ---------------------------------------------------------------------------- read


@pytest.mark.parametrize("store", ["ssh", "aws", "netrc", "kaggle", "gh", "gcloud", "hf", "app"])
def test_reading_a_credential_store_asks_in_every_mode(
    ctx: ToolContext, stores: dict[str, Path], store: str
) -> None:
    request = ReadTool().approval(ReadArgs(path=str(stores[store])), ctx)
    assert request is not None and request.kind == "protected"
    assert "holds credentials" in request.reason
    verdict = yolo().decide("read", request)
    assert verdict.action == "ask" and "in every mode" in (verdict.reason or "")


@pytest.mark.parametrize(
    "path",
    ["/proc/self/environ", "/proc/1/cmdline", "/proc/self/mem", "/proc/self/root/etc/shadow"],
)
def test_reading_a_process_asks(ctx: ToolContext, path: str) -> None:
    request = ReadTool().approval(ReadArgs(path=path), ctx)
    assert request is not None and request.kind == "protected", path


def test_a_link_in_the_project_to_a_store_is_caught(
    ctx: ToolContext, stores: dict[str, Path]
) -> None:
    (ctx.cwd / "notes.txt").symlink_to(stores["aws"])
    request = ReadTool().approval(ReadArgs(path="notes.txt"), ctx)
    assert request is not None and request.kind == "protected"
    assert str(stores["aws"]) in request.title


async def test_a_link_swapped_in_after_approval_reads_nothing(
    ctx: ToolContext, stores: dict[str, Path]
) -> None:
    tool = ReadTool()
    (ctx.cwd / "notes.txt").write_text("ordinary\n")
    args = ReadArgs(path="notes.txt")
    assert tool.approval(args, ctx) is None
    (ctx.cwd / "notes.txt").unlink()
    (ctx.cwd / "notes.txt").symlink_to(stores["aws"])
    with pytest.raises(ToolError, match="nothing was read"):
        await tool.run(args, ctx)


async def test_ordinary_files_still_read_without_asking(ctx: ToolContext, home: Path) -> None:
    (home / ".bashrc").write_text("alias ll='ls -l'\n")
    (ctx.cwd / "train.py").write_text("print(1)\n")
    for path in ("train.py", str(home / ".bashrc"), "/proc/cpuinfo"):
        assert ReadTool().approval(ReadArgs(path=path), ctx) is None, path
    result = await ReadTool().run(ReadArgs(path="train.py"), ctx)
    assert "print(1)" in result.output


async def test_yolo_end_to_end_the_key_never_reaches_the_model(
    fake_openai: FakeOpenAI, harness_factory, stores: dict[str, Path]
) -> None:
    call = ("read", json.dumps({"path": str(stores["aws"])}))
    fake_openai.enqueue(Reply(text="", tool_calls=[call]), Reply(text="ok, I will not"))
    h = await harness_factory(mode="yolo")
    mark = h.mark()
    h.submit(UserInput(text="check my cloud setup"))
    request = await h.wait_for("approval_required", after=mark)
    (item,) = request.items
    assert item.tool == "read" and item.remember_scope == ""
    h.submit(Approval(decisions=[ApprovalDecision(call_id=item.call_id, approved=False)]))
    await h.wait_for("turn_complete", after=mark)
    bodies = json.dumps([r.body for r in fake_openai.requests])
    assert AWS_SECRET not in bodies


# ---------------------------------------------------------------- other local readers


async def test_a_credential_json_is_no_dataset(ctx: ToolContext, stores: dict[str, Path]) -> None:
    for store in ("kaggle", "gcloud"):
        with pytest.raises(ToolError, match="not a dataset"):
            await HfDatasetInspectTool().run(DatasetInspectArgs(dataset=str(stores[store])), ctx)


def test_a_credential_file_is_never_a_jobs_script(
    ctx: ToolContext, stores: dict[str, Path]
) -> None:
    with pytest.raises(ToolError, match="not sent to a job"):
        resolve_script(str(stores["aws"]), ctx.cwd)
    (ctx.cwd / "train.py").symlink_to(stores["netrc"])
    with pytest.raises(ToolError, match="not sent to a job"):
        resolve_script("train.py", ctx.cwd)


@pytest.mark.parametrize("store", ["kaggle", "gh", "gcloud", "aws"])
def test_uploading_a_credential_file_asks_even_in_yolo(
    ctx: ToolContext, stores: dict[str, Path], store: str
) -> None:
    args = RepoFilesArgs(
        operation="upload", repo_id="me/public", local_path=str(stores[store]), path="x"
    )
    request = HfRepoFilesTool().approval(args, ctx)
    assert request is not None and request.kind == "protected"
    assert yolo().decide("hf_repo_files", request).action == "ask"


def test_uploading_a_folder_holding_a_store_asks(ctx: ToolContext, stores: dict[str, Path]) -> None:
    folder = stores["kaggle"].parent.parent  # the home directory holds .kaggle
    args = RepoFilesArgs(operation="upload", repo_id="me/backup", local_path=str(folder))
    request = HfRepoFilesTool().approval(args, ctx)
    assert request is not None and request.kind == "protected"


class _Server:
    name, transport, trusted, target = "fs", "stdio", True, "uvx fs-server"

    def __init__(self, cwd: Path | None = None) -> None:
        self.cwd = cwd

    async def call(self, tool: str, arguments: dict[str, Any], on_progress: Any) -> Any:
        raise AssertionError("never called")


def mcp_request(arguments: dict[str, Any], ctx: ToolContext, cwd: Path | None = None) -> Any:
    tool = McpTool.create(_Server(cwd), "read_file", "Read a file", {})  # type: ignore[arg-type]
    return tool.approval(McpArgs(**arguments), ctx)


@pytest.mark.parametrize(
    "arguments",
    [
        {"path": "~/.aws/credentials"},  # a read hands the key over
        {"files": {".git/hooks/pre-commit": "touch /tmp/pwned"}},  # the path is a key
        {"padding": ["x"] * 600, "path": ".git/config"},  # past what used to be checked
    ],
)
def test_a_trusted_local_mcp_server_still_asks(
    ctx: ToolContext, stores: dict[str, Path], arguments: dict[str, Any]
) -> None:
    request = mcp_request(arguments, ctx)
    assert request is not None and request.kind == "protected", arguments
    assert yolo().decide("fs__read_file", request).action == "ask"


def test_mcp_paths_count_from_the_servers_own_directory(
    ctx: ToolContext, stores: dict[str, Path], home: Path
) -> None:
    request = mcp_request({"path": ".netrc"}, ctx, cwd=home)
    assert request is not None and request.kind == "protected"
    assert mcp_request({"path": "src/model.py", "n": 3}, ctx, cwd=home) is None


# ----------------------------------------------------------------------- .env files


def test_env_file_values_are_found_by_name() -> None:
    text = (
        "# settings\nexport WANDB_API_KEY=" + WANDB + "\nDB_PASSWORD='s3cr3t-Pa55word'\n"
        'HF_TOKEN = "hf_abcdefghijklmnopqrstuvwxyzABCD"\nDEBUG=true\nMODEL=gpt2\n'
    )
    assert env_file_secrets(text) == {
        "WANDB_API_KEY": WANDB,
        "DB_PASSWORD": "s3cr3t-Pa55word",
        "HF_TOKEN": "hf_abcdefghijklmnopqrstuvwxyzABCD",
    }


async def test_a_projects_env_values_never_reach_the_model(
    fake_openai: FakeOpenAI, harness_factory, workspace: Path
) -> None:
    """Registered when the session starts: ``bash cat .env`` (or a training log that
    prints the key) shows the model a marker; ``read`` of another .env file too."""
    (workspace / ".env").write_text(f"WANDB_API_KEY={WANDB}\n")
    other = "Zz9-another-Opaque-Secret-42"
    (workspace / ".env.local").write_text(f"MY_SERVICE_TOKEN={other}\n")
    calls = [
        ("bash", json.dumps({"command": "cat .env"})),
        ("read", json.dumps({"path": ".env.local"})),
    ]
    fake_openai.enqueue(Reply(text="", tool_calls=calls), Reply(text="done"))
    h = await harness_factory(mode="yolo")
    mark = h.mark()
    h.submit(UserInput(text="check the settings"))
    await h.wait_for("turn_complete", after=mark)
    last = json.dumps(fake_openai.requests[-1].body)
    assert WANDB not in last and other not in last
    assert "[REDACTED_WANDB_API_KEY]" in last and "[REDACTED_MY_SERVICE_TOKEN]" in last


def test_example_env_files_are_not_secrets(tmp_path: Path) -> None:
    from ml_intern_tui.safety.credentials import project_env_files, register_env_file_secrets

    (tmp_path / ".env.example").write_text(f"WANDB_API_KEY={WANDB}\n")
    (tmp_path / "train.env").write_text("OTHER_SECRET=Zz9-another-Opaque-Secret-42\n")
    assert [p.name for p in project_env_files(tmp_path)] == ["train.env"]
    assert register_env_file_secrets(project_env_files(tmp_path)) == 1
    assert known_secrets.scrub(WANDB) == WANDB


# ------------------------------------------------------------- files that never end


@pytest.mark.timeout(30)
async def test_read_refuses_a_fifo_and_devices_without_hanging(ctx: ToolContext) -> None:
    os.mkfifo(ctx.cwd / "pipe")
    (ctx.cwd / "zero").symlink_to("/dev/zero")
    (ctx.cwd / "tty").symlink_to("/dev/tty")
    for name, kind in (("pipe", "named pipe"), ("zero", "character device")):
        with pytest.raises(ToolError, match=kind):
            await ReadTool().run(ReadArgs(path=name), ctx)
    with pytest.raises(ToolError, match=r"character device|No such device"):
        await ReadTool().run(ReadArgs(path="tty"), ctx)


def test_credential_reason_ignores_ordinary_places(ctx: ToolContext, home: Path) -> None:
    for path in (ctx.cwd / "data.csv", home / "models" / "m.bin", Path("/proc/meminfo")):
        assert credential_reason(path) is None, path


# -------------------------------------------------------- a token saved mid-session


async def test_a_token_saved_during_the_session_is_scrubbed_from_the_next_output(
    fake_openai: FakeOpenAI, harness_factory
) -> None:
    """``hf auth login`` in another terminal after the app started: the new token file
    was unknown, so a command printing it handed it to the model."""
    token_file = Path(os.environ["HF_HOME"]) / "token"
    fresh = "hf_" + "Sav3dLaterAbcdefghijklmnopqrstuvw"
    calls = [("bash", json.dumps({"command": f"cat {token_file}", "outside_sandbox": True}))]
    fake_openai.enqueue(Reply(text="", tool_calls=calls), Reply(text="done"))
    h = await harness_factory(mode="yolo", sandbox={"mode": "off"})
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text(fresh + "\n")  # saved after the session started
    mark = h.mark()
    h.submit(UserInput(text="which token do I use?"))
    await h.wait_for("turn_complete", after=mark)
    bodies = json.dumps([r.body for r in fake_openai.requests])
    assert fresh not in bodies
    assert "[REDACTED_HF_TOKEN]" in bodies


# ------------------------------------------------------------------------ spill files


def test_the_old_unredacted_spill_directory_goes_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_intern_tui.safety.leftovers import legacy_spill_dir, remove_leftovers_in_background

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    old = legacy_spill_dir()
    (old / "20250101-x").mkdir(parents=True)
    (old / "20250101-x" / "bash-output-1.txt").write_text(f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n")
    remove_leftovers_in_background().join(timeout=30)
    assert not old.exists()


def test_a_link_planted_under_the_old_name_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_intern_tui.safety.leftovers import legacy_spill_dir, remove_legacy_spill_dir

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "thesis.tex").write_text("years of work")
    legacy_spill_dir().symlink_to(victim)
    assert remove_legacy_spill_dir() is False
    assert (victim / "thesis.tex").read_text() == "years of work"


def test_a_fork_owns_copies_of_the_spill_files_it_names(tmp_path: Path) -> None:
    """A fork pointed at the original's spill files: deleting the original (or the
    fork) broke the other's "read the full output at …" references."""
    from ml_intern_tui.core.journal import Journal, files_dir, load
    from ml_intern_tui.core.saved_sessions import delete_session, fork_session

    journal = Journal.create(tmp_path, "20260101-000000-aaaaaa", {"model": "m", "cwd": "/p"})
    spill = journal.files_dir / "bash-output-1.txt"
    spill.parent.mkdir(mode=0o700)
    spill.write_text("line\n" * 10)
    note = f"[output cut; the full output is in {spill} - read it with the read tool]"
    journal.append({"kind": "message", "message": {"role": "tool", "content": note}})
    journal.close()

    new_id = fork_session(tmp_path, "20260101-000000-aaaaaa", new_id="20260102-000000-bbbbbb")
    fork = tmp_path / f"{new_id}.jsonl"
    copy = files_dir(fork) / "bash-output-1.txt"
    delete_session(tmp_path, "20260101-000000-aaaaaa")
    assert not spill.exists()
    assert copy.read_text() == "line\n" * 10
    (record,) = [r for r in load(fork).records if r.get("kind") == "message"]
    assert str(copy) in record["message"]["content"] and str(spill) not in json.dumps(record)


# ------------------------------------------------------------------ key patterns


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        ("GROQ key gsk_" + "aB3" * 18, "[REDACTED_GROQ_KEY]"),
        ("export REPLICATE=r8_" + "Zx9" * 12, "[REDACTED_REPLICATE_TOKEN]"),
        ("xai-" + "Qw3" * 25, "[REDACTED_XAI_KEY]"),
    ],
)
def test_provider_keys_the_environment_did_not_hold_are_still_redacted(
    text: str, marker: str
) -> None:
    """A key the process does not know (pasted in a file, printed by a tool) is caught by
    its shape in everything written: Groq, Replicate and xAI keys were kept."""
    from ml_intern_tui.core.redact import redact_text

    assert redact_text(text).endswith(marker)


@pytest.mark.parametrize("rel", [".bashrc", ".gitconfig"])
def test_a_protected_file_is_never_a_jobs_script(ctx: ToolContext, home: Path, rel: str) -> None:
    """Known residual gap: hf_jobs read a protected file (``~/.bashrc`` with its exported
    keys) as the script and, in yolo, uploaded it without asking."""
    (home / rel).write_text("export OPENAI_API_KEY=sk-not-in-this-environment-0123456789\n")
    with pytest.raises(ToolError, match="not sent to a job"):
        resolve_script(str(home / rel), ctx.cwd)
    (ctx.cwd / ".git" / "config").write_text("[remote]\n\turl = https://u:tok@host/r\n")
    with pytest.raises(ToolError, match="not sent to a job"):
        resolve_script(".git/config", ctx.cwd)
    (ctx.cwd / "train.py").write_text("print('ok')\n")
    assert resolve_script("train.py", ctx.cwd).code == "print('ok')\n"
