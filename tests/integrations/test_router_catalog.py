"""The router catalog client: httpx against the fake router, the disk cache, failures."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.http_server import FakeHTTPServer, FakeResponse
from fakes.router_server import FakeRouter

from ml_intern_tui.integrations import router_catalog
from ml_intern_tui.integrations.router_catalog import RouterCatalogClient, unknown_model_problem


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def router() -> Iterator[FakeRouter]:
    with FakeRouter() as fake:
        yield fake


def client(
    router: FakeRouter | str, cache: Path, clock: Clock | None = None
) -> RouterCatalogClient:
    base = router if isinstance(router, str) else router.base_url
    return RouterCatalogClient(base, cache, clock=clock or Clock(), timeout_s=2.0)


async def test_fetches_once_then_serves_the_disk_copy_for_a_day(
    router: FakeRouter, tmp_path: Path
) -> None:
    clock = Clock()
    first = client(router, tmp_path, clock)
    updates: list[int] = []
    first.on_update(lambda: updates.append(len(first.current() or [])))
    catalog = await first.ready()
    assert catalog is not None and catalog.find("moonshotai/Kimi-K2.6") is not None
    assert router.model_listings == 1 and updates == [len(catalog)]
    record = json.loads(first.path.read_text())
    assert record["base"] == router.base_url and record["payload"]["data"]

    clock.now += 23 * 3600  # a new start the next day: the copy is still fresh
    second = client(router, tmp_path, clock)
    assert (await second.ready()) is not None
    assert router.model_listings == 1

    clock.now += 2 * 3600  # over 24 h: fetched again
    third = client(router, tmp_path, clock)
    await third.ready()
    assert router.model_listings == 2 and third.fresh


async def test_a_stale_copy_is_used_offline_and_failures_wait_a_minute(
    router: FakeRouter, tmp_path: Path
) -> None:
    clock = Clock()
    await client(router, tmp_path, clock).ready()
    clock.now += 30 * 3600
    router.fail_models(10)
    offline = client(router, tmp_path, clock)
    catalog = await offline.ready()
    assert catalog is not None and catalog.find("zai-org/GLM-5.1") is not None  # stale copy
    assert not offline.fresh and "503" in (offline.error or "")
    assert router.model_listings == 2

    offline.start()  # failed a moment ago: no new request
    await offline.wait(2)
    restarted = client(router, tmp_path, clock)  # also not after a restart
    await restarted.ready()
    assert router.model_listings == 2 and restarted.current() is not None

    clock.now += 61
    await restarted.ready()
    assert router.model_listings == 3


async def test_no_copy_and_no_router_means_no_catalog(tmp_path: Path) -> None:
    with FakeHTTPServer() as dead:  # no /v1/models route: 404
        lost = client(f"{dead.base_url}/v1", tmp_path)
        assert await lost.ready() is None
        assert "404" in (lost.error or "") and not lost.pending()


@pytest.mark.parametrize(
    "answer",
    [
        FakeResponse.text("<html>maintenance</html>", content_type="text/html"),
        FakeResponse.json({"data": 5}),
        FakeResponse.json(["not", "a", "catalog"]),
    ],
)
async def test_an_answer_that_is_not_a_catalog_is_a_failure(
    answer: FakeResponse, tmp_path: Path
) -> None:
    with FakeHTTPServer() as server:
        server.route("GET", r"/v1/models")(lambda _req: answer)
        odd = client(f"{server.base_url}/v1", tmp_path)
        assert await odd.ready() is None
        assert "did not answer a model catalog" in (odd.error or "")


async def test_an_oversized_answer_is_refused(
    router: FakeRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(router_catalog, "MAX_BYTES", 2000)
    big = client(router, tmp_path)
    assert await big.ready() is None and "more than" in (big.error or "")


def test_unknown_model_problem_for_the_command_line(router: FakeRouter, tmp_path: Path) -> None:
    problem = unknown_model_problem(router.base_url, tmp_path, "zai-org/GLM-5.2")
    assert problem is not None and "did you mean zai-org/GLM-5.1" in problem
    assert unknown_model_problem(router.base_url, tmp_path, "zai-org/GLM-5.1:novita") is None
    router.fail_models(5)
    assert unknown_model_problem("http://127.0.0.1:9/v1", tmp_path / "x", "a/b") is None
