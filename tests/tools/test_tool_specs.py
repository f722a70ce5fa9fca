"""The JSON schema every built-in tool shows the model, generated from its Args model."""

from __future__ import annotations

import pytest

from ml_intern_tui.core.tool import Tool, ToolRouter
from ml_intern_tui.tools import ToolSettings, builtin_tools
from ml_intern_tui.tools.bash import BashTool

REQUIRED = {
    "bash": ["command"],
    "read": ["path"],
    "write": ["path", "content"],
    "edit": ["path", "old_str", "new_str"],
    "plan": ["todos"],
    "jobs": ["operation"],
    "trackio_metrics": ["operation"],
}


def test_builtin_tools_are_all_there_and_route() -> None:
    tools = builtin_tools(ToolSettings())
    names = ["bash", "read", "write", "edit", "plan", "jobs", "trackio_metrics"]
    assert [t.name for t in tools] == names
    router = ToolRouter(tools)
    assert len(router.specs()) == len(names)
    read_only = {t.name for t in tools if t.read_only}
    assert read_only == {"read", "plan", "jobs", "trackio_metrics"}


@pytest.mark.parametrize("tool", builtin_tools(), ids=lambda t: t.name)
def test_spec_has_required_fields_and_described_properties(tool: Tool) -> None:
    spec = tool.spec()
    assert spec["type"] == "function"
    function = spec["function"]
    assert function["name"] == tool.name and len(function["description"]) > 40
    params = function["parameters"]
    assert params["type"] == "object"
    assert params["additionalProperties"] is False
    assert sorted(params["required"]) == sorted(REQUIRED[tool.name])
    for name, prop in params["properties"].items():
        assert prop.get("description"), f"{tool.name}.{name} has no description"


def test_plan_items_are_described_too() -> None:
    spec = builtin_tools()[4].spec()
    todo = spec["function"]["parameters"]["$defs"]["PlanTodo"]
    assert todo["additionalProperties"] is False
    assert sorted(todo["required"]) == ["content", "id", "status"]
    assert todo["properties"]["status"]["enum"] == ["pending", "in_progress", "completed"]


def test_settings_reach_the_bash_tool() -> None:
    settings = ToolSettings(bash_timeout_s=30, bash_max_timeout_s=600, readonly_allowlist=["ls"])
    bash = builtin_tools(settings)[0]
    assert isinstance(bash, BashTool)
    assert bash.allowlist == ("ls",)
    description = bash.spec()["function"]["parameters"]["properties"]["timeout"]["description"]
    assert "default 30, max 600" in description


def test_a_spec_is_a_copy_the_caller_may_change() -> None:
    """Specs are copied for every model call (a provider adapter may mark or change
    them): a change to one never reaches the next."""
    tool = next(t for t in builtin_tools() if t.name == "plan")
    first = tool.spec()
    params = first["function"]["parameters"]
    params["properties"].clear()
    params["required"].append("changed")
    first["function"]["parameters"]["cache_control"] = {"type": "ephemeral"}
    again = tool.spec()["function"]["parameters"]
    assert again["properties"] and "changed" not in again["required"]
    assert "cache_control" not in again
    items = again["properties"]["todos"]
    assert items == tool.spec()["function"]["parameters"]["properties"]["todos"]
    assert items is not tool.spec()["function"]["parameters"]["properties"]["todos"]
