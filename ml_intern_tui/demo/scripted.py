"""The ``scripted/<scenario>`` model: a litellm custom provider that replays a scenario.

No model can be reached from a fresh machine, so the demo and the tests drive the real
loop and the real tools with this provider. A scenario is a list of steps; the step for a
request is picked by how many assistant messages the request already holds, so the
provider keeps no state and survives retries. A request without tools that asks for a
summary (compaction) gets a deterministic summary of the conversation.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from typing import Any

from ml_intern_tui.demo.scenario import builtin_scenarios
from ml_intern_tui.demo.steps import Scenario, Step

SUMMARY_MARKER = "[[summarize-conversation]]"
"""Present in the compaction request (see ``core.compaction_prompt``)."""


_SCENARIOS: dict[str, Scenario] = {}


def register_scenario(scenario: Scenario) -> None:
    """Make ``scripted/<scenario.name>`` available (replaces one of the same name)."""
    _SCENARIOS[scenario.name] = scenario


def get_scenario(name: str) -> Scenario:
    if not _SCENARIOS:
        _register_builtins()
    if name not in _SCENARIOS:
        _register_builtins()
    if name not in _SCENARIOS:
        known = ", ".join(sorted(_SCENARIOS))
        raise KeyError(f"unknown scripted scenario {name!r}; known: {known}")
    return _SCENARIOS[name]


SCENARIO_FILES_ENV = "ML_INTERN_SCENARIOS"
"""Extra scenario files (``os.pathsep``-separated): Python files with a ``scenarios()``
function returning a list of :class:`Scenario`. For tests and demos of your own."""

_loaded_files: set[str] = set()


def _register_builtins() -> None:
    for scenario in builtin_scenarios():
        _SCENARIOS.setdefault(scenario.name, scenario)
    for path in filter(None, os.environ.get(SCENARIO_FILES_ENV, "").split(os.pathsep)):
        if path not in _loaded_files:
            _loaded_files.add(path)
            for scenario in _load_scenario_file(path):
                _SCENARIOS[scenario.name] = scenario


def _load_scenario_file(path: str) -> list[Scenario]:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        f"_ml_intern_scenarios_{len(_loaded_files)}", path
    )
    if spec is None or spec.loader is None:
        raise KeyError(f"{SCENARIO_FILES_ENV}: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = module.scenarios() if hasattr(module, "scenarios") else []
    return [s for s in found if isinstance(s, Scenario)]


def _summary_of(messages: list[dict[str, Any]]) -> str:
    tools: list[str] = []
    for message in messages:
        for call in message.get("tool_calls") or []:
            tools.append(call["function"]["name"])
    users = [str(m.get("content"))[:80] for m in messages if m.get("role") == "user"]
    return (
        f"Summary of {len(messages)} earlier messages: the user asked "
        f"{'; '.join(users[:3]) or 'for help'}; tools used: {', '.join(tools) or 'none'}."
    )


def _split(text: str) -> list[str]:
    """Stream in word-sized pieces so the UI shows real streaming."""
    return re.findall(r"\S+\s*|\s+", text) or [text]


def _is_summary_request(messages: list[dict[str, Any]], tools: Any) -> bool:
    if tools:
        return False
    last = messages[-1] if messages else {}
    return SUMMARY_MARKER in str(last.get("content") or "")


def build_handler() -> Any:
    """Create the litellm ``CustomLLM`` handler (imports litellm; call from a thread)."""
    from litellm.llms.custom_llm import CustomLLM
    from litellm.types.utils import (
        ChatCompletionMessageToolCall,
        Choices,
        Delta,
        Function,
        GenericStreamingChunk,
        Message,
        ModelResponseStream,
        StreamingChoices,
        Usage,
    )

    def resolve(model: str, messages: list[dict[str, Any]], tools: Any) -> tuple[Step, Scenario]:
        name = model.split("/", 1)[-1]
        scenario = get_scenario(name)
        if _is_summary_request(messages, tools):
            return Step(text=_summary_of(messages[:-1])), scenario
        return scenario.step_for(messages), scenario

    def calls_of(step: Step, messages: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        out = []
        base = sum(1 for m in messages if m.get("role") == "assistant")
        for i, (name, args) in enumerate(step.tool_calls):
            value = args(messages) if callable(args) else args
            raw = value if isinstance(value, str) else json.dumps(value)
            out.append((f"call_s{base}_{i}", name, raw))
        return out

    def usage_for(messages: list[dict[str, Any]], text: str) -> dict[str, int]:
        prompt = sum(len(str(m.get("content") or "")) for m in messages) // 4 + 1
        completion = len(text) // 4 + 1
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    class ScriptedLLM(CustomLLM):
        async def acompletion(
            self, model: str, messages: list[Any], *args: Any, **kwargs: Any
        ) -> Any:
            optional = kwargs.get("optional_params") or {}
            step, _ = resolve(model, messages, optional.get("tools"))
            model_response = kwargs["model_response"]
            calls = calls_of(step, messages)
            tool_calls = [
                ChatCompletionMessageToolCall(
                    id=cid, type="function", function=Function(name=name, arguments=raw)
                )
                for cid, name, raw in calls
            ] or None
            finish = step.finish_reason or ("tool_calls" if calls else "stop")
            model_response.choices = [
                Choices(
                    index=0,
                    finish_reason=finish,
                    message=Message(
                        role="assistant", content=step.text or None, tool_calls=tool_calls
                    ),
                )
            ]
            counts = usage_for(messages, step.text)
            model_response.usage = Usage(
                prompt_tokens=counts["prompt_tokens"],
                completion_tokens=counts["completion_tokens"],
                total_tokens=counts["total_tokens"],
            )
            return model_response

        async def astreaming(  # type: ignore[override]
            self, model: str, messages: list[Any], *args: Any, **kwargs: Any
        ) -> AsyncIterator[Any]:
            optional = kwargs.get("optional_params") or {}
            step, scenario = resolve(model, messages, optional.get("tools"))
            delay = float(os.environ.get("ML_INTERN_SCRIPTED_DELAY", scenario.chunk_delay_s))
            for piece in _split(step.reasoning) if step.reasoning else []:
                yield ModelResponseStream(
                    choices=[StreamingChoices(index=0, delta=Delta(reasoning_content=piece))]
                )
                if delay:
                    await asyncio.sleep(delay)
            for piece in _split(step.text) if step.text else []:
                yield GenericStreamingChunk(
                    text=piece,
                    is_finished=False,
                    finish_reason="",
                    usage=None,
                    index=0,
                    tool_use=None,
                )
                if delay:
                    await asyncio.sleep(delay)
            for index, (cid, name, raw) in enumerate(calls_of(step, messages)):
                half = max(1, len(raw) // 2)
                for n, fragment in enumerate((raw[:half], raw[half:])):
                    yield GenericStreamingChunk(
                        text="",
                        is_finished=False,
                        finish_reason="",
                        usage=None,
                        index=0,
                        tool_use={
                            "id": cid if n == 0 else None,
                            "type": "function",
                            "index": index,
                            "function": {"name": name if n == 0 else None, "arguments": fragment},
                        },
                    )
            finish = step.finish_reason or ("tool_calls" if step.tool_calls else "stop")
            yield GenericStreamingChunk(
                text="",
                is_finished=True,
                finish_reason=finish,
                usage=usage_for(messages, step.text),  # type: ignore[typeddict-item]
                index=0,
                tool_use=None,
            )

    return ScriptedLLM()


_installed = False


def install(litellm: Any) -> None:
    """Register the provider and every known scenario's model info with litellm."""
    global _installed
    if not _installed:
        handler = build_handler()
        current = [
            p for p in (litellm.custom_provider_map or []) if p.get("provider") != "scripted"
        ]
        litellm.custom_provider_map = [
            *current,
            {"provider": "scripted", "custom_handler": handler},
        ]
        # litellm reads the map into its provider registry on change.
        from litellm.utils import custom_llm_setup

        custom_llm_setup()  # type: ignore[no-untyped-call]
        _installed = True
    register_models(litellm)


def register_models(litellm: Any) -> None:
    _register_builtins()
    litellm.register_model(
        {
            f"scripted/{s.name}": {
                "max_input_tokens": s.context_limit,
                "max_output_tokens": 4096,
                "litellm_provider": "scripted",
                "mode": "chat",
                "input_cost_per_token": 0.0,
                "output_cost_per_token": 0.0,
                "supports_function_calling": True,
            }
            for s in _SCENARIOS.values()
        }
    )
