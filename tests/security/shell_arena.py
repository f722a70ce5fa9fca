"""A disposable place to run attack commands: a home, a project and planted traps.

Every attack in the security tests leaves a marker file when it really runs. The arena
gives each a home (``HOME`` points there, so ``~/x`` stays inside the test) and a
project directory with the files some attacks rely on: a program named ``ls`` planted in
the project, a symlink to ``/proc/self/environ``, file names that look like options.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Arena:
    root: Path
    home: Path
    work: Path

    @property
    def env(self) -> dict[str, str]:
        """The environment commands run with (``HOME`` inside the arena)."""
        return {**os.environ, "HOME": str(self.home)}

    def marker(self, name: str) -> Path:
        """``~/x`` is in the arena's home; anything else is relative to the project."""
        return self.home / name[2:] if name.startswith("~/") else self.work / name

    def run(self, command: str, shell: str = "/bin/sh") -> subprocess.CompletedProcess[bytes]:
        """Run ``command`` for real (controls: prove an attack does what it claims)."""
        return subprocess.run(
            [shell, "-c", command],
            cwd=self.work,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        )


def build_arena(root: Path) -> Arena:
    home = root / "home"
    work = root / "work"
    home.mkdir(parents=True)
    work.mkdir()
    (work / "data.txt").write_text("b\na\nc\n")
    (work / "README.md").write_text("# project\n")
    planted = work / "ls"
    planted.write_text('#!/bin/sh\ntouch "$HOME/planted-ls"\n')
    planted.chmod(0o755)
    (work / "envlink").symlink_to("/proc/self/environ")
    fake_pip = work / "pip"
    fake_pip.mkdir()
    (fake_pip / "__init__.py").write_text("")
    (fake_pip / "__main__.py").write_text(
        "import os, pathlib\npathlib.Path(os.environ['HOME'], 'planted-pip').touch()\n"
    )
    injection = work / "inj"
    injection.mkdir()
    (injection / "--output=inj-out").write_text("")
    (injection / "data").write_text("x\n")
    rmglob = work / "rmglob"
    (rmglob / "sub").mkdir(parents=True)
    (rmglob / "-rf").write_text("")
    git = [
        "git",
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "-c",
        "init.defaultBranch=main",
    ]
    subprocess.run(
        [*git, "init", "-q"], cwd=work, check=True, env={**os.environ, "HOME": str(home)}
    )
    subprocess.run(
        [*git, "commit", "-q", "--allow-empty", "-m", "init"],
        cwd=work,
        check=True,
        env={**os.environ, "HOME": str(home)},
    )
    (home / ".netrc").write_text("machine h login u password p\n")
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_rsa").write_text("PRIVATE KEY\n")
    return Arena(root=root, home=home, work=work)


def run_cli(
    args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """The real ``ml-intern-tui`` in a subprocess (headless)."""
    import sys

    return subprocess.run(
        [sys.executable, "-m", "ml_intern_tui.cli", *args],
        cwd=cwd,
        env={**env, "ML_INTERN_LLM__MAX_RETRIES": "1", "ML_INTERN_LLM__RETRY_BASE_DELAY_S": "0.01"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
