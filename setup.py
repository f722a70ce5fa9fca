"""Build hook: ship the top-level configs/ and themes/ folders inside the wheel.

They live at the repository root so users and reviewers find them easily; a non-editable
install copies them to ``ml_intern_tui/_data/`` where ``ml_intern_tui.resources`` looks.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED_DIRS = ("configs", "themes")


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        root = Path(__file__).parent
        for name in BUNDLED_DIRS:
            target = Path(self.build_lib) / "ml_intern_tui" / "_data" / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(root / name, target)


setup(cmdclass={"build_py": BuildPyWithData})
