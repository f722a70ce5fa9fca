"""Where remembered approvals come from, where answers go, and how each is removed."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from ml_intern_tui import paths
from ml_intern_tui.approval_rules import RuleKeeper, gather
from ml_intern_tui.config import load_config
from ml_intern_tui.config.rules_store import RulesStore
from ml_intern_tui.core.protocol import EventBase, Notice
from ml_intern_tui.core.tool import RememberRule


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = (tmp_path / "project").resolve()
    (root / ".ml-intern").mkdir(parents=True)
    return root


USER = textwrap.dedent(
    """\
    # mine
    [[approvals.remembered]]
    tool = "bash"
    pattern = "ls*"   # listing is fine
    """
)


def test_each_rule_says_where_it_lives(project: Path) -> None:
    paths.user_config_path().parent.mkdir(parents=True)
    paths.user_config_path().write_text(USER)
    (project / ".ml-intern" / "config.toml").write_text(
        '[[approvals.remembered]]\ntool = "write"\npattern = "out/*"\n'
    )
    RulesStore().add(project, RememberRule(tool="bash", operation="run", pattern="make*"))
    env = {**os.environ, "ML_INTERN_APPROVALS__REMEMBERED": '[{tool = "read"}]'}
    loaded = load_config(cwd=project, env=env, trust="trust")
    book = gather(loaded.settings, project, loaded)
    assert [r.describe() for r in book.rules] == [
        "bash: ls*",
        "write: out/*",
        "read: *",
        "bash run: make*",
    ]
    assert book.sources["bash: ls*"] == f"your config ({paths.user_config_path()})"
    assert book.sources["bash run: make*"].startswith("your answer for this project")
    assert set(book.fixed) == {"write: out/*", "read: *"}
    assert "edit that file" in book.fixed["write: out/*"]
    assert "ML_INTERN_APPROVALS__REMEMBERED" in book.fixed["read: *"]

    untrusted = load_config(cwd=project, env=env)
    assert "write: out/*" not in gather(untrusted.settings, project, untrusted).sources


def test_answers_go_to_the_store_and_removal_keeps_the_users_comments(project: Path) -> None:
    user = paths.user_config_path()
    user.parent.mkdir(parents=True)
    user.write_text(USER + '\n[[approvals.remembered]]\ntool = "read"\n')
    events: list[EventBase] = []
    keeper = RuleKeeper(project, user, events.append)
    keeper.persist(RememberRule(tool="bash", operation="run", pattern="python train.py*"))
    assert [r.describe() for r in RulesStore().load(project)[0]] == ["bash run: python train.py*"]
    assert isinstance(events[-1], Notice) and "/permissions" in events[-1].text
    assert not (project / ".ml-intern" / "config.toml").exists()

    keeper.forget(RememberRule(tool="bash", operation="run", pattern="python train.py*"))
    keeper.forget(RememberRule(tool="read"))
    assert RulesStore().load(project)[0] == []
    assert user.read_text() == USER  # the other rule and its comment are untouched


def test_a_store_that_cannot_be_written_says_so_once(project: Path) -> None:
    store = RulesStore()
    store.path.parent.parent.mkdir(parents=True, exist_ok=True)
    store.path.parent.write_text("a file where the data directory should be")
    events: list[EventBase] = []
    RuleKeeper(project, None, events.append).persist(RememberRule(tool="bash"))
    (notice,) = events
    assert isinstance(notice, Notice) and notice.level == "warning"
    assert "this session only" in notice.text
