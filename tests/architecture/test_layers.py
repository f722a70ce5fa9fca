"""The layer rules of DESIGN.md, enforced."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "ml_intern_tui"
FORBIDDEN_IN_CORE = (
    "textual",
    "ml_intern_tui.tools",
    "ml_intern_tui.tui",
    "ml_intern_tui.integrations",
)
HEAVY = ("litellm", "textual", "huggingface_hub", "fastmcp")


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_core_imports_no_textual_tools_tui_or_integrations() -> None:
    offenders = [
        f"{path.name}: {name}"
        for path in sorted((PACKAGE / "core").glob("*.py"))
        for name in _imports(path)
        if name.startswith(FORBIDDEN_IN_CORE)
    ]
    assert offenders == []


def test_importing_core_pulls_in_no_heavy_library() -> None:
    modules = [
        f"ml_intern_tui.core.{p.stem}"
        for p in (PACKAGE / "core").glob("*.py")
        if p.stem != "__init__"
    ]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"bad = [m for m in sys.modules if m.split('.')[0] in {HEAVY!r}]\n"
        + "print(','.join(sorted(bad)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_cli_module_imports_only_the_standard_library_at_import_time() -> None:
    code = "import sys, ml_intern_tui.cli; print(','.join(m for m in sys.modules if m.split('.')[0] in ('pydantic','litellm','textual','huggingface_hub','fastmcp')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_no_module_over_600_lines() -> None:
    big = [
        f"{p.relative_to(PACKAGE)} ({n} lines)"
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 600
    ]
    assert big == []


def test_building_the_tool_list_imports_no_network_library() -> None:
    """Start-up builds every tool; their clients (httpx, hub, litellm) load on first use."""
    code = (
        "import sys\n"
        "from ml_intern_tui.tools import builtin_tools, ecosystem_tools\n"
        "builtin_tools(); ecosystem_tools()\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] in "
        "('httpx', 'huggingface_hub', 'litellm', 'fastmcp', 'lxml', 'html_to_markdown')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
