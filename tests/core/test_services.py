"""The typed services seam: one frozen record, a clear line when a tool needs a missing one."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from ml_intern_tui.core.services import HubService, Services
from ml_intern_tui.core.tool import SessionState, ToolContext, ToolError, require
from ml_intern_tui.tools.hf_docs import _endpoint


def test_services_are_frozen_and_changed_by_replacing() -> None:
    services = Services(spill_dir=Path("/tmp/spill"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        services.spill_dir = None  # type: ignore[misc]
    changed = dataclasses.replace(services, spill_dir=None)
    assert changed.spill_dir is None and services.spill_dir == Path("/tmp/spill")


def test_a_missing_service_is_one_line_naming_it() -> None:
    with pytest.raises(ToolError) as caught:
        require(Services().hub, "hub")
    assert str(caught.value) == "the 'hub' service is not available in this session"
    assert require(Services(spill_dir=Path("x")).spill_dir, "spill_dir") == Path("x")


class _Hub:
    """A Hub client of our own: anything shaped like ``HubService`` serves the tools."""

    endpoint = "http://127.0.0.1:9"
    token = None

    def require_token(self) -> str:
        raise ToolError("no token")

    @property
    def api(self) -> Any:
        raise AssertionError("not used")

    async def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    def url(self, path: str) -> str:
        return f"{self.endpoint}/{path}"

    async def whoami(self) -> Any:
        raise AssertionError("not used")


def test_a_tool_without_the_hub_says_so_and_uses_the_one_it_is_given(tmp_path: Path) -> None:
    ctx = ToolContext("c", "s", tmp_path, SessionState(), publish=lambda _e: None)
    with pytest.raises(ToolError, match="'hub' service is not available"):
        _endpoint(None, ctx)
    hub: HubService = _Hub()  # the Protocol is what mypy checks the fake against
    ctx.services = Services(hub=hub)
    assert _endpoint(None, ctx) == "http://127.0.0.1:9"
