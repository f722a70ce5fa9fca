"""Reasoning effort end to end: the probe, the on-disk books, /effort and the runtime heal.

The real runtime and litellm's real OpenAI provider against the fake router, whose
``EffortPolicy`` refuses efforts with the wordings real servers use.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fakes.http_server import FakeHTTPServer
from fakes.openai_server import EffortPolicy, Reply
from fakes.router_server import FakeRouter

from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.core.effort import EffortStore, LevelBook
from ml_intern_tui.core.effort_control import route_key
from ml_intern_tui.core.models import resolve_model
from ml_intern_tui.core.protocol import SetEffort, UserInput
from ml_intern_tui.headless import _run
from ml_intern_tui.paths import cache_dir
from ml_intern_tui.runtime.agent import build_runtime

KIMI = "moonshotai/Kimi-K2.6"


@pytest.fixture
def hub() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as server:
        yield server


@pytest.fixture
def router(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRouter]:
    with FakeRouter() as fake:
        monkeypatch.setenv("HF_TOKEN", "hf_fake_router_token")
        yield fake


def settings(hub: FakeHTTPServer, router: FakeRouter, effort: str | None) -> dict[str, Any]:
    llm = {"max_retries": 0, "retry_base_delay_s": 0.01, "hf_router_base": router.base_url}
    return {"llm": llm, "hub": {"endpoint": hub.base_url}, "reasoning_effort": effort}


def efforts(router: FakeRouter) -> list[str | None]:
    """The ``reasoning_effort`` of every chat request, in order."""
    return [r.body.get("reasoning_effort") for r in router.requests]


def settled(event: Any) -> bool:
    return event.state not in ("probing",)


async def turn(h: Any, text: str = "hello") -> Any:
    mark = h.mark()
    h.submit(UserInput(text=text))
    return await h.wait_for("turn_complete", after=mark)


async def test_the_probe_finds_the_highest_level_the_router_model_takes(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    router.effort = EffortPolicy(accepted=("low", "medium", "high"))
    h = await harness_factory(KIMI, **settings(hub, router, "max"))
    status = await h.wait_for("effort", lambda e: e.state == "probed")
    assert (status.preference, status.level) == ("max", "high")
    assert set(status.refused) == {"minimal", "xhigh", "max"} and status.accepted == ["high"]
    # max refused with the list of what it takes, so xhigh was never tried: two calls
    assert efforts(router) == ["max", "high"]
    notice = await h.wait_for("notice", lambda e: "takes up to 'high'" in e.text)
    assert notice.level == "warning" and "asked for 'max'" in notice.text
    spend = h.of("spend")[-1]
    assert spend.llm_calls == 1  # the probe's answer is a paid call, counted

    router.enqueue(Reply(text="hi there"))
    done = await turn(h)
    assert done.reason == "done" and efforts(router)[-1] == "high"

    # the books are on disk: a new run asks the router nothing before its first turn
    router.requests.clear()
    again = await harness_factory(KIMI, **settings(hub, router, "max"))
    status = await again.wait_for("effort", lambda e: e.model == KIMI and settled(e))
    assert (status.state, status.level) == ("probed", "high") and router.requests == []


async def test_a_model_that_takes_no_effort_gets_none(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    router.effort = EffortPolicy(accepted=None, style="openai_unrecognized")
    h = await harness_factory(KIMI, **settings(hub, router, "high"))
    status = await h.wait_for("effort", lambda e: e.state == "unsupported")
    assert status.level is None and efforts(router) == ["high"]
    await h.wait_for("notice", lambda e: "takes none" in e.text)
    router.enqueue(Reply(text="plain answer"))
    assert (await turn(h)).reason == "done"
    assert "reasoning_effort" not in router.requests[-1].body


async def test_runtime_refusal_heals_once_with_a_notice_and_the_turn_finishes(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    # The books say 'high' was taken (a week ago the provider did); today it is refused.
    route = resolve_model(KIMI, hf_token="x", router_base=router.base_url)
    book = LevelBook()
    book.accept("high")
    EffortStore(cache_dir() / "effort.json").save(route_key(route), book)
    router.effort = EffortPolicy(accepted=("low", "medium"), style="sglang")
    h = await harness_factory(KIMI, **settings(hub, router, "high"))
    await h.wait_for("effort", lambda e: e.state == "probed" and e.level == "high")
    assert router.requests == []  # the books answered: no probe

    router.enqueue(Reply(text="ok"), Reply(text="answered at medium"))
    done = await turn(h)
    assert done.reason == "done" and done.final_text == "answered at medium"
    # refused at high, a probe at medium (the next level it lists), the call again
    assert efforts(router) == ["high", "medium", "medium"]
    heal = [n for n in h.of("notice") if "refused 'high'" in n.text]
    assert len(heal) == 1 and heal[0].level == "warning"
    assert "using 'medium' from now on" in heal[0].text
    assert not h.of("error")
    status = h.of("effort")[-1]
    assert (status.level, status.state) == ("medium", "probed")
    # learned for later runs too
    saved = EffortStore(cache_dir() / "effort.json").load(route_key(route))
    assert saved.get("high") is False and saved.get("medium") is True


async def test_a_server_that_takes_none_of_our_levels_heals_to_no_effort(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    route = resolve_model(KIMI, hf_token="x", router_base=router.base_url)
    book = LevelBook()
    for level in ("high", "medium", "low"):
        book.accept(level)
    EffortStore(cache_dir() / "effort.json").save(route_key(route), book)
    # refuses every value, without saying which it takes
    router.effort = EffortPolicy(accepted=(), style="groq")
    h = await harness_factory(KIMI, **settings(hub, router, "high"))
    await h.wait_for("effort", lambda e: e.level == "high")
    router.enqueue(Reply(text="never"))
    done = await turn(h)
    # Groq lists none of our levels: every level is refused at once and the call goes
    # without effort, which the server takes.
    assert done.reason == "done" and efforts(router) == ["high", None]
    assert h.of("effort")[-1].level is None


async def test_effort_command_changes_what_the_next_call_sends(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    h = await harness_factory(KIMI, **settings(hub, router, None))
    status = await h.wait_for("effort")
    assert status.state == "off" and router.requests == []
    router.enqueue(Reply(text="no effort"))
    await turn(h)
    assert "reasoning_effort" not in router.requests[-1].body

    mark = h.mark()
    h.submit(SetEffort(level="low"))
    await h.wait_for("notice", lambda e: e.text == "Reasoning effort: low.", after=mark)
    status = await h.wait_for("effort", lambda e: e.state == "probed", after=mark)
    assert status.preference == "low" and status.level == "low"
    router.enqueue(Reply(text="with effort"))
    await turn(h)
    assert efforts(router)[-2:] == ["low", "low"]  # the probe, then the turn

    mark = h.mark()
    h.submit(SetEffort(level=None))
    await h.wait_for("effort", lambda e: e.state == "off", after=mark)
    router.enqueue(Reply(text="off again"))
    await turn(h)
    assert "reasoning_effort" not in router.requests[-1].body


async def test_local_models_never_get_an_effort_nor_a_probe(
    fake_openai: Any, harness_factory
) -> None:
    fake_openai.effort = EffortPolicy(accepted=None, style="openai_param")
    h = await harness_factory("vllm/fake", reasoning_effort="max")
    status = await h.wait_for("effort")
    assert status.state == "not_sent" and status.level is None
    fake_openai.enqueue(Reply(text="local answer"))
    done = await turn(h)
    assert done.reason == "done"
    assert len(fake_openai.requests) == 1  # the turn's call only: no probe
    assert "reasoning_effort" not in fake_openai.requests[0].body


async def test_the_scripted_demo_model_is_never_probed(harness_factory) -> None:
    h = await harness_factory("scripted/demo", reasoning_effort="high")
    status = await h.wait_for("effort")
    assert status.state == "not_sent"
    assert not [n for n in h.of("notice") if n.text.startswith("Reasoning effort:")]


async def test_the_research_sub_agent_caps_effort_at_high(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory, workspace
) -> None:
    h = await harness_factory(KIMI, **settings(hub, router, "max"))
    await h.wait_for("effort", lambda e: e.state == "probed" and e.level == "max")
    task = json.dumps({"task": "find the learning rate used for X"})
    router.enqueue(
        Reply(text="", tool_calls=[("research", task)]),
        Reply(text="The paper uses 3e-4."),  # the sub-agent's answer
        Reply(text="Done: 3e-4."),
    )
    done = await turn(h, "research it")
    assert done.reason == "done"
    # the main calls at max; the sub-agent's call capped at high
    assert efforts(router)[-3:] == ["max", "high", "max"]


async def test_a_call_waits_for_the_probe_only_so_long(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    """A slow probe never holds the first call past ``wait_s``: it then goes with the
    level asked for (a refusal would heal)."""
    router.enqueue(Reply(text="ok", delay_s=30), Reply(text="first answer"))
    h = await harness_factory(KIMI, **settings(hub, router, "high"))
    h.runtime.loop.services.effort.wait_s = 0.3
    assert await asyncio.to_thread(router.wait_for_requests, 1)  # the probe is out
    await h.wait_for("effort", lambda e: e.state == "probing")
    done = await turn(h)
    assert done.reason == "done" and done.final_text == "first answer"
    assert efforts(router) == ["high", "high"]  # the hanging probe, then the call


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def headless_settings(router: FakeRouter, effort: str) -> AppConfig:
    llm = {"max_retries": 0, "hf_router_base": router.base_url}
    return AppConfig.model_validate({"model": KIMI, "reasoning_effort": effort, "llm": llm})


@pytest.mark.parametrize("err", [io.StringIO(), Terminal()], ids=["script", "terminal"])
async def test_headless_says_a_heal_on_stderr_once_even_for_a_script(
    router: FakeRouter, workspace: Any, err: io.StringIO
) -> None:
    route = resolve_model(KIMI, hf_token="x", router_base=router.base_url)
    book = LevelBook()
    book.accept("max")
    EffortStore(cache_dir() / "effort.json").save(route_key(route), book)
    router.effort = EffortPolicy(accepted=("low", "medium", "high"))
    router.enqueue(Reply(text="ok"), Reply(text="The answer."))
    out = io.StringIO()
    runtime = build_runtime(headless_settings(router, "max"), cwd=workspace)
    assert await _run(runtime, "question", False, out, err) == 0
    assert "The answer." in out.getvalue()
    lines = [line for line in err.getvalue().splitlines() if "refused 'max'" in line]
    assert lines == [
        "ml-intern-tui: warning: Reasoning effort: moonshotai/Kimi-K2.6 refused 'max'; "
        "using 'high' from now on; retrying."
    ]


async def test_a_probe_that_cannot_tell_sends_the_preference_and_says_why_in_effort(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    router.enqueue(Reply.server_error(503), Reply(text="fine"))
    h = await harness_factory(KIMI, **settings(hub, router, "high"))
    status = await h.wait_for("effort", lambda e: e.state == "unknown" and e.note)
    assert status.level == "high" and "503" in status.note
    assert not [n for n in h.of("notice") if n.text.startswith("Reasoning effort:")]
    done = await turn(h)
    assert done.final_text == "fine" and efforts(router) == ["high", "high"]


async def test_effort_typed_before_the_wiring_finished_still_applies(
    router: FakeRouter, hub: FakeHTTPServer, workspace: Any
) -> None:
    from integration.conftest import Harness, make_settings

    runtime = build_runtime(make_settings(KIMI, **settings(hub, router, None)), cwd=workspace)
    h = Harness(runtime)
    assert runtime.loop is not None  # wired (a front end asked for it), not serving yet
    h.submit(SetEffort(level="medium"))
    await h.start()
    try:
        status = await h.wait_for("effort", lambda e: e.preference == "medium" and settled(e))
        assert status.level == "medium" and not h.of("error")
    finally:
        await h.close()
