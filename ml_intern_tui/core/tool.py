"""The Tool protocol, what a tool returns, and the router the loop calls tools through.

A tool is a class with a ``name``, a pydantic ``Args`` model (the JSON schema the model
sees is generated from it), ``approval(args, ctx)`` saying what a human must confirm (or
``None``), and ``async run(args, ctx) -> ToolResult``. Tools live in ``tools/``; the core
only knows this protocol.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from ml_intern_tui.core.protocol import EventBase, PlanItem, Risk
from ml_intern_tui.core.services import Services

T = TypeVar("T")

DEFAULT_OUTPUT_BUDGET = 30_000
"""Characters of one tool output that reach the model before it is cut."""

ApprovalKind = Literal["local", "spend", "irreversible", "unsandboxed", "protected", "manual"]
"""What kind of consent a call needs.

- ``local``: changes this machine only, contained (a shell command that runs in the OS
  sandbox, a write outside the project); ``auto`` mode approves it.
- ``spend``: costs money (a paid job); ``yolo`` approves it within the budget.
- ``irreversible``: cannot be undone (delete, publish, visibility change, ``rm -rf``
  outside the project, ``git push --force``); ``yolo`` approves it.
- ``unsandboxed``: a local command that must leave the OS sandbox (network, writes
  elsewhere, or no sandbox on this machine); ``auto`` asks, ``yolo`` approves it.
