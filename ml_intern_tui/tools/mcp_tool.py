"""An MCP server's tool as one of ours: ``<server>__<tool>``, approval, result as text.

The tool knows nothing about connections: it calls through an ``McpCaller`` (the
server entry in ``integrations/mcp.py``), which raises ``ToolError`` for anything the
model should read as a failed call (timeout, dropped connection, server reconnecting).
No fastmcp import here: results are read by duck typing on the MCP content blocks.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from ml_intern_tui.core.tool import ApprovalRequest, Tool, ToolContext, ToolResult

NAME_SEPARATOR = "__"
MAX_NAME = 64
"""OpenAI's limit on tool names (``^[a-zA-Z0-9_-]{1,64}$``)."""
MAX_DESCRIPTION = 2_000
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")


def mcp_tool_name(server: str, tool: str) -> str:
    """``<server>__<tool>`` with every character the API refuses replaced by ``_``, cut to 64."""
    name = _NOT_ALLOWED.sub("_", f"{server}{NAME_SEPARATOR}{tool}")
    return name[:MAX_NAME]


class McpCaller(Protocol):
    """What a tool needs from its server (implemented by ``integrations.mcp.ServerEntry``)."""

    @property
    def name(self) -> str: ...

    @property
    def trusted(self) -> bool: ...

    @property
    def transport(self) -> str: ...

    @property
    def target(self) -> str: ...

    async def call(
        self, tool: str, arguments: dict[str, Any], on_progress: Callable[[str], None]
    ) -> Any:
        """The raw MCP ``CallToolResult``; ``ToolError`` when the call could not be made."""
        ...


class McpArgs(BaseModel):
    """Any JSON object: the server validates its own arguments against its schema."""

    model_config = ConfigDict(extra="allow")


def _parameters(schema: Any) -> dict[str, Any]:
    """The server's input schema, made acceptable as OpenAI function parameters."""
    params = dict(schema) if isinstance(schema, dict) else {}
    params.pop("$schema", None)
    params["type"] = "object"
    params.setdefault("properties", {})
    return params


class McpTool(Tool):
    """One tool of one MCP server; build with ``McpTool.create``."""

    Args = McpArgs
    read_only = False
    server: ClassVar[McpCaller]
    remote_name: ClassVar[str]
    parameters: ClassVar[dict[str, Any]]
    remote_description: ClassVar[str]
    """The server's own description, as the ``/mcp`` screen shows it."""

    @classmethod
    def create(
        cls, caller: McpCaller, remote_name: str, description: str, input_schema: Any
    ) -> McpTool:
        """A tool object for ``remote_name`` on ``caller``'s server (one subclass per tool)."""
        text = " ".join((description or "").split())
        if len(text) > MAX_DESCRIPTION:
            text = text[: MAX_DESCRIPTION - 1] + "…"
        attrs = {
            "name": mcp_tool_name(caller.name, remote_name),
            "description": f"[MCP server {caller.name}] {text}".rstrip(),
            "server": caller,
            "remote_name": remote_name,
            "parameters": _parameters(input_schema),
            "remote_description": text,
        }
        subclass = type(f"McpTool_{attrs['name']}", (cls,), attrs)
        tool: McpTool = subclass()
        return tool

    def spec(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def approval(self, args: McpArgs, ctx: ToolContext) -> ApprovalRequest | None:
        server = self.server
        arguments = args.model_dump()
        local = server.transport == "stdio"
        # A local server can write wherever its arguments point: a protected path there
        # asks in every mode, even for a trusted server (a remote one acts elsewhere).
        server_cwd = getattr(server, "cwd", None)
        protected = protected_argument(arguments, ctx.cwd, server_cwd) if local else None
        if server.trusted and protected is None:
            return None
        shown = json.dumps(arguments, indent=2, ensure_ascii=False)
        if len(shown) > 4_000:
            shown = shown[:4_000] + "\n…"
        return ApprovalRequest(
            # A local server acts on this machine outside the OS sandbox, a remote one
            # elsewhere: auto mode (contained local work only) asks for either.
            kind="protected" if protected else "unsandboxed" if local else "irreversible",
            reason=protected or ("a local server's tools run outside the sandbox" if local else ""),
            title=f"MCP {server.name}: {self.remote_name}",
            details=(
                f"Server: {server.name} ({server.transport} {server.target})\n"
                f"Tool: {self.remote_name}\n"
                f"Arguments:\n{shown}\n\n"
                f"Not trusted: set trusted = true in [mcp.servers.{server.name}] "
                "to run its tools without asking."
            ),
            risk="medium",
            operation="call",
            scope_value=json.dumps(arguments, ensure_ascii=False, sort_keys=True),
            scope_pattern="*",
        )

    async def run(self, args: McpArgs, ctx: ToolContext) -> ToolResult:
        raw = await self.server.call(self.remote_name, args.model_dump(), ctx.progress)
        result = convert_result(raw)
        result.data = {**(result.data or {}), "server": self.server.name, "tool": self.remote_name}
        return result


# --------------------------------------------------------------------------- paths

_MAX_STRINGS = 500
_MAX_DEPTH = 64


class _TooMany(Exception):
    """The arguments hold more strings (or deeper nesting) than are checked."""


def _strings(value: Any, budget: list[int], depth: int = 0) -> Iterator[str]:
    """The strings of a JSON value, object keys included (a ``{"path": content}`` map
    names its files by key). Raises ``_TooMany`` past the budget: what is not looked
    at cannot be let through."""
    if depth > _MAX_DEPTH:
        raise _TooMany
    if isinstance(value, str):
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooMany
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(str(key), budget, depth + 1)
            yield from _strings(item, budget, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, budget, depth + 1)


def _as_path(text: str) -> str | None:
    """``text`` as a local path (``file://`` removed), or ``None`` for a URL or prose."""
    text = text.strip()
    if text.startswith("file://"):
        text = text.removeprefix("file://")
    elif "://" in text:
        return None  # a URL names another machine
    if not text or len(text) > 4096 or "\n" in text or "\0" in text:
        return None
    return text


def protected_argument(
    arguments: dict[str, Any], cwd: Path, server_cwd: Path | None = None
) -> str | None:
    """Why a local server's call touches a protected path or a credential, judging by
    its arguments (a relative path counts from the project and the server's directory)."""
    from ml_intern_tui.safety.credentials import credential_reason
    from ml_intern_tui.safety.protected import protected_reason

    bases = list(dict.fromkeys(b for b in (cwd, server_cwd) if b is not None))
    try:
        for text in _strings(arguments, [_MAX_STRINGS]):
            candidate = _as_path(text)
            if candidate is None:
                continue
            named = Path(candidate).expanduser()
            for path in [named] if named.is_absolute() else [base / named for base in bases]:
                # A write there arms something; a read there hands a credential over.
                reason = protected_reason(path, project=cwd) or credential_reason(path)
                if reason is not None:
                    return f"an argument names {candidate!r}: {reason}"
    except _TooMany:
        return (
            f"its arguments hold more than {_MAX_STRINGS} strings (or nest deeper than "
            f"{_MAX_DEPTH}), too many to check for protected paths"
        )
    return None


# --------------------------------------------------------------------------- results


def _size(data: str) -> int:
    """Bytes of base64 ``data`` (an estimate when it does not decode)."""
    try:
        return len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError):
        return len(data) * 3 // 4


