"""Fixtures for sandbox Space tests: a fake Hub with Spaces, and a rig around it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fakes.http_server import FakeHTTPServer
from space_rig import SpaceRig, make_rig


@pytest.fixture
def fake_hub() -> Iterator[FakeHTTPServer]:
    server = FakeHTTPServer()
    yield server
    server.close()


@pytest.fixture
async def rig(fake_hub: FakeHTTPServer, tmp_path: Path) -> AsyncIterator[SpaceRig]:
    built = make_rig(fake_hub, tmp_path)
    yield built
    await built.manager.aclose()
    await built.jobs.shutdown()
    built.spaces.close()