- ``protected``: touches a protected path (``.git/``, ``.ml-intern/``, shell start-up
  files, ``~/.ssh``, this app's own config); asks in every mode, never remembered.
- ``manual``: always asks a human, in every mode (scheduled jobs); never remembered.
"""

ALWAYS_ASK_KINDS: frozenset[str] = frozenset({"protected", "manual"})
"""Kinds that no mode and no remembered rule approves."""


class ToolResult(BaseModel):
    """What a tool call produced."""

    ok: bool = True
    summary: str
    """One short line for the tool tree."""
    output: str
    """The full text for the model (cut to a budget by the router)."""
    data: dict[str, Any] | None = None
    """Structured payload the UI may render (diff, table rows, job id)."""
    truncated: bool = False


class ApprovalRequest(BaseModel):
    """What a human must confirm before a call runs."""

    kind: ApprovalKind = "local"
    title: str
    """One line: what will happen (``Run: python train.py``)."""
    details: str = ""
    """The full picture: command, script preview, repo, hardware, timeout."""
    risk: Risk = "medium"
    cost_estimate_usd: float | None = None
    """Worst-case cost when known (``spend`` calls)."""
    operation: str = "run"
    scope_value: str = ""
    """The argument a remembered rule is matched against (command, path, repo id)."""
    scope_pattern: str = ""
    """The glob a "remember" answer stores by default (``python train.py*``)."""
    scope_parts: list[str] | None = None
    """When set, the pieces that must EACH match a remembered rule (the commands of a
    shell chain), so ``python train.py*`` never approves ``python train.py; rm -rf ~``.
    An empty list means no remembered rule can approve this call."""
    reason: str = ""
    """One line: why this call needs a person (``rm -rf outside the project``); the
    policy adds it to what the drawer and headless ``stopped:`` lines say."""


class RememberRule(BaseModel):
    """A remembered approval: this tool, this operation, arguments matching this glob."""

    tool: str
    operation: str = "*"
    pattern: str = "*"

    def matches(self, tool: str, request: ApprovalRequest) -> bool:
        if request.scope_parts is not None:
            return False  # judged part by part: see ``rules_cover``
        return self.matches_value(tool, request.operation, request.scope_value)

    def matches_value(self, tool: str, operation: str, value: str) -> bool:
        return (
            self.tool == tool
            and fnmatch.fnmatchcase(operation, self.operation)
            and fnmatch.fnmatchcase(value, self.pattern)
        )

    def describe(self) -> str:
        op = "" if self.operation == "*" else f" {self.operation}"
        return f"{self.tool}{op}: {self.pattern}"


def rules_cover(rules: list[RememberRule], tool: str, request: ApprovalRequest) -> bool:
    """Whether remembered rules approve ``request`` (every part, when it has parts)."""
    if request.scope_parts is None:
        return any(rule.matches(tool, request) for rule in rules)
    return bool(request.scope_parts) and all(
        any(rule.matches_value(tool, request.operation, part) for rule in rules)
        for part in request.scope_parts
    )


@dataclass
class SessionState:
    """Mutable per-session state that tools may read or update (owned by the loop)."""

    plan: list[PlanItem] = field(default_factory=list)
    files_read: dict[str, float] = field(default_factory=dict)
    """Resolved path -> mtime when the agent last read it (write/edit staleness checks)."""

    def unfinished_plan(self) -> list[PlanItem]:
        return [item for item in self.plan if item.status != "completed"]


@dataclass
class ToolContext:
    """Everything a running tool may use. Built by the loop for each call."""

    call_id: str
    session_id: str
    cwd: Path
    state: SessionState
    publish: Callable[[EventBase], None]
    """Publish an event on the session bus (plan updates, job events)."""
    progress: Callable[[str], None] = lambda _text: None
    """Report a progress line for this call (shown in the tool tree)."""
    services: Services = field(default_factory=Services)
    """Shared services wired by ``runtime/agent.py`` (``jobs`` registry, hub client, sub-agent)."""
    output_budget: int = DEFAULT_OUTPUT_BUDGET
    files_dir: Path | None = None
    """Where this session keeps its files (``Session.files_dir``); may not exist yet."""


class ToolError(Exception):
    """An expected failure a tool reports to the model as a failed result (no traceback)."""


def require(value: T | None, name: str) -> T:
    """``value`` (a :class:`Services` field), or the one line a tool reports when the
    session has no such service: ``require(ctx.services.hub, "hub")``."""
    if value is None:
        raise ToolError(f"the {name!r} service is not available in this session")
    return value


class Tool:
    """Base class for tools: subclass, set ``name``/``description``/``Args``, implement ``run``."""

    name: ClassVar[str]
    description: ClassVar[str]
    Args: ClassVar[type[BaseModel]]
    read_only: ClassVar[bool] = False
    """True when the tool never writes, uploads, spends or runs commands (research may use it)."""

    async def prepare(self, args: Any, ctx: ToolContext) -> None:
        """Async work before ``approval`` (fetch what the approval must show, keep it on
        ``args`` so ``run`` uses exactly that); a ``ToolError`` fails the call unasked."""

    def approval(self, args: Any, ctx: ToolContext) -> ApprovalRequest | None:
        """What a human must confirm before ``run``; ``None`` when nothing."""
        return None

    async def run(self, args: Any, ctx: ToolContext) -> ToolResult:  # pragma: no cover
        raise NotImplementedError

    def spec(self) -> dict[str, Any]:
        """The OpenAI function spec the model sees, generated from ``Args``.

        A fresh dict each time (subclasses adjust theirs); the schema behind it is
        generated once per ``Args`` class.
        """
        text = _parameters_schema_text(self.Args)
        schema = json.loads(text) if text is not None else _copy_json(_parameters_schema(self.Args))
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": schema},
        }


def _copy_json(value: Any) -> Any:
    """A deep copy of JSON data (dicts and lists; the rest is immutable): every model
    call copies every tool's schema, and ``copy.deepcopy`` took ~5 ms for them all."""
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    return value


@lru_cache(maxsize=512)
def _parameters_schema_text(args: type[BaseModel]) -> str | None:
    """The schema as JSON text: parsing it is the fastest fresh copy (one C call; the
    recursive copy was about 1 ms per model call for all the tools), or ``None`` when
    the schema holds something JSON does not (then it is copied as it is)."""
    try:
        return json.dumps(_parameters_schema(args), allow_nan=False)
    except (TypeError, ValueError):
        return None


@lru_cache(maxsize=512)
def _parameters_schema(args: type[BaseModel]) -> dict[str, Any]:
    # pydantic builds a JSON schema from scratch on each call: for all the tools, about
    # 40 ms at the start of every model call, with the UI waiting.
    schema = args.model_json_schema()
    schema.pop("title", None)
    return schema


class BadArguments(Exception):
    """The model sent arguments that do not fit the tool; the message is for the model."""


def parse_arguments(tool: Tool, raw: str | dict[str, Any]) -> BaseModel:
    """Validate raw JSON arguments against the tool's model, with a message the model can act on."""
    if isinstance(raw, str):
        try:
            data = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as exc:
            raise BadArguments(
                f"arguments for {tool.name} are not valid JSON ({exc.msg} at char {exc.pos})"
            ) from exc
    else:
        data = raw
    if not isinstance(data, dict):
        raise BadArguments(f"arguments for {tool.name} must be a JSON object")
    try:
        return tool.Args.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise BadArguments(f"invalid arguments for {tool.name}: {problems}") from exc


def cut_text(text: str, budget: int, *, hint: str = "") -> tuple[str, bool]:
    """Cut ``text`` to about ``budget`` chars keeping the head (25%) and tail (75%).

    Returns the (possibly) cut text and whether it was cut. The cut says how much was
    left out, so the model knows the output is partial.
    """
    if len(text) <= budget:
        return text, False
    head = budget // 4
    tail = budget - head
    omitted = len(text) - head - tail
    marker = f"\n\n[... {omitted:,} of {len(text):,} characters cut here{'; ' + hint if hint else ''} ...]\n\n"
    return text[:head] + marker + text[-tail:], True


class ToolRouter:
    """The tools of a session by name; MCP tools join later and can never shadow built-ins."""

    def __init__(self, tools: list[Tool] | None = None) -> None:
        self._tools: dict[str, Tool] = {}
        self._builtin: set[str] = set()
        for tool in tools or []:
            self.add(tool, builtin=True)

    def add(self, tool: Tool, *, builtin: bool = False) -> None:
        if tool.name in self._builtin:
            raise ValueError(f"tool name {tool.name!r} is taken by a built-in tool")
        self._tools[tool.name] = tool
        if builtin:
            self._builtin.add(tool.name)

    def remove(self, name: str) -> None:
        if name in self._builtin:
            raise ValueError(f"built-in tool {name!r} cannot be removed")
        self._tools.pop(name, None)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def specs(self, only: set[str] | None = None) -> list[dict[str, Any]]:
        return [t.spec() for n, t in self._tools.items() if only is None or n in only]

    def subset(self, predicate: Callable[[Tool], bool]) -> ToolRouter:
        """A router over the tools for which ``predicate`` holds (research sub-agent)."""
        sub = ToolRouter()
        for name, tool in self._tools.items():
            if predicate(tool):
                sub._tools[name] = tool
                if name in self._builtin:
                    sub._builtin.add(name)
        return sub
