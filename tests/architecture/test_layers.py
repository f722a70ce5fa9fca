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

UI_MAY_IMPORT = (
    "ml_intern_tui.tui",
    "ml_intern_tui.core",
    "ml_intern_tui.config.writer",  # ``/theme`` saves the choice in the user config
    "ml_intern_tui.config.schema",  # the validated ``AppConfig`` the UI reads (its type)
    "ml_intern_tui.paths",
    "ml_intern_tui.resources",
    "ml_intern_tui.safety.terminal",  # everything drawn is terminal-safe
    "ml_intern_tui.safety.trust_changes",  # the trust question's text
    "ml_intern_tui.safety.trust_store",  # its type only
)
"""What ``tui/`` may import: it talks to services (traces, MCP, jobs, Slack…) through ops
and events, never by importing them or the composition root (``runtime/``)."""
NEVER_IMPORT_THE_UI = (
    "core", "tools", "services", "integrations", "jobs", "traces", "safety", "runtime"
)  # fmt: skip


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports, at the top or inside a function (lazily)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "ml_intern_tui":
            names.extend(f"ml_intern_tui.{alias.name}" for alias in node.names)  # ``import agent``
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def layer_offenders(package: Path) -> list[str]:
    """Imports that break the layers: ``tui/`` reaching past its allowlist, and any of
    ``NEVER_IMPORT_THE_UI`` importing ``tui/``."""
    offenders = [
        f"{path.relative_to(package)}: {name}"
        for path in sorted((package / "tui").rglob("*.py"))
        for name in _imports(path)
        if name.startswith("ml_intern_tui") and not _within(name, UI_MAY_IMPORT)
    ]
    offenders += [
        f"{path.relative_to(package)}: {name}"
        for layer in NEVER_IMPORT_THE_UI
        for path in sorted((package / layer).rglob("*.py"))
        for name in _imports(path)
        if _within(name, ("ml_intern_tui.tui", "textual"))
        and not (layer == "safety" and name.startswith("textual"))
    ]
    return offenders


def test_the_ui_and_the_services_keep_to_their_layers() -> None:
    assert layer_offenders(PACKAGE) == []


def test_the_layer_check_catches_deliberate_bad_imports(tmp_path: Path) -> None:
    """Bad imports planted in a copy of the package's shape are all reported."""
    package = tmp_path / "ml_intern_tui"
    for layer, source in {
        "tui/slash.py": "from ml_intern_tui.services.traces import TraceUploader\n",
        "tui/screens/x.py": "def f():\n    from ml_intern_tui.runtime.agent import assemble\n",
        "tui/widgets/y.py": "import ml_intern_tui.safety.sandbox\n",
        "tui/ok.py": "from ml_intern_tui.core import protocol\nimport textual\n",
        "tools/bash.py": "def g():\n    import ml_intern_tui.tui.app\n",
        "services/z.py": "from textual.app import App\n",
    }.items():
        path = package / layer
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    assert layer_offenders(package) == [
        "tui/screens/x.py: ml_intern_tui.runtime.agent",
        "tui/slash.py: ml_intern_tui.services.traces",
        "tui/widgets/y.py: ml_intern_tui.safety.sandbox",
        "tools/bash.py: ml_intern_tui.tui.app",
        "services/z.py: textual.app",
    ]


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


BROKEN_CIRCLES = [
    ("cli", "headless"),  # the exit codes moved down to exit_codes.py
    ("tools/hf_jobs", "tools/hf_jobs_ops"),  # the shared pieces moved to hf_jobs_args.py
    ("demo/scripted", "demo/scenario"),  # steps and scenarios moved to demo/steps.py
]


def test_import_circles_stay_broken() -> None:
    """Neither module of each pair imports the other back, not even lazily."""

    def imports(module: str) -> set[str]:
        return set(_imports(PACKAGE / f"{module}.py"))

    def dotted(module: str) -> str:
        return "ml_intern_tui." + module.replace("/", ".")

    both_ways = [
        (a, b) for a, b in BROKEN_CIRCLES if dotted(b) in imports(a) and dotted(a) in imports(b)
    ]
    assert both_ways == []
