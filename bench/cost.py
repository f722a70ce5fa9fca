"""Cost benchmark: what prompt caching saves over a long session, measured on the fakes.

A scripted 60-call session whose context grows to about 80k tokens (a system prompt,
tool specs, then one tool call and a ~1.3k-token tool result per call) runs through the
real ``LLMClient`` and litellm against the fake Anthropic Messages API and the fake
router, once with prompt caching off and once on. The fakes simulate provider caching
(breakpoints for Claude, session-affine automatic caching otherwise), so the cached
share is measured, and every call is priced by the app's own pricing.

Run with ``python bench/cost.py`` (``make bench`` runs it too). Prints, per model, the
billed input cost without and with caching and the ratio; Claude rows must show at
least ``TARGET_RATIO``× (exit 1 otherwise). Token counts are the fakes' (4 characters a
token).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the fakes

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_MODE", "PRODUCTION")

from fakes.anthropic_server import AnthropicReply, FakeAnthropic  # noqa: E402
from fakes.openai_server import Reply  # noqa: E402
from fakes.router_server import FakeRouter, default_catalog, model, offer  # noqa: E402

from ml_intern_tui.core.llm import LLMClient, RetryPolicy, load_litellm  # noqa: E402
from ml_intern_tui.core.models import ModelRoute, resolve_model  # noqa: E402
from ml_intern_tui.core.pricing import CallCost, Pricer  # noqa: E402
from ml_intern_tui.integrations.router_catalog import RouterCatalogClient  # noqa: E402

CALLS = 60
TARGET_RATIO = 5.0
SYSTEM_CHARS = 8_000
RESULT_CHARS = 5_200
"""One tool result: ~1,300 tokens, so 60 calls grow the context to about 80k tokens."""
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"The {name} tool. " + "It does useful things. " * 40,
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string", "description": "a path " * 20}},
            },
        },
    }
    for name in ("read", "write", "edit", "bash", "plan", "research", "hf_jobs", "hf_docs")
]


def text(seed: int, chars: int) -> str:
    """Deterministic filler that differs per seed (so no two tool results are alike)."""
    words = [f"w{(seed * 7919 + i * 104729) % 100_003:05d}" for i in range(chars // 7 + 1)]
    return " ".join(words)[:chars]


@dataclass
class Totals:
    calls: int = 0
    prompt: int = 0
    cached: int = 0
    written: int = 0
    input_usd: float = 0.0
    total_usd: float = 0.0
    unpriced: int = 0
    seconds: float = 0.0

    def add(self, cost: CallCost | None) -> None:
        self.calls += 1
        if cost is None or cost.prices is None or cost.usd is None:
            self.unpriced += 1
            return
        usage, prices = cost.usage, cost.prices
        fresh = usage.prompt - usage.cached - usage.cache_write
        self.prompt += usage.prompt
        self.cached += usage.cached
        self.written += usage.cache_write
        self.input_usd += (
            fresh * prices.input
            + usage.cached * prices.cache_read
            + usage.cache_write * prices.cache_write
        ) / 1e6
        self.total_usd += cost.usd


@dataclass
class Scenario:
    name: str
    model: str
    checked: bool
    """Whether the caching ratio must reach the target (known cache prices)."""
    make_route: Callable[[], ModelRoute]
    enqueue: Callable[[str], None]
    pricer: Pricer


async def run_session(scenario: Scenario, caching: bool) -> Totals:
    route = scenario.make_route()
    client = LLMClient(
        route,
        retry=RetryPolicy(max_retries=0),
        pricer=scenario.pricer,
        prompt_caching=caching,
        session_key=f"bench-{scenario.name}-{caching}",
        max_output_tokens=1024,
    )
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": text(0, SYSTEM_CHARS)},
        {"role": "user", "content": "Train a small model on the dataset and report the scores."},
    ]
    totals = Totals()
    started = time.perf_counter()
    for n in range(CALLS):
        arguments = json.dumps({"path": f"logs/step-{n}.txt"})
        scenario.enqueue(arguments)
        response = await client.complete(messages, TOOLS)
        totals.add(response.cost)
        call = response.tool_calls[0]
        messages.append(
            {
                "role": "assistant",
                "content": response.content or None,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments},
                    }
                ],
            }
        )
        messages.append(
            {"role": "tool", "tool_call_id": call.id, "content": text(n + 1, RESULT_CHARS)}
        )
    totals.seconds = time.perf_counter() - started
    return totals


def usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 else f"${value:.4f}"


def tokens(value: int) -> str:
    return f"{value / 1e6:.2f}M" if value >= 1e6 else f"{value / 1e3:.0f}k"


async def build(stack: ExitStack, cache_dir: Path) -> list[Scenario]:
    anthropic = stack.enter_context(FakeAnthropic())
    catalog = [m for m in default_catalog() if m["id"] != "moonshotai/Kimi-K2.6"]
    # Kimi with a cache price in the catalog (the router lists none today): shows the
    # catalog's cache price at work; without one, cached tokens bill at the input price.
    catalog.append(
        model(
            "moonshotai/Kimi-K2.6",
            offer("novita", 0.60, 2.50, context=262_144, cache_read=0.15),
        )
    )
    router = stack.enter_context(FakeRouter(catalog))
    source = RouterCatalogClient(router.base_url, cache_dir)
    await source.ready()
    router_pricer = Pricer(source)

    def anthropic_reply(arguments: str) -> None:
        anthropic.enqueue(
            AnthropicReply(text="", tool_calls=[("read", arguments)], output_tokens=40)
        )

    def router_reply(arguments: str) -> None:
        router.enqueue(Reply(text="", tool_calls=[("read", arguments)]))

    def native(model_id: str) -> Callable[[], ModelRoute]:
        return lambda: ModelRoute(
            model_id, model_id, anthropic.base_url, "sk-ant-bench", "native", True
        )

    def routed(model_id: str) -> Callable[[], ModelRoute]:
        return lambda: resolve_model(
            model_id, env={}, hf_token="hf_bench", router_base=router.base_url
        )

    return [
        Scenario(
            "anthropic/claude-sonnet-4-5",
            "native",
            True,
            native("anthropic/claude-sonnet-4-5"),
            anthropic_reply,
            Pricer(),
        ),
        Scenario(
            "anthropic/claude-opus-4.8:fal-ai",
            "router",
            True,
            routed("anthropic/claude-opus-4.8:fal-ai"),
            router_reply,
            router_pricer,
        ),
        Scenario(
            "moonshotai/Kimi-K2.6",
            "router",
            False,
            routed("moonshotai/Kimi-K2.6"),
            router_reply,
            router_pricer,
        ),
    ]


async def main_async(only: str | None) -> int:
    load_litellm()
    failed = 0
    header = (
        f"{'model':<34} {'via':<7} {'cache':<5} {'input':>7} {'cached':>7} "
        f"{'billed input':>13} {'billed total':>13} {'time':>7}"
    )
    print(
        f"{CALLS} calls, context growing to ~{(SYSTEM_CHARS + CALLS * RESULT_CHARS) // 4 // 1000}k tokens\n"
    )
    print(header)
    print("-" * len(header))
    with ExitStack() as stack, tempfile.TemporaryDirectory() as cache_dir:
        scenarios = await build(stack, Path(cache_dir))
        for scenario in scenarios:
            if only and only not in scenario.name:
                continue
            results = {}
            for caching in (False, True):
                totals = await run_session(scenario, caching)
                results[caching] = totals
                share = totals.cached / totals.prompt if totals.prompt else 0.0
                print(
                    f"{scenario.name:<34} {scenario.model:<7} {'on' if caching else 'off':<5} "
                    f"{tokens(totals.prompt):>7} {share:>7.0%} {usd(totals.input_usd):>13} "
                    f"{usd(totals.total_usd):>13} {totals.seconds:>6.1f}s"
                    + (f"  ({totals.unpriced} unpriced)" if totals.unpriced else "")
                )
            off, on = results[False], results[True]
            ratio = off.input_usd / on.input_usd if on.input_usd else float("inf")
            verdict = ""
            if scenario.checked:
                ok = ratio >= TARGET_RATIO
                failed += not ok
                verdict = f" (target ≥ {TARGET_RATIO:g}×{'' if ok else ', MISSED'})"
            else:
                verdict = " (catalog cache price; not checked)"
            print(f"{'':<34} caching cuts billed input {ratio:.1f}×{verdict}\n")
    print(f"python {sys.version.split()[0]}; {os.cpu_count()} cores; fakes on 127.0.0.1")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="run the models whose id contains this text")
    opts = parser.parse_args()
    return asyncio.run(main_async(opts.only))


if __name__ == "__main__":
    sys.exit(main())
