"""What providers say when they refuse a reasoning setting, and what that means for us.

Every wording here was seen from a real provider (or from litellm itself, which refuses
some levels before sending); ``WORDINGS`` keeps each with its source and a real example,
and the tests run every example through ``classify``. Five problems are told apart:

- ``effort_level``: this level is refused, a lower one may do (OpenAI's "Unsupported
  value: 'reasoning_effort' does not support 'xhigh'", SGLang's "Input should be 'low',
  'medium' or 'high'", Anthropic's max_tokens below the thinking budget). When the text
  lists the values it takes, ``allowed`` has them.
- ``effort_param``: the model takes no effort parameter at all ("Unsupported parameter:
  'reasoning_effort'", "This model does not support the effort parameter").
- ``thinking_signature``: a stored thinking block's signature is refused (another model,
  another key, or a corrupted copy): the stored thinking blocks must go.
- ``thinking_required``: thinking is on but the assistant message of the current tool
  loop has no thinking block: this call must go without thinking.
- ``thinking_forbidden``: thinking is off but the history still carries thinking blocks.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from typing import Literal

from ml_intern_tui.core.effort import LEVELS

ProblemKind = Literal[
    "effort_level", "effort_param", "thinking_signature", "thinking_required", "thinking_forbidden"
]


@dataclass(frozen=True)
class ReasoningProblem:
    """A model call refused because of a reasoning setting."""

    kind: ProblemKind
    allowed: frozenset[str] | None = None
    """The values the provider says it takes (lower case, ``none``/``default`` kept), when
    its message lists them."""


@dataclass(frozen=True)
class Wording:
    """One refusal as a provider words it."""

    kind: ProblemKind
    pattern: str
    """A regular expression over the lower-cased error text (message and body)."""
    source: str
    example: str
    """A real error text with this wording (the tests classify every one)."""


# fmt: off
WORDINGS: tuple[Wording, ...] = (
    Wording(
        "thinking_signature", r"invalid\s+`?signature`?\s+in\s+`?thinking`?\s+block",
        "Anthropic Messages API (also through Bedrock and Vertex): anthropics/claude-code#10627",
        '{"type":"error","error":{"type":"invalid_request_error","message":"messages.1.content.0:'
        ' Invalid `signature` in `thinking` block"},"request_id":"req_011CUdL49e3Fu9bCKbWF6cXD"}',
    ),
    Wording(
        "thinking_signature", r"invalid\s+`?signature`?\s+in\s+`?thinking`?\s+block",
        "Anthropic through proxies that drop the backticks: caozhiyuan/copilot-api#73",
        "messages.3.content.0: Invalid signature in thinking block",
    ),
    Wording(
        "thinking_required",
        r"expected\s+`?thinking`?\s+or\s+`?redacted_thinking`?,?\s+but\s+found",
        "Anthropic Messages API: deepset-ai/haystack-core-integrations#2146",
        "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
        "`tool_use`. When `thinking` is enabled, a final `assistant` message must start with a"
        " thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). "
        "We recommend you include thinking blocks from previous turns. To avoid this "
        "requirement, disable `thinking`. Please consult our documentation at "
        "https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking",
    ),
    Wording(
        "thinking_forbidden",
        r"when\s+thinking\s+is\s+disabled,\s+an\s+`?assistant`?\s+message.{0,40}cannot\s+contain",
        "Anthropic Messages API: tailcallhq/forgecode#1853",
        "messages.1.content.0: When thinking is disabled, an `assistant` message in the final "
        "position cannot contain `thinking`. To use thinking blocks, enable `thinking` in your "
        "request.",
    ),
    Wording(
        "effort_param", r"unsupported\s+parameter:?\s*'?reasoning_effort",
        "OpenAI Chat Completions (non-reasoning models): BerriAI/litellm#13569",
        "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
    ),
    Wording(
        "effort_param", r"unrecognized\s+request\s+argument\s+supplied:?\s*reasoning_effort",
        "OpenAI Chat Completions (gpt-4o-mini): davidmigloz/langchain_dart#712",
        '{"error":{"message":"Unrecognized request argument supplied: reasoning_effort",'
        '"type":"invalid_request_error","param":null,"code":null}}',
    ),
    Wording(
        "effort_param", r"`?reasoning_effort`?\s+is\s+not\s+supported\s+(?:with|for)\s+this\s+model",
        "Groq and Cerebras (non-reasoning models): brendanlong/lion-reader#1325",
        "400 reasoning_effort is not supported with this model",
    ),
    Wording(
        "effort_param", r"does\s+not\s+support\s+parameter\s+reasoningeffort",
        "xAI (Grok 4 models): BerriAI/litellm#16265",
        '{"code":"Client specified an invalid argument","error":"Model grok-4-latest does not'
        ' support parameter reasoningEffort."}',
    ),
    Wording(
        "effort_param", r"does\s+not\s+support\s+parameters:.{0,40}reasoning_effort",
        "litellm's UnsupportedParamsError (when params are not dropped): BerriAI/litellm#14163",
        "litellm.UnsupportedParamsError: groq does not support parameters: ['reasoning_effort'],"
        " for model=openai/gpt-oss-120b. To drop these, set `litellm.drop_params=True`",
    ),
    Wording(
        "effort_param", r"does\s+not\s+support\s+the\s+effort\s+parameter",
        "Anthropic (Haiku 4.5; Sonnet 4.5 on Bedrock): anthropics/claude-code#30795",
        "API Error: 400 This model does not support the effort parameter.",
    ),
    Wording(
        "effort_param", r"output_config:?\s*extra\s+inputs\s+are\s+not\s+permitted",
        "Anthropic models behind Bedrock/Vertex/Foundry without output_config (as reported in"
        " fleetdm/fleet#49187)",
        "output_config: Extra inputs are not permitted",
    ),
    Wording(
        "effort_param", r"thinking\.type\.enabled\W{0,3}\s+is\s+not\s+supported\s+for\s+this\s+model",
        "Anthropic (adaptive-only models): OpenHands/software-agent-sdk#3500",
        '{"type":"error","error":{"type":"invalid_request_error","message":"\\"thinking.type.'
        'enabled\\" is not supported for this model. Use \\"thinking.type.adaptive\\" and \\"'
        'output_config.effort\\" to control thinking behavior."}}',
    ),
    Wording(
        "effort_level", r"'reasoning_effort'\s+does\s+not\s+support\s+'\w+'",
        "OpenAI Chat Completions (and Kimi's OpenAI-compatible API): Kilo-Org/cloud#3807",
        '{"error":{"message":"Unsupported value: \'reasoning_effort\' does not support \'none\''
        " with this model. Supported values are: 'minimal', 'low', 'medium', and 'high'.\","
        '"type":"invalid_request_error"}}',
    ),
    Wording(
        "effort_level", r"reasoning_effort.{0,200}input\s+should\s+be",
        "SGLang / vLLM request validation (pydantic literal): router-for-me/CLIProxyAPI#1572",
        '{"object":"error","message":"1 validation error:\\n  {\'type\': \'literal_error\', '
        "'loc': ('body', 'reasoning_effort'), 'msg': \\\"Input should be 'low', 'medium' or "
        "'high'\\\", 'input': 'xhigh', 'ctx': {'expected': \\\"'low', 'medium' or 'high'\\\"}}"
        '","type":"Bad Request","param":null,"code":400}',
    ),
    Wording(
        "effort_level", r"reasoning_effort\s+must\s+be\s+one\s+of",
        "Groq (Qwen3 models take only none/default): earendil-works/pi#1745",
        "reasoning_effort must be one of none or default",
    ),
    Wording(
        "effort_level", r"effort='\w+'\s+is\s+not\s+supported\s+by\s+this\s+model",
        "litellm 1.106 itself, before sending (Anthropic effort gate): litellm anthropic/chat",
        "litellm.BadRequestError: effort='xhigh' is not supported by this model. Got model: "
        "claude-opus-4-6",
    ),
    Wording(
        "effort_level", r"reasoning_effort=\w+\s+is\s+not\s+supported\s+for",
        "litellm 1.106 itself (gpt-5 effort gate, when params are not dropped)",
        "reasoning_effort=xhigh is not supported for gpt-5. To drop unsupported params set "
        "`litellm.drop_params = True`",
    ),
    Wording(
        "effort_level", r"`?max_tokens`?\s+must\s+be\s+greater\s+than\s+`?thinking\.budget_tokens",
        "Anthropic (the thinking budget of a level above the output cap): "
        "liuw1535/antigravity2api-nodejs#150",
        "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
        "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
        "#max-tokens-and-context-window-size",
    ),
    Wording(
        "effort_level", r"level\s+\W?\w+\W?\s+not\s+supported,\s+valid\s+levels",
        "OpenAI-compatible proxies: nguyenphutrong/quotio#287",
        'Error: 400 level "max" not supported, valid levels: low, medium, high, xhigh',
    ),
)
# fmt: on
_COMPILED = tuple((w, re.compile(w.pattern, re.S)) for w in WORDINGS)

_LIST_INTROS = re.compile(
    r"(?:supported\s+values\s+are|input\s+should\s+be|must\s+be\s+one\s+of|valid\s+levels)"
    r"\s*:?\s*(?P<list>[^.\"\n}]{0,200})"
)
_KNOWN_VALUES = frozenset({*LEVELS, "none", "default"})


def allowed_values(text: str) -> frozenset[str] | None:
    """The effort values an error message says are taken (``None`` when it lists none)."""
    match = _LIST_INTROS.search(text.lower())
    if match is None:
        return None
    words = set(re.findall(r"[a-z]+", match.group("list"))) & _KNOWN_VALUES
    return frozenset(words) if words else None


def error_text(exc: BaseException) -> str:
    """Everything an error says: its message and those of its causes, with their bodies."""
    parts: list[str] = []
    link: BaseException | None = exc
    for _ in range(5):
        if link is None:
            break
        parts.append(str(link))
        body = getattr(link, "body", None)
        if body is not None:
            with contextlib.suppress(TypeError, ValueError):
                parts.append(json.dumps(body, default=str))
        link = link.__cause__ or link.__context__
    return " ".join(parts)[:20_000]


def classify(text: str) -> ReasoningProblem | None:
    """The reasoning problem an error text describes, or ``None``."""
    low = text.lower()
    for wording, pattern in _COMPILED:
        if pattern.search(low):
            allowed = allowed_values(low) if wording.kind == "effort_level" else None
            return ReasoningProblem(wording.kind, allowed)
    # OpenAI's "Invalid value: 'max'. Supported values are: ..." names the parameter only
    # in the error's ``param`` field, which the body carries.
    if "reasoning_effort" in low and ("invalid value" in low or "supported values are" in low):
        return ReasoningProblem("effort_level", allowed_values(low))
    return None


def classify_error(exc: BaseException) -> ReasoningProblem | None:
    """The reasoning problem behind a failed call (message, causes and bodies read)."""
    return classify(error_text(exc))
