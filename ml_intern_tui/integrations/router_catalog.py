"""The router catalog, fetched in the background and cached on disk.

``GET {router base}/models`` through httpx (no token: the listing is public). The answer
is kept in ``$XDG_CACHE_HOME/ml-intern-tui/router-catalog-<hash of base>.json``:

- a copy younger than ``ttl_s`` (24 h) is used as is, without asking the router;
- an older copy is used at once while a fresh one is fetched, and stays in use when the
  router cannot be reached (offline);
- a failed fetch is remembered for ``failure_ttl_s`` (60 s, also across restarts) so an
  offline machine does not wait for the network on every call or start.

Nothing here blocks the event loop: the file is read and parsed in a thread, the fetch is
async. ``RouterCatalogClient`` is the ``CatalogSource`` the pricer and the backend use.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ml_intern_tui.core.catalog import RouterCatalog

log = logging.getLogger(__name__)

TTL_S = 24 * 3600.0
FAILURE_TTL_S = 60.0
TIMEOUT_S = 5.0
MAX_BYTES = 16 * 1024 * 1024
FUTURE_SLACK_S = 300.0
"""A cache timestamp this far ahead of the clock is a clock skew; further, a forgery."""
"""A catalog bigger than this is not a catalog (the real one is a few hundred kB)."""


class CatalogFetchError(Exception):
    """The router's catalog could not be read (one line: why)."""


def cache_path(cache_dir: Path, base: str) -> Path:
    digest = hashlib.sha256(base.rstrip("/").encode()).hexdigest()[:12]
    return cache_dir / f"router-catalog-{digest}.json"


