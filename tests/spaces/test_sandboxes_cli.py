"""``ml-intern-tui sandboxes``: sandbox Spaces left on the (fake) Hub, listed and deleted."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fakes.http_server import FakeHTTPServer
from fakes.hub_spaces import FakeSpaces, install_spaces

from ml_intern_tui.cli import main

LEFT = "tester/mlintern-sandbox-0a1b2c3d"
FRESH = "tester/mlintern-sandbox-99999999"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[FakeSpaces]:  # type: ignore[no-untyped-def]
    server = FakeHTTPServer()
    spaces = install_spaces(server)
    monkeypatch.setenv("HF_TOKEN", "hf_fake")
    monkeypatch.setenv("HF_ENDPOINT", server.base_url)
    monkeypatch.chdir(tmp_path)
    spaces.add(LEFT, age_hours=30)
    spaces.add(FRESH, age_hours=0.2)
    spaces.add("tester/my-demo-app", age_hours=100)  # not a sandbox: never listed
    spaces.add("tester/mlintern-sandbox-notahex!", age_hours=100)  # not our pattern
    spaces.add("other/mlintern-sandbox-11111111", age_hours=100)  # someone else's
    yield spaces
    spaces.close()
    server.close()


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str, *, tty: bool) -> None:
    stream = io.StringIO(text)
    stream.isatty = lambda: tty  # type: ignore[method-assign]
    monkeypatch.setattr("sys.stdin", stream)


def test_lists_only_this_users_sandboxes_with_their_age(hub: FakeSpaces, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["sandboxes"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith(LEFT) and "30.0 h old" in lines[0]
    assert lines[1].startswith(FRESH) and "min old" in lines[1]
    assert f"/spaces/{LEFT}" in lines[0]
    assert "my-demo-app" not in out and "notahex" not in out and "other/" not in out
    assert "2 sandbox Space(s); delete them with" in out
    assert hub.deleted == []


def test_delete_older_than_spares_a_live_sandbox(hub: FakeSpaces, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["sandboxes", "--delete", "--older-than", "2", "--yes"]) == 0
    out = capsys.readouterr().out
    assert f"Deleted {LEFT}." in out and FRESH not in out
    assert hub.deleted == [LEFT]
    assert main(["sandboxes"]) == 0
    assert LEFT not in capsys.readouterr().out


def test_delete_asks_on_a_terminal_and_no_keeps_them(hub: FakeSpaces, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _stdin(monkeypatch, "n\n", tty=True)
    assert main(["sandboxes", "--delete"]) == 0
    out = capsys.readouterr().out
    assert "Delete 2 Space(s) above?" in out and "Nothing deleted." in out
    assert hub.deleted == []
    _stdin(monkeypatch, "y\n", tty=True)
    assert main(["sandboxes", "--delete"]) == 0
    assert sorted(hub.deleted) == sorted([LEFT, FRESH])


def test_delete_without_a_terminal_needs_yes(hub: FakeSpaces, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _stdin(monkeypatch, "y\n", tty=False)
    assert main(["sandboxes", "--delete"]) == 2
    err = capsys.readouterr().err
    assert err == "ml-intern-tui sandboxes: not a terminal: add --yes to delete without asking\n"
    assert hub.deleted == []


def test_nothing_older_says_so(hub: FakeSpaces, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["sandboxes", "--older-than", "1000", "--delete", "--yes"]) == 0
    assert capsys.readouterr().out == "No sandbox Spaces of tester older than 1000 h.\n"
    assert hub.deleted == []


def test_a_refused_token_is_one_line_exit_2(hub: FakeSpaces, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    assert main(["sandboxes", "--delete", "--yes"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ml-intern-tui sandboxes: ")
    assert "401" in lines[0]
    assert hub.deleted == []


def test_no_token_is_one_line_exit_2(hub: FakeSpaces, capsys, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    assert main(["sandboxes"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no Hugging Face token" in err


@pytest.mark.parametrize("hours", ["-1", "soon", "nan"])
def test_bad_older_than_is_a_usage_line(hours: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as done:
        main(["sandboxes", "--older-than", hours])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--older-than" in err
