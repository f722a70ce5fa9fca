"""Which project settings need trust, what the trust question says, and the trust store."""

from __future__ import annotations

import json
import os
import stat
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from ml_intern_tui import paths
from ml_intern_tui.config import AppConfig, ConfigError, load_config
from ml_intern_tui.config.schema import _unwrap
from ml_intern_tui.safety.trust import GATED, SAFE_KEYS, is_safe, split_project
from ml_intern_tui.safety.trust_store import TrustStore, trust_store_path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = (tmp_path / "project").resolve()
    root.mkdir()
    return root


def project_file(project: Path, text: str) -> Path:
    path = paths.project_config_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# ----------------------------------------------------------------- every key is decided


def _leaf_settings(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every setting of the schema: the fields of each table, tables opened up."""
    found: list[tuple[str, ...]] = []
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        kinds = [k for k in _unwrap(info.annotation) if isinstance(k, type)]
        tables = [k for k in kinds if issubclass(k, BaseModel)]
        if tables:
            found += _leaf_settings(tables[0], path)
        else:
            found.append(path)
    return found


def test_every_config_field_is_classified_safe_or_trust_gated() -> None:
    """A new setting must be decided: put it in SAFE_KEYS, or under a table in GATED.

    Until then a project config cannot set it without trust (deny by default), and this
    test fails so that the decision is made on purpose.
    """
    undecided = []
    for path in _leaf_settings(AppConfig):
        gated = any(path[:end] in GATED for end in range(1, len(path) + 1))
        if path not in SAFE_KEYS and not gated:
            undecided.append(".".join(path))
    assert undecided == [], f"classify these settings in safety/trust.py: {undecided}"


def test_safe_keys_exist_and_nothing_is_both_safe_and_gated() -> None:
    leaves = set(_leaf_settings(AppConfig))
    for key in SAFE_KEYS:
        assert key in leaves, f"SAFE_KEYS names {key}, which is not a setting"
        assert key not in GATED or key == ("keymap",)


@pytest.mark.parametrize(
    "key",
    [
        ("mode",),
        ("budget_usd",),
        ("model",),
        ("max_iterations",),
        ("reasoning_effort",),
        ("approvals", "remembered"),
        ("tools", "readonly_allowlist"),
        ("tools", "bash", "pass_env"),  # added by the sandbox work: gated by its table
        ("mcp", "servers", "x"),
        ("sandbox", "mode"),
        ("notifications", "destinations", "d", "allow_agent"),
        ("traces", "private"),
        ("sessions", "dir"),
        ("hub", "endpoint"),
        ("github", "api_base"),
        ("llm", "hf_router_base"),
        ("llm", "max_retries"),
        ("router", "anything"),  # a table added later
        ("keymap", "approval.approve"),  # the keys that answer a question
        ("keymap", "confirm.yes"),
        ("keymap", "app.interrupt"),  # the key that stops the agent
        ("context", "limit"),  # a paid compaction every turn, or oversized calls
        ("context", "keep_recent"),
    ],
)
def test_keys_that_loosen_spend_send_or_run_need_trust(key: tuple[str, ...]) -> None:
    assert not is_safe(key)


@pytest.mark.parametrize(
    "key",
    [("ui", "theme"), ("stream",), ("keymap", "app.undo")],
)
def test_look_and_conversation_keys_are_safe(key: tuple[str, ...]) -> None:
    assert is_safe(key)


def test_split_keeps_safe_keys_and_lists_the_rest_coarsely() -> None:
    data: dict[str, Any] = {
        "mode": "yolo",
        "stream": False,
        "ui": {"theme": "x", "sneaky": 1},
        "keymap": {"app.undo": "f5", "approval.approve": "enter"},
        "mcp": {"servers": {"x": {"command": "sh"}}},
        "ui.theme": "quoted dotted key at the top",  # not ui.theme
    }
    safe, gated = split_project(data)
    assert safe == {"stream": False, "ui": {"theme": "x"}, "keymap": {"app.undo": "f5"}}
    assert gated == [
        ("mode",),
        ("ui", "sneaky"),
        ("keymap", "approval.approve"),
        ("mcp",),
        ("ui.theme",),
    ]


# ----------------------------------------------------------------- what the question says


def test_the_question_lists_each_change_as_the_user_reads_it(project: Path) -> None:
    project_file(
        project,
        """
        mode = "yolo"
        budget_usd = 500
        [mcp.servers.x]
        command = "sh"
        args = ["-c", "touch /tmp/m"]
        trusted = true
        [mcp.servers.huggingface]
        enabled = true
        [[approvals.remembered]]
        tool = "bash"
        pattern = "* *"
        [tools]
        readonly_allowlist = ["rm"]
        [notifications.destinations.team]
        type = "slack"
        webhook_url = "https://hooks.example/x"
        allow_agent = true
        """,
    )
    trust = load_config(cwd=project).trust
    assert trust is not None and trust.state == "untrusted" and trust.asks
    lines = [s.line() for s in trust.settings]
    assert lines == [
        "mode: ask → yolo",
        "budget_usd: none → 500",
        "mcp.servers.x: runs \"sh -c 'touch /tmp/m'\" at start; its tools run without asking",
        'mcp.servers.huggingface: connects to "https://huggingface.co/mcp" at start; '
        "it gets your Hugging Face token",
        "approvals.remembered: bash: * *",
        'tools.readonly_allowlist: ["rm"]',
        "notifications.destinations.team: sends session messages to Slack (a webhook); "
        "the agent may post there without asking",
    ]
    assert trust.settings[0].effect == "what runs without asking"


def test_escapes_and_markup_in_the_file_are_shown_inert(project: Path) -> None:
    project_file(
        project,
        """
        [mcp.servers.x]
        command = "sh\\u001b]0;pwned\\u0007[bold red]\\u202e"
        """,
    )
    trust = load_config(cwd=project).trust
    assert trust is not None
    (line,) = [s.line() for s in trust.settings]
    assert "\x1b" not in line and "\x07" not in line and "\u202e" not in line
    assert "\\x1b]0;pwned\\x07[bold red]\\u202e" in line


def test_a_key_the_command_line_overrides_says_so(project: Path) -> None:
    project_file(project, 'mode = "yolo"\n')
    trust = load_config(cwd=project, cli_overrides={"mode": "ask"}).trust
    assert trust is not None
    assert [s.line() for s in trust.settings] == ["mode: ask → yolo (overridden by command line)"]


def test_only_safe_keys_means_nothing_to_ask(project: Path) -> None:
    project_file(project, '[ui]\ntheme = "textual-light"\nshow_reasoning = false\n')
    loaded = load_config(cwd=project)
    assert loaded.trust is not None and loaded.trust.state == "none" and not loaded.trust.asks
    assert loaded.settings.ui.theme == "textual-light" and not loaded.settings.ui.show_reasoning
    assert "safe settings only" in loaded.trust.status()


def test_a_broken_gated_value_is_still_an_error_with_its_file(project: Path) -> None:
    """Ignored or not, a project file that does not validate is reported (exit 2)."""
    config = project_file(project, 'mode = "fast"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(cwd=project)
    assert caught.value.problems == [
        f"{config}: mode: expected one of 'ask', 'auto' or 'yolo', got 'fast'"
    ]


# ----------------------------------------------------------------------------- the store


def test_trust_always_is_for_this_path_and_exactly_this_content(
    project: Path, tmp_path: Path
) -> None:
    config = project_file(project, 'mode = "auto"\n')
    first = load_config(cwd=project)
    assert first.settings.mode == "ask" and first.trust is not None
    TrustStore(trust_store_path()).trust(project, config, first.trust.digest)

    again = load_config(cwd=project)
    assert again.settings.mode == "auto" and again.trust is not None
    assert again.trust.how == "stored" and "trusted always" in again.trust.status()

    config.write_text('mode = "yolo"\n')  # one changed byte later: asks again
    changed = load_config(cwd=project)
    assert changed.settings.mode == "ask" and changed.trust is not None
    assert changed.trust.changed_since_trusted
    assert "changed since you trusted it" in changed.trust.headless_line()

    twin = tmp_path / "twin"  # the same content in another directory is not trusted
    (twin / ".ml-intern").mkdir(parents=True)
    (twin / ".ml-intern" / "config.toml").write_text('mode = "auto"\n')
    assert load_config(cwd=twin).settings.mode == "ask"


def test_trust_store_is_private_and_written_whole(project: Path) -> None:
    store = TrustStore(trust_store_path())
    store.trust(project, project / ".ml-intern/config.toml", "ab" * 32)
    mode = stat.S_IMODE(store.path.stat().st_mode)
    assert mode & 0o077 == 0
    data = json.loads(store.path.read_text())
    assert data["version"] == 1 and data["projects"][str(project)]["sha256"] == "ab" * 32
    assert [p.name for p in store.path.parent.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("content", ["{not json", "[]", '{"version": 99}', "\xff\xfe"])
def test_corrupt_trust_store_is_one_warning_and_counts_as_empty(
    project: Path, content: str
) -> None:
    project_file(project, 'mode = "auto"\n')
    path = trust_store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("latin-1"))
    loaded = load_config(cwd=project)
    assert loaded.settings.mode == "ask"
    assert len(loaded.warnings) == 1 and str(path) in loaded.warnings[0]
    assert "\n" not in loaded.warnings[0]
    assert loaded.trust is not None
    # Trusting again keeps the broken file aside, never loses it silently.
    TrustStore(path).trust(project, project / ".ml-intern/config.toml", loaded.trust.digest)
    assert path.with_name("trust.json.corrupt").read_bytes() == content.encode("latin-1")
    assert load_config(cwd=project).settings.mode == "auto"


def test_the_trust_store_is_a_protected_path(project: Path) -> None:
    from ml_intern_tui.safety.protected import protected_reason

    assert protected_reason(trust_store_path(), project=project) is not None
    assert str(trust_store_path()).startswith(os.environ["XDG_DATA_HOME"])


def test_nested_or_empty_gated_tables_are_still_listed(project: Path) -> None:
    project_file(project, "[mcp]\n[keymap.approval]\napprove = 'enter'\n")
    loaded_error = None
    try:
        load_config(cwd=project)
    except ConfigError as exc:  # keymap takes "id" = "keys" only: the nesting is an error
        loaded_error = exc
    assert loaded_error is not None
    assert not is_safe(("keymap", "approval"))
    project_file(project, "[mcp]\n[approvals]\nremembered = []\n")
    trust = load_config(cwd=project).trust
    assert trust is not None and trust.asks
    assert [s.line() for s in trust.settings] == ["mcp: {}", "approvals: {remembered = []}"]


def test_a_project_may_set_how_alerts_ring_without_trust(project: Path) -> None:
    """``[ui] notify`` is harmless: a bell or a one-line terminal-safe notification."""
    project_file(project, '[ui]\nnotify = "off"\n')
    loaded = load_config(cwd=project)
    assert loaded.trust is not None and not loaded.trust.asks
    assert loaded.settings.ui.notify == "off"
    project_file(project, '[ui]\nnotify = "shell"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(cwd=project)
    assert "notify" in str(caught.value)
