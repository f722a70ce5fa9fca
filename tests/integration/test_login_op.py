"""``/login`` through the real runtime: the credential service checks the token with a fake
Hub through huggingface_hub, stores it, clears the banner, and the token appears in no
event, no file the app writes, and no message (the stored token file excepted)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from huggingface_hub import constants
from integration.test_first_run import TOKEN, whoami_server
from pydantic import SecretStr

from ml_intern_tui.core.protocol import CredentialStatus, Login, SetModel, event_to_json

ROUTER_MODEL = "moonshotai/Kimi-K2-Instruct"
NO_ROUTER = {"hf_router_base": "http://127.0.0.1:9/v1", "max_retries": 0}
"""A router that refuses at once: nothing of these tests may go to the internet."""


@pytest.fixture
def hf_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """huggingface_hub's token files in a folder of the test (its paths are read at import)."""
    folder = tmp_path / "hf-token"
    folder.mkdir()
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(folder / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(folder / "stored_tokens"))
    return folder


def stored(folder: Path) -> list[Path]:
    return list(folder.iterdir())


def leaks(token: str, root: Path, skip: Path) -> list[Path]:
    forms = [token.encode(), base64.b64encode(token.encode())]
    return [
        path
        for path in root.rglob("*")
        if path.is_file()
        and not path.is_relative_to(skip)
        and any(form in path.read_bytes() for form in forms)
    ]


async def test_login_stores_the_token_clears_the_banner_and_leaks_nowhere(
    harness_factory,  # type: ignore[no-untyped-def]
    hf_files: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with whoami_server() as hub:
        # huggingface_hub's own endpoint is a dead port: only the session's Hub sees the token
        monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
        h = await harness_factory(ROUTER_MODEL, hub={"endpoint": hub.base_url}, llm=NO_ROUTER)
        first = await h.wait_for("credential_status")
        assert first.model == ROUTER_MODEL
        (line,) = first.missing
        assert line.startswith(f"no Hugging Face token for {ROUTER_MODEL}") and "/login" in line
        mark = h.mark()
        h.submit(Login(token=SecretStr(TOKEN)))
        done = await h.wait_for(
            "notice", lambda e: e.level in ("success", "error"), after=mark, timeout=60
        )
        assert done.level == "success" and "as tester" in done.text, done.text
        cleared = await h.wait_for("credential_status", after=mark, timeout=60)
        assert cleared.missing == []
        assert h.runtime.loop.services.hub.token == TOKEN  # the Hub tools use it now
        await h.close()
    assert (hf_files / "token").read_text().strip() == TOKEN
    assert all(TOKEN not in event_to_json(e) for e in h.events)
    assert not leaks(TOKEN, tmp_path, skip=hf_files)


async def test_a_refused_token_is_one_line_and_nothing_is_stored(
    harness_factory,  # type: ignore[no-untyped-def]
    hf_files: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = "hf_" + "wrong" * 8
    with whoami_server() as hub:
        monkeypatch.setattr(constants, "ENDPOINT", hub.base_url)
        h = await harness_factory(ROUTER_MODEL, hub={"endpoint": hub.base_url}, llm=NO_ROUTER)
        await h.wait_for("credential_status")
        mark = h.mark()
        h.submit(Login(token=SecretStr(wrong)))
        refused = await h.wait_for("notice", lambda e: e.level == "error", after=mark)
        assert refused.text.startswith("/login: the Hub refused this token (401)")
        assert "\n" not in refused.text
        await h.close()
    assert not stored(hf_files)
    assert [e.missing for e in h.of("credential_status")][-1]  # the banner stays
    assert all(wrong not in event_to_json(e) for e in h.events)
    assert not leaks(wrong, tmp_path, skip=hf_files)


async def test_a_model_switch_checks_again(
    harness_factory,  # type: ignore[no-untyped-def]
    hf_files: Path,
) -> None:
    h = await harness_factory(ROUTER_MODEL, llm=NO_ROUTER)
    await h.wait_for("credential_status", lambda e: bool(e.missing))
    mark = h.mark()
    h.submit(SetModel(model="vllm/fake"))  # a local server needs no credential
    switched: CredentialStatus = await h.wait_for("credential_status", after=mark)
    assert switched.model == "vllm/fake" and switched.missing == []
