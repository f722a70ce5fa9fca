"""Finding 3: a free write arms a later read-only git command.

Writing ``.git/config`` (or a file it includes, a hook, a submodule's config, the
environment) can make ``git status``/``git log``/``git diff`` run anything. Each armed
repository here is first proven to fire (the control runs the git command for real and
the marker appears); then the analysis must refuse to call that git command read-only,
and the bash tool must ask for it instead of running it.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.core.protocol import Approval, ApprovalDecision, UserInput
from ml_intern_tui.core.tool import SessionState, ToolContext
from ml_intern_tui.safety.shell_analysis import analyse_command
from ml_intern_tui.tools.bash import BashArgs, BashTool

IDENTITY = ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]


def git(repo: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(
        ["git", *IDENTITY, *args], cwd=repo, env=env, check=True, capture_output=True, timeout=30
    )


@dataclass
class Site:
    """A home, a repository with one committed file, and where the marker goes."""

    home: Path
    repo: Path
    marker: Path

    @property
    def env(self) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        return {**clean, "HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home / ".config")}

    def config(self, key: str, value: str, *, file: Path | None = None) -> None:
        target = ["--file", str(file)] if file is not None else []
        git(self.repo, "config", *target, key, value, env=self.env)

    def executable(self, path: Path, body: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
        return path

    def touch_file(self) -> None:
        """Same content, new mtime: git must re-read the file (filters, hooks run)."""
        os.utime(self.repo / "a.txt", (1_600_000_000, 1_600_000_000))

    def run(self, command: str) -> None:
        subprocess.run(
            ["/bin/sh", "-c", command],
            cwd=self.repo,
            env=self.env,
            capture_output=True,
            timeout=30,
            check=False,
        )


def make_site(root: Path) -> Site:
    home = root / "home"
    repo = root / "repo"
    home.mkdir(parents=True)
    repo.mkdir()
    site = Site(home=home, repo=repo, marker=root / "fired")
    git(repo, "init", "-q", env=site.env)
    (repo / "a.txt").write_text("one\n")
    git(repo, "add", "a.txt", env=site.env)
    git(repo, "commit", "-q", "-m", "init", env=site.env)
    return site


def arm_fsmonitor(site: Site) -> str:
    site.config("core.fsmonitor", f"touch {site.marker}; false")
    return "git status"


def arm_diff_external(site: Site) -> str:
    (site.repo / "a.txt").write_text("two\n")
    site.config("diff.external", f"touch {site.marker} #")
    return "git diff"


def arm_textconv(site: Site) -> str:
    (site.repo / ".gitattributes").write_text("*.txt diff=conv\n")
    (site.repo / "a.txt").write_text("two\n")
    site.config("diff.conv.textconv", f"touch {site.marker}; cat")
    return "git diff"


def arm_clean_filter(site: Site) -> str:
    (site.repo / ".gitattributes").write_text("*.txt filter=f\n")
    site.config("filter.f.clean", f"touch {site.marker}; cat")
    site.touch_file()
    return "git status --short"


def arm_hooks_path(site: Site) -> str:
    hooks = site.repo / "tools" / "hooks"
    site.executable(hooks / "post-index-change", f"touch {site.marker}")
    site.config("core.hooksPath", str(hooks))
    site.touch_file()
    return "git status"


def arm_hook(site: Site) -> str:
    site.executable(site.repo / ".git" / "hooks" / "post-index-change", f"touch {site.marker}")
    site.touch_file()
    return "git status"


def arm_include(site: Site) -> str:
    included = site.repo / "docs" / "settings.cfg"  # an ordinary project file
    included.parent.mkdir()
    included.write_text(f"[core]\n\tfsmonitor = touch {site.marker}; false\n")
    site.config("include.path", str(included))
    return "git status --short"


def arm_include_if(site: Site) -> str:
    included = site.repo / "notes.cfg"
    included.write_text(f"[core]\n\tfsmonitor = touch {site.marker}; false\n")
    site.config(f"includeIf.gitdir:{site.repo}/.git.path", str(included))
    return "git status"


def arm_global(site: Site) -> str:
    site.config("trace2.eventTarget", str(site.marker), file=site.home / ".gitconfig")
    return "git status"


def arm_xdg(site: Site) -> str:
    xdg = site.home / ".config" / "git" / "config"
    xdg.parent.mkdir(parents=True)
    xdg.write_text(f"[core]\n\tfsmonitor = touch {site.marker}; false\n")
    return "git status"


def arm_submodule(site: Site) -> str:
    library = site.repo.parent / "library"
    library.mkdir()
    git(library, "init", "-q", env=site.env)
    git(library, "commit", "-q", "--allow-empty", "-m", "init", env=site.env)
    git(site.repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "lib", env=site.env)  # fmt: skip
    git(site.repo, "commit", "-q", "-m", "lib", env=site.env)
    module = site.repo / ".git" / "modules" / "lib" / "config"
    site.config("core.fsmonitor", f"touch {site.marker}; false", file=module)
    return "git status"


def arm_embedded_repository(site: Site) -> str:
    nested = site.repo / "nested"
    nested.mkdir()
    git(nested, "init", "-q", env=site.env)
    git(nested, "commit", "-q", "--allow-empty", "-m", "init", env=site.env)
    git(site.repo, "add", "nested", env=site.env)
    git(site.repo, "commit", "-q", "-m", "nested", env=site.env)
    site.config("core.fsmonitor", f"touch {site.marker}; false", file=nested / ".git" / "config")
    return "git status"


ARMED: dict[str, Callable[[Site], str]] = {
    "core.fsmonitor": arm_fsmonitor,
    "diff.external": arm_diff_external,
    "textconv driver": arm_textconv,
    "clean filter": arm_clean_filter,
    "core.hooksPath": arm_hooks_path,
    "post-index-change hook": arm_hook,
    "include.path": arm_include,
    "includeIf": arm_include_if,
    "trace2 in ~/.gitconfig": arm_global,
    "XDG git config": arm_xdg,
    "submodule config": arm_submodule,
    "embedded repository": arm_embedded_repository,
}


def _ctx(cwd: Path) -> ToolContext:
    return ToolContext("c", "s", cwd, SessionState(), publish=lambda _e: None)


@pytest.mark.parametrize("name", list(ARMED))
def test_armed_git_fires_for_real_and_is_not_read_only(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path)
    command = ARMED[name](site)
    analysis = analyse_command(command, cwd=site.repo, env=site.env)
    assert not site.marker.exists(), "the analysis itself must not trigger the trap"
    assert analysis.read_only_reason is not None
    for key, value in site.env.items():
        monkeypatch.setenv(key, value)
    request = BashTool().approval(BashArgs(command=command), _ctx(site.repo))
    assert request is not None and "needs approval" in request.details
    assert not site.marker.exists()
    site.run(command)  # the control: the armed repository really runs the program
    assert site.marker.exists(), f"{name}: the trap did not fire, so the test proves nothing"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GIT_EXTERNAL_DIFF", "touch MARKER #"),
        ("GIT_CONFIG_COUNT", "1"),
        ("GIT_EXEC_PATH", "."),
        ("GIT_TRACE2_EVENT", "MARKER"),
        ("GIT_INDEX_FILE", "other-index"),
        ("GIT_PAGER", "touch MARKER"),
    ],
)
def test_git_environment_that_runs_or_writes_is_not_read_only(
    variable: str, value: str, tmp_path: Path
) -> None:
    site = make_site(tmp_path)
    (site.repo / "a.txt").write_text("two\n")
    marker = str(site.marker)
    env = {**site.env, variable: value.replace("MARKER", marker)}
    if variable == "GIT_CONFIG_COUNT":
        env |= {"GIT_CONFIG_KEY_0": "core.fsmonitor", "GIT_CONFIG_VALUE_0": f"touch {marker}"}
    assert analyse_command("git diff", cwd=site.repo, env=env).read_only_reason is not None


def test_an_alias_never_passes_for_a_user_allowed_git_subcommand(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    allow = ["git"]  # the user vouches for any git subcommand the tables do not know
    assert analyse_command("git wip", cwd=site.repo, env=site.env, allowlist=allow).read_only
    site.config("alias.wip", f"!touch {site.marker}")
    analysis = analyse_command("git wip", cwd=site.repo, env=site.env, allowlist=allow)
    assert analysis.read_only_reason is not None and "alias" in analysis.read_only_reason
    site.run("git wip")
    assert site.marker.exists()


def test_git_dash_c_and_cd_check_the_repository_they_name(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    arm_fsmonitor(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**site.env, "HOME": str(tmp_path)}
    for command in (
        f"git -C {site.repo} status",
        "git -C ~/repo status",
        "git -C ../repo status",
        f"cd {site.repo} && git status",
        "cd ~/repo && git status",
        "ls; cd ../repo; git status",
    ):
        analysis = analyse_command(command, cwd=elsewhere, env=env)
        reason = analysis.read_only_reason
        assert reason is not None and "fsmonitor" in reason, command
    cdpath = {**env, "CDPATH": str(tmp_path)}
    reason = analyse_command("cd repo && git status", cwd=elsewhere, env=cdpath).read_only_reason
    assert reason is not None and "fsmonitor" in reason


def test_everyday_configuration_keeps_git_read_only(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    (site.home / ".gitconfig").write_text(
        '[filter "lfs"]\n\tclean = git-lfs clean -- %f\n\tsmudge = git-lfs smudge -- %f\n'
        "\tprocess = git-lfs filter-process\n\trequired = true\n"
        "[core]\n\tpager = less -FRX\n\teditor = \n[credential]\n\thelper = store\n"
        "[alias]\n\tst = status\n[pager]\n\tdiff = delta | less\n"
        "[diff]\n\tcolorMoved = zebra\n[user]\n\tname = Someone\n"
    )
    site.config("remote.origin.url", "https://huggingface.co/org/model")
    (site.repo / ".gitattributes").write_text("*.bin filter=lfs diff=lfs merge=lfs -text\n")
    for command in ("git status", "git log --oneline -5", "git diff HEAD", "git branch -a"):
        assert analyse_command(command, cwd=site.repo, env=site.env).read_only, command


def test_an_editor_key_in_the_repository_still_asks(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    site.config("core.pager", f"sh -c 'touch {site.marker}'")
    reason = analyse_command("git log", cwd=site.repo, env=site.env).read_only_reason
    assert reason is not None and "core.pager" in reason


async def test_armed_repositories_ask_through_the_real_loop(
    fake_openai: FakeOpenAI, harness_factory, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model that armed several repositories earlier now sends the read commands."""
    commands = []
    markers = []
    for name in ("core.fsmonitor", "clean filter", "include.path", "post-index-change hook"):
        site = make_site(workspace / name.replace(" ", "-").replace(".", "-"))
        commands.append(f"cd {site.repo.relative_to(workspace)} && {ARMED[name](site)}")
        markers.append(site.marker)
    monkeypatch.setenv("HOME", str(site.home))
    calls = [("bash", json.dumps({"command": command})) for command in commands]
    fake_openai.enqueue(Reply(text="", tool_calls=calls), Reply(text="ok"))
    h = await harness_factory(mode="ask")
    h.submit(UserInput(text="check the repositories"))
    request = await h.wait_for("approval_required")
    assert len(request.items) == len(commands)
    h.submit(
        Approval(
            decisions=[ApprovalDecision(call_id=i.call_id, approved=False) for i in request.items]
        )
    )
    await h.wait_for("turn_complete")
    assert [m for m in markers if m.exists()] == []
