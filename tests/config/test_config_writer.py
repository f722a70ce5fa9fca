"""Writing settings back: comments and layout survive, remembered rules add and go."""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

import pytest

from ml_intern_tui import paths
from ml_intern_tui.config import ConfigError, load_config
from ml_intern_tui.config.writer import append_remembered, remove_remembered, set_value

USER_FILE = textwrap.dedent(
    """\
    # My settings — hand written.
    model = "org/old"   # the one I like

    [ui]
    # dark, always
    theme = "ml-intern-dark"
    show_reasoning = false

    [tools]
    bash_timeout_s = 60  # slow disks
    readonly_allowlist = [
        "ls",   # listing
        "cat",
    ]
    """
)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(USER_FILE, encoding="utf-8")
    return path


def test_set_value_changes_one_line_and_keeps_every_other_byte(config_file: Path) -> None:
    set_value(config_file, "ui.theme", "textual-light")
    before = USER_FILE.splitlines()
    after = config_file.read_text(encoding="utf-8").splitlines()
    assert len(after) == len(before)
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert changed == [('theme = "ml-intern-dark"', 'theme = "textual-light"')]


def test_set_value_keeps_the_inline_comment_of_the_key_it_changes(config_file: Path) -> None:
    set_value(config_file, "model", "org/new")
    text = config_file.read_text(encoding="utf-8")
    assert 'model = "org/new"   # the one I like\n' in text
    assert text.replace('"org/new"', '"org/old"') == USER_FILE


def test_set_value_adds_keys_and_tables_without_touching_the_rest(config_file: Path) -> None:
    set_value(config_file, "llm.timeout_s", 90)
    set_value(config_file, "mcp.servers.local.command", "my-server")
    set_value(config_file, "budget_usd", 4.5)
    text = config_file.read_text(encoding="utf-8")
    for line in USER_FILE.splitlines():
        assert line in text
    env = {**os.environ, "ML_INTERN_CONFIG": str(config_file)}
    settings = load_config(cwd=config_file.parent, env=env).settings
    assert settings.llm.timeout_s == 90
    assert settings.mcp.servers["local"].command == "my-server"
    assert settings.budget_usd == 4.5
    assert settings.tools.readonly_allowlist == ["ls", "cat"]


def test_set_value_none_removes_the_key(config_file: Path) -> None:
    set_value(config_file, "ui.show_reasoning", None)
    set_value(config_file, "hub.endpoint", None)  # absent: nothing to do
    text = config_file.read_text(encoding="utf-8")
    assert "show_reasoning" not in text
    assert "[hub]" not in text
    assert text == USER_FILE.replace("show_reasoning = false\n", "")


def test_set_value_creates_the_file_and_its_folders(tmp_path: Path) -> None:
    path = tmp_path / "new" / ".ml-intern" / "config.toml"
    set_value(path, "ui.theme", "mine")
    set_value(path, "model", "org/m")
    assert path.read_text(encoding="utf-8") == 'model = "org/m"\n\n[ui]\ntheme = "mine"\n'


def test_writes_are_atomic_and_keep_permissions(config_file: Path) -> None:
    config_file.chmod(0o600)
    set_value(config_file, "stream", False)
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert [p.name for p in config_file.parent.iterdir()] == ["config.toml"]


def test_invalid_file_is_reported_not_overwritten(config_file: Path) -> None:
    config_file.write_text("model = \n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        set_value(config_file, "model", "x/y")
    (problem,) = caught.value.problems
    assert problem.startswith(f"{config_file}: line 1")
    assert config_file.read_text(encoding="utf-8") == "model = \n"


def test_append_remembered_adds_a_table_once(config_file: Path) -> None:
    rule = {"tool": "bash", "operation": "run", "pattern": "python train.py*"}
    assert append_remembered(config_file, rule) is True
    assert append_remembered(config_file, dict(rule)) is False
    assert append_remembered(config_file, {"tool": "hf_jobs"}) is True
    text = config_file.read_text(encoding="utf-8")
    assert text.startswith(USER_FILE)
    assert text[len(USER_FILE) :] == textwrap.dedent(
        """
        [[approvals.remembered]]
        tool = "bash"
        operation = "run"
        pattern = "python train.py*"

        [[approvals.remembered]]
        tool = "hf_jobs"
        operation = "*"
        pattern = "*"
        """
    )


def test_remembered_rules_written_to_the_user_config_are_loaded(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    append_remembered(paths.user_config_path(), {"tool": "bash", "pattern": "ls*"})
    rules = load_config(cwd=project).settings.approvals.remembered
    assert [r.describe() for r in rules] == ["bash: ls*"]
    # Rules in a project's own file count only once the project is trusted.
    append_remembered(paths.project_config_path(project), {"tool": "write"})
    untrusted = load_config(cwd=project).settings.approvals.remembered
    assert [r.describe() for r in untrusted] == ["bash: ls*"]
    trusted = load_config(cwd=project, trust="trust").settings.approvals.remembered
    assert [r.describe() for r in trusted] == ["bash: ls*", "write: *"]


def test_remove_remembered(config_file: Path) -> None:
    append_remembered(config_file, {"tool": "bash", "pattern": "ls*"})
    append_remembered(config_file, {"tool": "write"})
    assert remove_remembered(config_file, {"tool": "bash", "pattern": "nope"}) is False
    assert remove_remembered(config_file, {"tool": "bash", "operation": "*", "pattern": "ls*"})
    assert "ls*" not in config_file.read_text(encoding="utf-8")
    assert remove_remembered(config_file, {"tool": "write"}) is True
    assert config_file.read_text(encoding="utf-8") == USER_FILE
    assert remove_remembered(config_file, {"tool": "write"}) is False
    assert remove_remembered(config_file.parent / "absent.toml", {"tool": "write"}) is False


def test_remembered_inline_list_stays_inline(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[approvals]\nremembered = [{ tool = "read" }]\n', encoding="utf-8")
    append_remembered(path, {"tool": "bash"})
    text = path.read_text(encoding="utf-8")
    assert text.startswith('[approvals]\nremembered = [{ tool = "read" }, {tool = "bash"')
    assert remove_remembered(path, {"tool": "read"}) is True
    assert "read" not in path.read_text(encoding="utf-8")


def test_bad_rules_are_refused(config_file: Path) -> None:
    with pytest.raises(ValueError, match="needs a tool"):
        append_remembered(config_file, {"pattern": "x"})
    with pytest.raises(ValueError, match="unknown keys"):
        append_remembered(config_file, {"tool": "bash", "scope": "x"})
    assert config_file.read_text(encoding="utf-8") == USER_FILE
