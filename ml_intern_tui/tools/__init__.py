"""Built-in tools: what the agent can do on this machine and on the Hub."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ml_intern_tui.core.tool import Tool
from ml_intern_tui.tools.bash import DEFAULT_READONLY_ALLOWLIST, BashTool
from ml_intern_tui.tools.edit import EditTool
from ml_intern_tui.tools.files import ReadTool, WriteTool
from ml_intern_tui.tools.jobs import JobsTool
from ml_intern_tui.tools.plan import PlanTool
from ml_intern_tui.tools.trackio_metrics import TrackioMetricsTool


@dataclass
class ToolSettings:
    """Knobs of the local tools (filled from the config by ``runtime/agent.py``)."""

    bash_timeout_s: int = 120
    bash_max_timeout_s: int = 3600
    readonly_allowlist: list[str] | None = None
    """Commands ``bash`` runs without approval; ``None`` means the built-in list."""
    spill_dir: Path | None = None
    """Where cut ``bash`` output is saved in full; ``None``: the session's own directory
    next to its journal (``ToolContext.files_dir``), deleted with the session."""
    bash_pass_env: list[str] | None = None
    """Variables ``bash`` passes although they look secret (``[tools.bash] pass_env``)."""


def builtin_tools(settings: ToolSettings | None = None) -> list[Tool]:
    """One instance of every local built-in tool, in the order the model sees them."""
    settings = settings or ToolSettings()
    return [
        BashTool(
            timeout_s=settings.bash_timeout_s,
            max_timeout_s=settings.bash_max_timeout_s,
            readonly_allowlist=settings.readonly_allowlist,
            spill_dir=settings.spill_dir,
            pass_env=settings.bash_pass_env,
        ),
        ReadTool(),
        WriteTool(),
        EditTool(),
        PlanTool(),
        JobsTool(),
        TrackioMetricsTool(),
    ]


def ecosystem_tools() -> list[Tool]:
    """The Hugging Face and GitHub tools (they use the ``hub`` service and the network)."""
    from ml_intern_tui.tools.github import (
        GithubFindExamplesTool,
        GithubListReposTool,
        GithubReadFileTool,
    )
    from ml_intern_tui.tools.hf_dataset import HfDatasetInspectTool
    from ml_intern_tui.tools.hf_docs import HfDocsFetchTool, HfDocsSearchTool
    from ml_intern_tui.tools.hf_jobs import HfJobsTool
    from ml_intern_tui.tools.hf_papers import HfPapersTool
    from ml_intern_tui.tools.hf_repo_files import HfRepoFilesTool
    from ml_intern_tui.tools.hf_repo_git import HfRepoGitTool
    from ml_intern_tui.tools.research import ResearchTool
    from ml_intern_tui.tools.web_fetch import WebFetchTool
    from ml_intern_tui.tools.web_search import WebSearchTool

    return [
        ResearchTool(),
        HfDocsSearchTool(),
        HfDocsFetchTool(),
        HfPapersTool(),
        HfDatasetInspectTool(),
        HfRepoFilesTool(),
        HfRepoGitTool(),
        HfJobsTool(),
        GithubFindExamplesTool(),
        GithubListReposTool(),
        GithubReadFileTool(),
        WebSearchTool(),
        WebFetchTool(),
    ]


def notify_tools(destinations: list[str]) -> list[Tool]:
    """``notify`` when some notification destination lets the agent post, else nothing."""
    from ml_intern_tui.tools.notify import NotifyTool

    return [NotifyTool(destinations)] if destinations else []


__all__ = [
    "DEFAULT_READONLY_ALLOWLIST",
    "BashTool",
    "EditTool",
    "JobsTool",
    "PlanTool",
    "ReadTool",
    "ToolSettings",
    "TrackioMetricsTool",
    "WriteTool",
    "builtin_tools",
    "ecosystem_tools",
    "notify_tools",
]