def _mime(value: Any) -> str:
    return str(value or "unknown type")


def describe_block(block: Any) -> str:
    """One MCP content block as text: text as is, binary content described."""
    kind = getattr(block, "type", "")
    if kind == "text":
        return str(getattr(block, "text", ""))
    if kind in ("image", "audio"):
        data = str(getattr(block, "data", "") or "")
        return f"[{kind}: {_mime(getattr(block, 'mime_type', None))}, {_size(data):,} bytes]"
    if kind == "resource_link":
        uri = getattr(block, "uri", "")
        parts = [f"[resource link: {uri}", f"({_mime(getattr(block, 'mime_type', None))})"]
        name = getattr(block, "name", "")
        if name:
            parts.append(f"name {name}")
        text = " ".join(parts) + "]"
        description = getattr(block, "description", None)
        return f"{text} {description}" if description else text
    if kind == "resource":
        resource = getattr(block, "resource", None)
        uri = getattr(resource, "uri", "")
        mime = _mime(getattr(resource, "mime_type", None))
        body = getattr(resource, "text", None)
        if body is not None:
            return f"[resource {uri} ({mime})]\n{body}"
        blob = str(getattr(resource, "blob", "") or "")
        return f"[resource {uri}: {mime}, {_size(blob):,} bytes]"
    return f"[{kind or 'unknown'} content]"


def convert_result(raw: Any) -> ToolResult:
    """An MCP ``CallToolResult`` as a ``ToolResult``: text joined, binaries described.

    Structured content is added as JSON only when no text block carries the result (the
    MCP spec asks servers to mirror it as text, and fastmcp does).
    """
    blocks = list(getattr(raw, "content", None) or [])
    parts = [describe_block(block) for block in blocks]
    structured = getattr(raw, "structured_content", None)
    has_text = any(getattr(block, "type", "") == "text" for block in blocks)
    if structured is not None and not has_text:
        parts.append(json.dumps(structured, indent=2, ensure_ascii=False, default=str))
    text = "\n".join(part for part in parts if part)
    if getattr(raw, "is_error", False):
        message = text or "the tool reported an error without details"
        return ToolResult(ok=False, summary=_first_line(message), output=f"Error: {message}")
    if not text:
        return ToolResult(summary="no output", output="(the tool returned no content)")
    return ToolResult(summary=_first_line(text), output=text)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:120]
    return ""
