"""Model id → route resolution (pure, no litellm)."""

from __future__ import annotations

import pytest

from ml_intern_tui.core.models import (
    KNOWN_LITELLM_PROVIDERS,
    LOCAL_NO_KEY,
    ModelRoute,
    resolve_model,
    validate_model_id,
)

ROUTER = "https://router.huggingface.co/v1"


@pytest.mark.parametrize(
    ("model_id", "litellm_model", "api_base"),
    [
        ("ollama/llama3.1:8b", "openai/llama3.1:8b", "http://localhost:11434/v1"),
        (
            "vllm/Qwen/Qwen2.5-7B-Instruct",
            "openai/Qwen/Qwen2.5-7B-Instruct",
            "http://localhost:8000/v1",
        ),
        ("lm_studio/qwen2.5-7b", "openai/qwen2.5-7b", "http://127.0.0.1:1234/v1"),
        ("llamacpp/model.gguf", "openai/model.gguf", "http://localhost:8080/v1"),
    ],
)
def test_local_prefixes_map_to_openai_compatible_defaults(
    model_id: str, litellm_model: str, api_base: str
) -> None:
    route = resolve_model(model_id, env={})
    assert route == ModelRoute(model_id, litellm_model, api_base, LOCAL_NO_KEY, "local", False)


def test_local_env_precedence_provider_then_shared_then_default() -> None:
    env = {
        "VLLM_BASE_URL": "http://gpu-box:9000/",
        "LOCAL_LLM_BASE_URL": "http://shared:1111",
        "LOCAL_LLM_API_KEY": "shared-key",
    }
    vllm = resolve_model("vllm/m", env=env)
    assert vllm.api_base == "http://gpu-box:9000/v1"  # trailing slash trimmed, /v1 added
    assert vllm.api_key == "shared-key"
    ollama = resolve_model("ollama/m", env=env)
    assert ollama.api_base == "http://shared:1111/v1"
    env["OLLAMA_API_KEY"] = "own-key"
    env["OLLAMA_BASE_URL"] = "http://localhost:11434/v1/"
    ollama = resolve_model("ollama/m", env=env)
    assert (ollama.api_base, ollama.api_key) == ("http://localhost:11434/v1", "own-key")
    assert resolve_model("lm_studio/m", env={"LMSTUDIO_API_KEY": "lm"}).api_key == "lm"
    assert resolve_model("llamacpp/m", env={"LLAMACPP_BASE_URL": "http://h:1/v1"}).api_base == (
        "http://h:1/v1"
    )


def test_local_reads_process_env_when_no_env_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLLM_BASE_URL", "http://from-env:8001")
    assert resolve_model("vllm/m").api_base == "http://from-env:8001/v1"


@pytest.mark.parametrize(
    ("model_id", "litellm_model"),
    [
        ("Qwen/Qwen3-Coder-480B-A35B-Instruct", "openai/Qwen/Qwen3-Coder-480B-A35B-Instruct"),
        ("moonshotai/Kimi-K2-Instruct:novita", "openai/moonshotai/Kimi-K2-Instruct:novita"),
        ("meta-llama/Llama-3.3-70B-Instruct", "openai/meta-llama/Llama-3.3-70B-Instruct"),
        ("huggingface/openai/gpt-oss-120b", "openai/openai/gpt-oss-120b"),
        ("hf/deepseek-ai/DeepSeek-V3:together", "openai/deepseek-ai/DeepSeek-V3:together"),
    ],
)
def test_hub_ids_go_to_the_router_with_the_hf_token(model_id: str, litellm_model: str) -> None:
    route = resolve_model(model_id, env={}, hf_token="hf_abc")
    assert route == ModelRoute(model_id, litellm_model, ROUTER, "hf_abc", "router", True)


def test_router_base_is_configurable() -> None:
    route = resolve_model("Qwen/Qwen3-8B", env={}, router_base="http://127.0.0.1:9/v1")
    assert route.api_base == "http://127.0.0.1:9/v1"
    assert route.api_key is None


@pytest.mark.parametrize(
    "model_id",
    [
        "gpt-4o",
        "claude-sonnet-4-5",
        "anthropic/claude-sonnet-4-5",
        "openai/gpt-5",
        "gemini/gemini-2.5-pro",
        "openrouter/anthropic/claude-3.5-sonnet",
        "bedrock/anthropic.claude-3-sonnet-20240229-v1:0",
        "ollama_chat/llama3",
    ],
)
def test_litellm_providers_and_bare_ids_pass_through(model_id: str) -> None:
    assert resolve_model(model_id, env={}, hf_token="hf_abc") == ModelRoute(
        model_id, model_id, None, None, "native", True
    )


def test_huggingface_is_not_a_native_provider() -> None:
    assert "huggingface" not in KNOWN_LITELLM_PROVIDERS
    assert "ollama" not in KNOWN_LITELLM_PROVIDERS


def test_scripted_ids_stay_unchanged() -> None:
    assert resolve_model("scripted/demo", env={}) == ModelRoute(
        "scripted/demo", "scripted/demo", None, None, "scripted", False
    )


@pytest.mark.parametrize(
    ("model_id", "needle"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ollama/", "names no model"),
        ("vllm", "names no model"),
        ("llamacpp/", "llamacpp/<model-name>"),
        ("gpt 4o", "whitespace"),
        ("Qwen//Qwen3", "empty path segment"),
        ("/gpt-4o", "empty path segment"),
        ("Qwen/Qwen3/", "empty path segment"),
        ("openai-compat/my-model", "not supported"),
        ("huggingface/gpt2", "huggingface/<org>/<model>"),
        ("Qwen/Qwen3:", "':provider'"),
        ("scripted/", "scenario"),
    ],
)
def test_invalid_ids_get_one_line_messages(model_id: str, needle: str) -> None:
    message = validate_model_id(model_id)
    assert message is not None
    assert needle in message
    assert "\n" not in message
    with pytest.raises(ValueError) as info:
        resolve_model(model_id, env={})
    assert str(info.value) == message


@pytest.mark.parametrize(
    "model_id", ["gpt-4o", "ollama/llama3", "Qwen/Qwen3:fal", "hf/a/b", "scripted/demo"]
)
def test_valid_ids_have_no_message(model_id: str) -> None:
    assert validate_model_id(model_id) is None
