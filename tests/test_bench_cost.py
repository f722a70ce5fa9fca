"""``bench/cost.py`` runs and caching cuts the billed input (a short session here; the
bench itself runs 60 calls to ~80k tokens and checks the 5× target)."""

from __future__ import annotations

import importlib.util
import sys
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_cost", ROOT / "bench" / "cost.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_cost"] = module
    spec.loader.exec_module(module)
    return module


async def test_caching_cuts_billed_input_on_a_short_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = load_bench()
    monkeypatch.setattr(bench, "CALLS", 16)
    with ExitStack() as stack:
        scenarios = await bench.build(stack, tmp_path)
        claude = next(s for s in scenarios if s.name == "anthropic/claude-opus-4.8:fal-ai")
        off = await bench.run_session(claude, caching=False)
        on = await bench.run_session(claude, caching=True)
    assert off.calls == on.calls == 16 and off.unpriced == on.unpriced == 0
    assert off.cached == 0 and on.cached / on.prompt > 0.85
    assert off.input_usd / on.input_usd > 4  # 7× at 60 calls
