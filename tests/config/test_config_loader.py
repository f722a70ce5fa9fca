"""Loading the settings: layers, merging, ${VAR} substitution and one-line problems."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from pydantic import BaseModel

from ml_intern_tui import paths, resources
from ml_intern_tui.config import AppConfig, ConfigError, LoadedConfig, load_config


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def user_file(text: str) -> Path:
    return write(paths.user_config_path(), text)


def project_file(project: Path, text: str) -> Path:
    return write(paths.project_config_path(project), text)


def load(project: Path, **kwargs: object) -> LoadedConfig:
    return load_config(cwd=project, **kwargs)  # type: ignore[arg-type]


def problems_of(project: Path, **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(project, **kwargs)
    return caught.value.problems


# ----------------------------------------------------------------------------- defaults


def test_defaults_load_without_user_or_project_files(project: Path) -> None:
    loaded = load(project)
    assert loaded.sources == [resources.default_config_path()]
    settings = loaded.settings
    assert settings.model == "moonshotai/Kimi-K2.6"
    assert settings.mode == "ask"
    assert settings.budget_usd is None
    assert settings.reasoning_effort is None
    assert settings.max_iterations == 300
    assert settings.context.compact_threshold == 0.9
    assert settings.llm.hf_router_base == "https://router.huggingface.co/v1"
    assert settings.approvals.remembered == []
    assert settings.keymap == {}
    hf = settings.mcp.servers["huggingface"]
    assert (hf.url, hf.enabled, hf.effective_transport) == (
        "https://huggingface.co/mcp",
        False,
        "http",
    )
    assert loaded.user_path == paths.config_dir() / "config.toml"
    assert loaded.project_path == project / ".ml-intern" / "config.toml"
    assert loaded.origin("model") == str(resources.default_config_path())


def test_schema_defaults_match_the_packaged_file(project: Path) -> None:
    """Code that builds AppConfig() directly sees the same values as a fresh install."""
    from_file = load(project).settings.model_dump(exclude={"suggested_models", "mcp"})
    assert AppConfig().model_dump(exclude={"suggested_models", "mcp"}) == from_file


def test_every_setting_is_documented_in_the_packaged_file() -> None:
    """Each setting appears in default.toml (set, or commented out) and has a docstring."""
    text = resources.default_config_path().read_text(encoding="utf-8")
    lines = [line.removeprefix("# ").strip() for line in text.splitlines()]

    def mentioned(full: str, leaf: str) -> bool:
        for line in lines:
            if line.startswith(f"{leaf} =") or line.startswith(f"[[{full}]]"):
                return True
            if line.startswith(f"[{full}") and line[len(full) + 1] in "].":
                return True
        return False

    def check(model: type[BaseModel], prefix: str = "") -> None:
        for name, info in model.model_fields.items():
            full = f"{prefix}{name}"
            assert mentioned(full, name), f"{full} is not in default.toml"
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                check(annotation, f"{full}.")
            else:
                assert info.description, f"{full} has no docstring"

    check(AppConfig)


def test_hub_endpoint_follows_hf_endpoint(project: Path) -> None:
    env = {"HF_ENDPOINT": "http://127.0.0.1:9999/"}
    assert load(project, env=env).settings.hub.endpoint == "http://127.0.0.1:9999"


# ----------------------------------------------------------------------------- layers


def test_layers_apply_in_order_user_project_env_cli(project: Path) -> None:
    user = user_file(
        """
        model = "user/model"
        mode = "auto"
        max_iterations = 10
        [llm]
        timeout_s = 1
        """
    )
    proj = project_file(
        project,
        """
        model = "project/model"
        max_iterations = 20
        """,
    )
    env = {
        **os.environ,
        "ML_INTERN_MAX_ITERATIONS": "30",
        "ML_INTERN_LLM__TIMEOUT_S": "5",
    }
    loaded = load(
        project, env=env, cli_overrides={"max_iterations": 40, "stream": None}, trust="trust"
    )
    settings = loaded.settings
    assert settings.mode == "auto"
    assert settings.model == "project/model"
    assert settings.llm.timeout_s == 5
    assert settings.max_iterations == 40
    assert settings.stream is True  # None in cli_overrides means "not given"
    assert loaded.sources == [resources.default_config_path(), user, proj]
    assert loaded.origin("mode") == str(user)
    assert loaded.origin("model") == str(proj)
    assert loaded.origin("llm.timeout_s") == "environment variable ML_INTERN_LLM__TIMEOUT_S"
    assert loaded.origin("max_iterations") == "command line"


def test_tables_merge_key_by_key_and_lists_replace(project: Path) -> None:
    user_file(
        """
        suggested_models = ["a/one", "a/two"]
        [llm]
        timeout_s = 42
        """
    )
    project_file(
        project,
        """
        suggested_models = ["b/three"]
        [llm]
        max_retries = 7
        [mcp.servers.huggingface]
        enabled = true
        """,
    )
    settings = load(project, trust="trust").settings
    assert (settings.llm.timeout_s, settings.llm.max_retries) == (42, 7)
    assert settings.llm.retry_max_delay_s == 30.0
    assert settings.suggested_models == ["b/three"]
    hf = settings.mcp.servers["huggingface"]
    assert hf.enabled and hf.url == "https://huggingface.co/mcp"


def test_remembered_rules_add_up_across_layers(project: Path) -> None:
    user_file(
        """
        [[approvals.remembered]]
        tool = "bash"
        pattern = "ls*"
        """
    )
    project_file(
        project,
        """
        [[approvals.remembered]]
        tool = "hf_jobs"
        operation = "run"

        [[approvals.remembered]]
        tool = "bash"
        pattern = "ls*"
        """,
    )
    env = {**os.environ, "ML_INTERN_APPROVALS__REMEMBERED": '[{tool = "write", pattern = "out/*"}]'}
    rules = load(project, env=env, trust="trust").settings.approvals.remembered
    assert [r.describe() for r in rules] == ["bash: ls*", "hf_jobs run: *", "write: out/*"]


def test_later_layer_switches_an_optional_setting_off(project: Path) -> None:
    user_file('budget_usd = 5.0\nreasoning_effort = "high"\n')
    assert load(project).settings.budget_usd == 5.0
    settings = load(
        project, cli_overrides={"budget_usd": "none", "reasoning_effort": "off"}
    ).settings
    assert settings.budget_usd is None and settings.reasoning_effort is None


def test_environment_values_are_read_as_toml_when_they_are_not_text(project: Path) -> None:
    env = {
        **os.environ,
        "ML_INTERN_MODEL": "123",  # a string setting keeps the text
        "ML_INTERN_STREAM": "false",
        "ML_INTERN_BUDGET_USD": "2.5",
        "ML_INTERN_SUGGESTED_MODELS": '["x/y"]',
        "ML_INTERN_KEYMAP__INTERRUPT": "escape",
        "ML_INTERN_CONFIG_UNRELATED": "1",  # not a setting: ignored
        "ML_INTERN_TEST": "1",
    }
    settings = load(project, env=env).settings
    assert settings.model == "123"
    assert settings.stream is False
    assert settings.budget_usd == 2.5
    assert settings.suggested_models == ["x/y"]
    assert settings.keymap == {"interrupt": "escape"}


def test_ml_intern_config_names_the_user_file(project: Path, tmp_path: Path) -> None:
    custom = write(tmp_path / "elsewhere.toml", 'mode = "yolo"\n')
    env = {**os.environ, "ML_INTERN_CONFIG": str(custom)}
    loaded = load(project, env=env)
    assert loaded.settings.mode == "yolo"
    assert loaded.user_path == custom

    missing = tmp_path / "missing.toml"
    problems = problems_of(project, env={**os.environ, "ML_INTERN_CONFIG": str(missing)})
    assert problems == [
        f"{missing}: file not found (ML_INTERN_CONFIG points here); "
        "create it or unset ML_INTERN_CONFIG"
    ]


# ----------------------------------------------------------------------------- ${VAR}


def test_env_substitution_with_value_default_and_escape(project: Path) -> None:
    project_file(
        project,
        """
        model = "${MODEL_ORG}/${MODEL_NAME:-fallback}"
        [ui]
        theme = "$${NOT_A_VAR}"
        [mcp.servers.local]
        command = "${TOOLS_DIR}/server"
        args = ["--token", "${TOKEN:-}"]
        env = { HOME_DIR = "${HOME_DIR:-/home/x}" }
        """,
    )
    env = {**os.environ, "MODEL_ORG": "org", "TOOLS_DIR": "/opt", "HOME_DIR": ""}
    settings = load(project, env=env, trust="trust").settings
    assert settings.model == "org/fallback"
    assert settings.ui.theme == "${NOT_A_VAR}"
    server = settings.mcp.servers["local"]
    assert server.command == "/opt/server"
    assert server.args == ["--token", ""]
    assert server.env == {"HOME_DIR": "/home/x"}  # ":-" also covers an empty variable


def test_missing_variable_names_file_key_and_variable(project: Path) -> None:
    proj = project_file(
        project, '[mcp.servers.s]\nurl = "https://x"\nheaders = { A = "${NOPE}" }\n'
    )
    assert problems_of(project) == [
        f"{proj}: mcp.servers.s.headers.A: environment variable NOPE is not set "
        "(set it, or write ${NOPE:-default})"
    ]


# ----------------------------------------------------------------------------- problems


def test_wrong_type_names_the_file_and_the_key(project: Path) -> None:
    user = user_file('max_iterations = "lots"\n')
    assert problems_of(project) == [f"{user}: max_iterations: expected an integer, got 'lots'"]


def test_problem_is_blamed_on_the_layer_that_supplied_the_value(project: Path) -> None:
    user_file("[context]\ncompact_threshold = 0.8\n")
    proj = project_file(project, "[context]\ncompact_threshold = 0.2\n")
    assert problems_of(project) == [
        f"{proj}: context.compact_threshold: expected a value at least 0.5, got 0.2"
    ]


def test_every_problem_gets_its_own_line(project: Path) -> None:
    user = user_file('mode = "fast"\nbudget_usd = 0\n[ui]\nshow_reasoning = "maybe"\n')
    env = {**os.environ, "ML_INTERN_TOOLS__BASH_TIMEOUT_S": "soon"}
    problems = problems_of(project, env=env, cli_overrides={"llm.max_retries": -1})
    assert sorted(problems) == sorted(
        [
            f"{user}: mode: expected one of 'ask', 'auto' or 'yolo', got 'fast'",
            f"{user}: budget_usd: expected a value greater than 0.0, got 0",
            f"{user}: ui.show_reasoning: expected true or false, got 'maybe'",
            "environment variable ML_INTERN_TOOLS__BASH_TIMEOUT_S: tools.bash_timeout_s: "
            "expected an integer, got 'soon'",
            "command line: llm.max_retries: expected a value at least 0, got -1",
        ]
    )
    assert all("\n" not in p for p in problems)


def test_unknown_key_is_named_with_a_suggestion(project: Path) -> None:
    user = user_file("max_iteration = 5\n[llm]\ntimeout = 3\n[ui]\ncolour = 'red'\n")
    assert sorted(problems_of(project)) == [
        f"{user}: llm.timeout: unknown setting; did you mean 'timeout_s'?",
        f"{user}: max_iteration: unknown setting; did you mean 'max_iterations'?",
        f"{user}: ui.colour: unknown setting; see configs/default.toml for the settings",
    ]


def test_free_form_tables_accept_any_keys(project: Path) -> None:
    project_file(
        project,
        """
        [keymap]
        "my.binding" = "ctrl+k"
        [mcp.servers.gh]
        url = "https://example.invalid/mcp"
        headers = { X-Anything = "1" }
        [notifications.destinations.slack]
        type = "slack"
        webhook_url = "https://hooks.example/x"
        """,
    )
    settings = load(project, trust="trust").settings
    assert settings.keymap == {"my.binding": "ctrl+k"}
    assert settings.mcp.servers["gh"].headers == {"X-Anything": "1"}
    assert settings.notifications.destinations["slack"].events[0] == "approval_required"


def test_mcp_server_must_be_local_or_remote(project: Path) -> None:
    proj = project_file(
        project,
        """
        [mcp.servers.both]
        command = "srv"
        url = "https://x"
        [mcp.servers.typo]
        command = "srv"
        trustd = true
        """,
    )
    assert sorted(problems_of(project)) == [
        f"{proj}: mcp.servers.both: set either command (a local server) or url (a remote one)",
        f"{proj}: mcp.servers.typo.trustd: unknown setting; did you mean 'trusted'?",
    ]


def test_remembered_rule_problem_points_at_its_file(project: Path) -> None:
    user_file('[[approvals.remembered]]\ntool = "bash"\n')
    proj = project_file(project, '[[approvals.remembered]]\npattern = "x"\n')
    assert problems_of(project) == [
        f"{proj}: approvals.remembered[1].tool: required key is missing"
    ]


def test_toml_syntax_error_gives_file_line_and_fix(project: Path) -> None:
    user = user_file('model = "a/b"\n\n[llm]\ntimeout_s = fast\n')
    (problem,) = problems_of(project)
    assert problem.startswith(f"{user}: line 4, column 13: invalid TOML (Invalid value)")
    assert problem.endswith("strings need quotes; true/false are lowercase")


def test_cli_unknown_key_is_reported(project: Path) -> None:
    assert problems_of(project, cli_overrides={"ui.them": "x"}) == [
        "command line: ui.them: unknown setting; did you mean 'theme'?"
    ]


def test_config_error_message_is_the_problem_lines(project: Path) -> None:
    error = ConfigError(["a: b: c", "d: e: f"])
    assert str(error) == "a: b: c\nd: e: f"
