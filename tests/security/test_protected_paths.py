"""Protected paths: the places where one quiet write becomes code execution later."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ml_intern_tui.safety.protected import protected_reason, sandbox_readonly


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    (path / ".git" / "hooks").mkdir(parents=True)
    (path / ".git" / "config").write_text("[core]\n")
    (path / "src").mkdir()
    return path


@pytest.mark.parametrize(
    "rel",
    [
        ".git/config",
        ".git/hooks/pre-commit",
        ".ml-intern/config.toml",
        "vendor/lib/.git/config",  # a nested repository
        "sub/.ml-intern/commands/x.md",
    ],
)
def test_in_project_protected(project: Path, home: Path, rel: str) -> None:
    assert protected_reason(project / rel, project=project, home=home) is not None


@pytest.mark.parametrize(
    "rel", [".bashrc", ".profile", ".zshrc", ".ssh/authorized_keys", ".gitconfig", ".netrc"]
)
def test_home_start_up_and_credentials_protected(project: Path, home: Path, rel: str) -> None:
    assert protected_reason(home / rel, project=project, home=home) is not None


def test_app_config_and_data_protected(project: Path, home: Path) -> None:
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern-tui" / "config.toml"
    data = Path(os.environ["XDG_DATA_HOME"]) / "ml-intern-tui" / "trust.json"
    assert protected_reason(config, project=project, home=home) is not None
    assert protected_reason(data, project=project, home=home) is not None


def test_symlink_into_git_config_is_caught(project: Path, home: Path) -> None:
    link = project / "src" / "innocent.txt"
    link.symlink_to(project / ".git" / "config")
    assert protected_reason(link, project=project, home=home) is not None
    bashrc_link = project / "src" / "rc"
    bashrc_link.symlink_to(home / ".bashrc")
    assert protected_reason(bashrc_link, project=project, home=home) is not None


@pytest.mark.parametrize("rel", ["train.py", "src/model.py", ".gitignore", "git/config", "data/x"])
def test_ordinary_project_files_are_not_protected(project: Path, home: Path, rel: str) -> None:
    assert protected_reason(project / rel, project=project, home=home) is None


def test_sandbox_readonly_lists_existing_paths(project: Path) -> None:
    assert sandbox_readonly(project) == [project / ".git/hooks", project / ".git/config"]
    (project / ".ml-intern").mkdir()
    assert project / ".ml-intern" in sandbox_readonly(project)
