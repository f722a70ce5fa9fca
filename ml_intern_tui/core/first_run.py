"""First-run checks: the credential a model needs, named before the first message.

``missing_credentials(model, config)`` returns one line per missing credential (what is
missing, for which model, how to fix it) — empty when nothing is missing or nothing can
be known (local servers and the scripted demo need none). Headless prints them on stderr
before the run (``headless_credential_lines``); the app shows them in its banner.

Router models (``org/name``) need a Hugging Face token (``HF_TOKEN`` or huggingface_hub's
stored login); provider models (``anthropic/…``, ``gpt-4o``) need the provider's key in
the environment, named from a short table of the common providers and, for the rest, by
litellm's own ``validate_environment``. Nothing here talks to the network.

``store_hf_token(token)`` is what ``/login`` calls: it checks the token's shape and hands
it to ``huggingface_hub.login`` (which validates it with the Hub and stores it where every
Hugging Face tool finds it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "anthropic": ("ANTHROPIC_API_KEY",),
    "openai": ("OPENAI_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "groq": ("GROQ_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "xai": ("XAI_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"),
    "fireworks_ai": ("FIREWORKS_AI_API_KEY", "FIREWORKS_API_KEY"),
    "cohere": ("COHERE_API_KEY",),
    "perplexity": ("PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"),
    "cerebras": ("CEREBRAS_API_KEY",),
}
"""Environment variables that hold each provider's key; any one of a tuple is enough."""

HF_TOKEN_FIX = "set HF_TOKEN, run `hf auth login`, or use /login in the app"


def _hf_token_present(env: Mapping[str, str]) -> bool:
    if env.get("HF_TOKEN") or env.get("HUGGING_FACE_HUB_TOKEN"):
        return True
    try:
        from huggingface_hub import get_token

        return bool(get_token())
    except Exception:  # a broken token cache means "no token", not a crash
        return False


def _provider(model: str) -> str | None:
    """The litellm provider of a native model id (``gpt-4o`` → ``openai``), or None."""
    head, _, rest = model.partition("/")
    if rest and head in PROVIDER_KEYS:
        return head
    try:
        from ml_intern_tui.core.llm import load_litellm

        return str(load_litellm().get_llm_provider(model)[1])
    except Exception:  # an id litellm does not know: the first call will say so
        return None


def _litellm_missing(model: str, env: Mapping[str, str]) -> list[str]:
    """What litellm says is missing for a provider outside the table (best effort)."""
    try:
        from ml_intern_tui.core.llm import load_litellm

        found = load_litellm().validate_environment(model)
    except Exception:
        return []
    if not isinstance(found, dict) or found.get("keys_in_environment"):
        return []
    return [str(k) for k in found.get("missing_keys") or [] if not env.get(str(k))]


def missing_credentials(
    model: str,
    config: Any = None,
    *,
    env: Mapping[str, str] | None = None,
    hf_token_present: Callable[[Mapping[str, str]], bool] = _hf_token_present,
) -> list[str]:
    """One line per credential ``model`` needs and does not have, each with its fix."""
    from ml_intern_tui.core.models import DEFAULT_ROUTER_BASE, resolve_model

    environ: Mapping[str, str] = os.environ if env is None else env
    llm = getattr(config, "llm", None)
    base = str(getattr(llm, "hf_router_base", "") or DEFAULT_ROUTER_BASE)
    try:
        route = resolve_model(model, env=environ, router_base=base)
    except ValueError:
        return []  # a bad id is reported on its own, with its own fix
    if route.kind in ("scripted", "local"):
        return []
    if route.kind == "router":
        if hf_token_present(environ):
            return []
        return [f"no Hugging Face token for {model} (it runs on the HF router): {HF_TOKEN_FIX}"]
    provider = _provider(model)
    if provider in PROVIDER_KEYS:
        names = PROVIDER_KEYS[provider]
        if any(environ.get(name) for name in names):
            return []
        either = " or ".join(names)
        return [
            f"no API key for {model}: set {either} in the environment, or pick another model "
            "with --model (/model in the app)"
        ]
    missing = _litellm_missing(model, environ)
    if not missing:
        return []
    return [
        f"no API key for {model}: set {' and '.join(missing)} in the environment, or pick "
        "another model with --model (/model in the app)"
    ]


def headless_credential_lines(model: str, config: Any = None) -> list[str]:
    """The lines a headless run prints on stderr before it starts (``ml-intern-tui: …``)."""
    return [f"ml-intern-tui: warning: {line}" for line in missing_credentials(model, config)]


class LoginError(Exception):
    """A token that cannot be stored: one line saying why and what to do."""


def store_hf_token(token: str, *, endpoint: str | None = None) -> str:
    """Validate ``token`` with the Hub and store it through ``huggingface_hub.login``.

    Returns the one line to show (who is logged in). Raises ``LoginError`` with one line.
    The token is never echoed back.
    """
    token = token.strip()
    if not token:
        raise LoginError(
            "no token given: paste a token from https://huggingface.co/settings/tokens"
        )
    if any(ch.isspace() for ch in token) or not token.isprintable():
        raise LoginError("that is not a Hugging Face token (it has spaces or control characters)")
    if not token.startswith("hf_"):
        raise LoginError("Hugging Face tokens start with 'hf_': copy it again from your settings")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    try:
        who = HfApi(endpoint=endpoint, token=token).whoami()
    except HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status == 401:
            raise LoginError("the Hub refused this token (401): it is wrong or revoked") from None
        raise LoginError(f"could not check the token with the Hub (HTTP {status})") from None
    except OSError as exc:
        raise LoginError(f"could not reach the Hub to check the token: {exc}") from None
    name = str(who.get("name") or "unknown") if isinstance(who, dict) else "unknown"
    try:
        _save_token(token, who)
    except Exception as exc:  # huggingface_hub raises several kinds; one line for all
        raise LoginError(f"the token is valid but could not be stored: {exc}") from None
    return f"Logged in to the Hugging Face Hub as {name}; the token is stored for every HF tool."


def _save_token(token: str, who: object) -> None:
    """Store ``token`` as huggingface_hub's ``login`` does, without its second check.

    ``login()`` validates again with the module-wide endpoint (``HF_ENDPOINT`` as read at
    import), not the one this session uses: with a configured Hub endpoint it would send the
    token to huggingface.co, and it fails where that host is unreachable. The token was just
    checked against the right endpoint, so it is saved under the same name ``login`` would
    give it (the token's display name, else ``oauth-<user>``) and made the active one.
    """
    from huggingface_hub import _login  # the storage half of ``login`` (pinned version)
    from huggingface_hub.utils._auth import _save_token as save

    auth = who.get("auth") if isinstance(who, dict) else None
    access = (auth or {}).get("accessToken") if isinstance(auth, dict) else None
    user = who.get("name") if isinstance(who, dict) else None
    token_name = str((access or {}).get("displayName") or f"oauth-{user or 'user'}")
    save(token=token, token_name=token_name)
    _login._set_active_token(token_name=token_name, add_to_git_credential=False)