async def fetch_catalog(base: str, timeout_s: float = TIMEOUT_S) -> dict[str, Any]:
    """The raw ``/models`` answer (checked to be a catalog); raises ``CatalogFetchError``."""
    import httpx

    url = f"{base.rstrip('/')}/models"
    try:
        async with (
            httpx.AsyncClient(timeout=timeout_s, follow_redirects=True) as client,
            client.stream("GET", url, headers={"accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise CatalogFetchError(f"{url} answered HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise CatalogFetchError(f"{url} sent more than {MAX_BYTES // 2**20} MB")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise CatalogFetchError(f"{url}: {type(exc).__name__}: {exc}".rstrip(": ")) from exc
    try:
        payload = json.loads(b"".join(chunks))
        RouterCatalog.parse(payload)
    except ValueError as exc:
        raise CatalogFetchError(f"{url} did not answer a model catalog: {exc}") from exc
    return payload  # type: ignore[no-any-return]


class RouterCatalogClient:
    """The catalog for one router base: disk cache, background refresh, waiters."""

    def __init__(
        self,
        base: str,
        cache_dir: Path,
        *,
        ttl_s: float = TTL_S,
        failure_ttl_s: float = FAILURE_TTL_S,
        timeout_s: float = TIMEOUT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base = base.rstrip("/")
        self.path = cache_path(cache_dir, self.base)
        self.ttl_s = ttl_s
        self.failure_ttl_s = failure_ttl_s
        self.timeout_s = timeout_s
        self.clock = clock
        self.catalog: RouterCatalog | None = None
        self.fetched_at: float | None = None
        self.failed_at: float | None = None
        self.error: str | None = None
        self._disk_read = False
        self._settled = False
        """The fetch under way has its outcome (listeners run after this is set)."""
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[], None]] = []

    # -- CatalogSource ------------------------------------------------------------------

    def current(self) -> RouterCatalog | None:
        if not self._disk_read:
            self._read_disk()
        return self.catalog

    def pending(self) -> bool:
        return self._fetching

    @property
    def _fetching(self) -> bool:
        return self._task is not None and not self._task.done() and not self._settled

    async def wait(self, timeout_s: float) -> None:
        task = self._task
        if task is not None and not task.done():
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), timeout_s)

    # -- state ----------------------------------------------------------------------------

    @property
    def fresh(self) -> bool:
        return self.fetched_at is not None and self.clock() - self.fetched_at < self.ttl_s

    @property
    def failing(self) -> bool:
        """A fetch failed a moment ago: do not try again yet."""
        return self.failed_at is not None and self.clock() - self.failed_at < self.failure_ttl_s

    def age_s(self) -> float | None:
        return None if self.fetched_at is None else max(0.0, self.clock() - self.fetched_at)

    def on_update(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (on the event loop) whenever a new catalog arrives."""
        self._listeners.append(listener)

    # -- loading --------------------------------------------------------------------------

    def start(self) -> None:
        """Refresh in the background unless fresh, already fetching, or failed just now."""
        if self.pending():
            return
        if not self._disk_read:
            self._launch(self._load_then_refresh())
        elif not self.fresh and not self.failing:
            self._launch(self._refresh())

    def _launch(self, work: Any) -> None:
        self._settled = False
        self._task = asyncio.get_running_loop().create_task(work)

    async def ready(self, timeout_s: float | None = None) -> RouterCatalog | None:
        """Start if needed, wait for the fetch (bounded), and return the catalog."""
        self.start()
        await self.wait(self.timeout_s + 1 if timeout_s is None else timeout_s)
        return self.current()

    async def _load_then_refresh(self) -> None:
        await asyncio.to_thread(self._read_disk)
        if self.fresh or self.failing:
            self._settled = True
            if self.catalog is not None:
                self._notify()
            return
        await self._refresh()

    async def _refresh(self) -> None:
        try:
            payload = await fetch_catalog(self.base, self.timeout_s)
        except CatalogFetchError as exc:
            self.failed_at, self.error = self.clock(), str(exc)
            log.info("router catalog: %s", exc)
            self._settled = True
            self._notify()  # a stale copy may be in use; listeners re-check prices
            await asyncio.to_thread(self._write_disk, None)
            return
        except Exception as exc:  # never let a background fetch crash the app
            self.failed_at, self.error = self.clock(), f"{type(exc).__name__}: {exc}"
            self._settled = True
            return
        self.catalog = RouterCatalog.parse(payload)
        self.fetched_at, self.failed_at, self.error = self.clock(), None, None
        self._settled = True
        self._notify()
        await asyncio.to_thread(self._write_disk, payload)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a listener's bug must not stop the others
                log.exception("router catalog listener failed")

    # -- disk -----------------------------------------------------------------------------

    def _read_disk(self) -> None:
        self._disk_read = True
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(record, dict) or record.get("base") != self.base:
            return
        failed_at = record.get("failed_at")
        if isinstance(failed_at, int | float) and self.failed_at is None:
            self.failed_at, self.error = float(failed_at), str(record.get("error") or "")
        fetched_at = record.get("fetched_at")
        if self.catalog is not None or not isinstance(fetched_at, int | float):
            return
        try:
            self.catalog = RouterCatalog.parse(record.get("payload"))
        except ValueError:
            return
        # A copy "fetched" in the future would be fresh forever, its prices never
        # checked again: it is used as a stale copy (refreshed now, kept offline).
        future = fetched_at > self.clock() + FUTURE_SLACK_S
        self.fetched_at = 0.0 if future else float(fetched_at)

    def _write_disk(self, payload: dict[str, Any] | None) -> None:
        """Save a fresh payload, or (``None``) note a failure next to the kept copy."""
        record: dict[str, Any] = {"base": self.base}
        try:
            old = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if payload is not None:
            record.update(fetched_at=self.fetched_at, payload=payload)
        else:
            if isinstance(old, dict) and old.get("base") == self.base and "payload" in old:
                record.update(fetched_at=old.get("fetched_at"), payload=old["payload"])
            record.update(failed_at=self.failed_at, error=self.error)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".catalog-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(record, handle)
            os.replace(tmp, self.path)
        except OSError as exc:  # a read-only cache only costs a fetch next time
            log.info("router catalog: cannot write %s: %s", self.path, exc)
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)


def unknown_model_problem(base: str, cache_dir: Path, model_id: str) -> str | None:
    """For the command line: one line when the router's catalog lacks ``model_id``
    (with suggestions); ``None`` when it has it or the catalog cannot be read."""
    from ml_intern_tui.core.catalog import check_model

    async def load() -> RouterCatalog | None:
        return await RouterCatalogClient(base, cache_dir).ready()

    try:
        catalog = asyncio.run(load())
    except Exception:  # the run itself will say what is wrong with the router
        return None
    if catalog is None or len(catalog) == 0:
        return None
    return check_model(catalog, model_id).problem
