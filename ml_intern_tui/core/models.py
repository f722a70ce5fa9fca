"""Model id resolution: which endpoint, key and litellm model name a model id means.

Pure and cheap (no litellm import), so the CLI can reject a bad ``--model`` before the
UI starts. Four kinds of ids:

- ``scripted/<scenario>``: the offline scripted provider (litellm custom provider).
- local: ``ollama/``, ``vllm/``, ``lm_studio/``, ``llamacpp/`` → an OpenAI-compatible
  server on this machine (or wherever ``<PROVIDER>_BASE_URL`` points).
- router: ``huggingface/<org>/<model>``, ``hf/<org>/<model>`` or any
  ``<org>/<model>[:provider]`` whose first segment is not a litellm provider → the
  Hugging Face inference router, paid with the user's HF token. ``openai`` and
  ``anthropic`` are Hub organisations too: ``openai/gpt-5.5:fal-ai`` (with a
  ``:provider`` suffix) goes to the router, ``openai/gpt-5`` to OpenAI.
- native: a litellm provider prefix (``anthropic/…``, ``openai/…``) or a bare id
  (``gpt-4o``) → passed to litellm unchanged; litellm reads the provider's own key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

RouteKind = Literal["local", "router", "native", "scripted"]

DEFAULT_ROUTER_BASE = "https://router.huggingface.co/v1"
LOCAL_NO_KEY = "sk-local-no-key-required"


@dataclass(frozen=True)
class LocalProvider:
    """An OpenAI-compatible local server family and where to find it."""

    prefix: str
    env_prefix: str
    default_base: str

    @property
    def base_env(self) -> str:
        return f"{self.env_prefix}_BASE_URL"

    @property
    def key_env(self) -> str:
        return f"{self.env_prefix}_API_KEY"


LOCAL_PROVIDERS: dict[str, LocalProvider] = {
    p.prefix: p
    for p in (
        LocalProvider("ollama", "OLLAMA", "http://localhost:11434"),
        LocalProvider("vllm", "VLLM", "http://localhost:8000"),
        LocalProvider("lm_studio", "LMSTUDIO", "http://127.0.0.1:1234"),
        LocalProvider("llamacpp", "LLAMACPP", "http://localhost:8080"),
    )
}

HF_PREFIXES = ("huggingface", "hf")

HUB_ORGS_NAMED_LIKE_PROVIDERS = frozenset({"openai", "anthropic"})
"""litellm provider prefixes that are also Hub organisations served by the router."""

_ROUTER_SUFFIX = re.compile(r"[a-z][a-z0-9-]*")

KNOWN_LITELLM_PROVIDERS: frozenset[str] = frozenset(
    {
        # Deliberately NOT here: huggingface (→ router) and the local prefixes above.
        "openai",
        "text-completion-openai",
        "custom_openai",
        "openai_like",
        "anthropic",
        "azure",
        "azure_ai",
        "gemini",
        "vertex_ai",
        "vertex_ai_beta",
        "bedrock",
        "sagemaker",
        "mistral",
        "codestral",
        "groq",
        "deepseek",
        "together_ai",
        "openrouter",
        "fireworks_ai",
        "cohere",
        "cohere_chat",
        "xai",
        "ollama_chat",
        "hosted_vllm",
        "llamafile",
        "perplexity",
        "cerebras",
        "sambanova",
        "deepinfra",
        "replicate",
        "nvidia_nim",
        "databricks",
        "watsonx",
        "cloudflare",
        "ai21",
        "friendliai",
        "github",
        "github_copilot",
        "dashscope",
        "moonshot",
        "novita",
        "nscale",
        "nebius",
        "hyperbolic",
        "featherless_ai",
        "lambda_ai",
        "baseten",
        "predibase",
        "meta_llama",
        "volcengine",
        "zai",
        "minimax",
        "litellm_proxy",
        "vercel_ai_gateway",
        "oci",
        "snowflake",
    }
)
"""First path segments that name a litellm provider rather than a Hub organisation."""


@dataclass(frozen=True)
class ModelRoute:
    """Everything the LLM adapter needs to call one model id."""

    model_id: str
    """What the user typed (shown in the UI)."""
    litellm_model: str
    """What litellm is called with (``openai/Qwen/Qwen3-Coder:novita``)."""
    api_base: str | None
    api_key: str | None
    kind: RouteKind
    send_effort: bool
    """Whether a reasoning-effort parameter may be sent (never to local servers)."""


def _segments_ok(path: str) -> bool:
    return all(segment for segment in path.split("/"))


def validate_model_id(model_id: str) -> str | None:
    """Return a one-line error (what is wrong, what to do) or ``None`` when the id is usable."""
    if not model_id or not model_id.strip():
        return "the model id is empty: pass one like 'Qwen/Qwen3-Coder-480B-A35B-Instruct' or 'ollama/llama3.1'"
    if any(ch.isspace() for ch in model_id):
        return f"model id {model_id!r} contains whitespace: remove it"
    head, _, rest = model_id.partition("/")
    if head == "openai-compat":
        return (
            "'openai-compat/' is not supported: use vllm/, ollama/, lm_studio/ or llamacpp/ "
            "and point <PROVIDER>_BASE_URL (or LOCAL_LLM_BASE_URL) at your server"
        )
    if head in LOCAL_PROVIDERS and not rest:
        return f"{model_id!r} names no model: use {head}/<model-name> (the name your server serves)"
    if head == "scripted" and not rest:
        return f"{model_id!r} names no scenario: use scripted/<scenario>"
    if not _segments_ok(model_id):
        return f"model id {model_id!r} has an empty path segment: check the slashes"
    if head in HF_PREFIXES and "/" not in rest:
        return f"{model_id!r} is incomplete: use {head}/<org>/<model>"
    if model_id.endswith(":") or ":/" in model_id or model_id.startswith(":"):
        return f"model id {model_id!r} has an empty ':provider' part: remove the colon or name a provider"
    return None


def _local_route(
    model_id: str, provider: LocalProvider, rest: str, env: Mapping[str, str]
) -> ModelRoute:
    base = env.get(provider.base_env) or env.get("LOCAL_LLM_BASE_URL") or provider.default_base
    base = base.strip().rstrip("/")
    if not base.endswith("/v1"):
        base = f"{base}/v1"
    key = env.get(provider.key_env) or env.get("LOCAL_LLM_API_KEY") or LOCAL_NO_KEY
    return ModelRoute(
        model_id=model_id,
        litellm_model=f"openai/{rest}",
        api_base=base,
        api_key=key,
        kind="local",
        send_effort=False,
    )


def resolve_model(
    model_id: str,
    *,
    env: Mapping[str, str] | None = None,
    hf_token: str | None = None,
    router_base: str = DEFAULT_ROUTER_BASE,
) -> ModelRoute:
    """Map a model id to its route. Raises ``ValueError`` (one-line message) on a bad id."""
    problem = validate_model_id(model_id)
    if problem is not None:
        raise ValueError(problem)
    environ: Mapping[str, str] = os.environ if env is None else env
    head, _, rest = model_id.partition("/")
    if head == "scripted":
        return ModelRoute(model_id, model_id, None, None, "scripted", False)
    if head in LOCAL_PROVIDERS:
        return _local_route(model_id, LOCAL_PROVIDERS[head], rest, environ)
    if head in HF_PREFIXES:
        return ModelRoute(model_id, f"openai/{rest}", router_base, hf_token, "router", True)
    if rest and (head.lower() not in KNOWN_LITELLM_PROVIDERS or _router_pin(head, rest)):
        return ModelRoute(model_id, f"openai/{model_id}", router_base, hf_token, "router", True)
    return ModelRoute(model_id, model_id, None, None, "native", True)


def _router_pin(head: str, rest: str) -> bool:
    """``openai/gpt-5.5:fal-ai``: a Hub org named like a provider, pinned to a router
    provider (one colon; OpenAI's fine-tuned ids carry several)."""
    if head.lower() not in HUB_ORGS_NAMED_LIKE_PROVIDERS or rest.count(":") != 1:
        return False
    return bool(_ROUTER_SUFFIX.fullmatch(rest.rpartition(":")[2]))


def local_base_env(model_id: str) -> str | None:
    """The env var that sets the server address for a local model id (for error hints)."""
    provider = LOCAL_PROVIDERS.get(model_id.partition("/")[0])
    return provider.base_env if provider else None


def local_key_env(model_id: str) -> str | None:
    """The env var that sets the API key for a local model id (for error hints)."""
    provider = LOCAL_PROVIDERS.get(model_id.partition("/")[0])
    return provider.key_env if provider else None
