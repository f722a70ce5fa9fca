"""What a scripted scenario is made of: steps (one assistant response each) and the
scenario that picks the step for a request. Scenario files and the bundled scenarios
build on these; ``demo/scripted.py`` serves them as a model."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

ToolArgs = dict[str, Any] | Callable[[list[dict[str, Any]]], dict[str, Any]]
"""Literal arguments, or a function of the request's messages (to use earlier results)."""


@dataclass
class Step:
    """One scripted assistant response."""

    text: str = ""
    reasoning: str = ""
    tool_calls: Sequence[tuple[str, ToolArgs]] = ()
    finish_reason: str | None = None
    """Override the finish reason (``length`` simulates output cut by the token limit)."""


StepSource = Step | Callable[[list[dict[str, Any]]], Step]


@dataclass
class Scenario:
    """A named list of steps. ``closing`` answers once the steps run out."""

    name: str
    steps: list[StepSource]
    closing: str = "The scripted scenario has no more steps. Ask me anything else to end the demo."
    context_limit: int = 32_000
    chunk_delay_s: float = 0.0
    """Pause between streamed chunks (the demo uses a little so streaming is visible)."""
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    research_steps: list[StepSource] = field(default_factory=list)
    """Steps for the research sub-agent's own conversation (told apart by its system prompt)."""

    def step_for(self, messages: list[dict[str, Any]]) -> Step:
        steps = self.steps
        if self.research_steps and _is_research(messages):
            steps = self.research_steps
        index = sum(1 for m in messages if m.get("role") == "assistant")
        if index >= len(steps):
            return Step(text=self.closing)
        source = steps[index]
        return source(messages) if callable(source) else source


RESEARCH_MARKER = "research sub-agent"


def _is_research(messages: list[dict[str, Any]]) -> bool:
    first = messages[0] if messages else {}
    return first.get("role") == "system" and RESEARCH_MARKER in str(first.get("content") or "")


def find_in_history(messages: list[dict[str, Any]], pattern: str, default: str = "") -> str:
    """The first group of the last match of ``pattern`` in tool outputs, newest first."""
    regex = re.compile(pattern)
    for message in reversed(messages):
        if message.get("role") == "tool":
            match = regex.search(str(message.get("content") or ""))
            if match:
                return match.group(1)
    return default
