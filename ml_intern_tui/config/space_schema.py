"""``[sandbox.space]``: the settings of remote sandboxes on Hugging Face Spaces."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator


def _off_to_none(value: object) -> object:
    """TOML has no null: "none"/"off"/"" mean unset (as everywhere in the config)."""
    if isinstance(value, str) and value.strip().lower() in {"", "none", "off", "null"}:
        return None
    return value


class SpaceSandboxConfig(BaseModel):
    """``[sandbox.space]``: remote sandboxes on Hugging Face Spaces (``sandbox_create``)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    hardware: str = "cpu-basic"
    """Hardware when the agent names none (``t4-small``, ``a10g-large``...)."""

    @field_validator("hardware")
    @classmethod
    def _known_hardware(cls, value: str) -> str:
        from ml_intern_tui.spaces.prices import SPACE_HOURLY_USD

        name = value.strip().lower()
        if name not in SPACE_HOURLY_USD:
            raise ValueError(
                f"unknown Spaces hardware {value!r}; one of {', '.join(SPACE_HOURLY_USD)}"
            )
        return name

    lifetime_minutes: Annotated[int, Field(ge=5, le=7 * 24 * 60)] = 60
    """How long a sandbox may live; its worst-case cost is this times its $/h, and it is
    deleted when the time is up."""
    sleep_time_s: Annotated[int, Field(ge=300)] = 1800
    """Idle seconds after which the Hub puts the Space to sleep (paid hardware stops)."""
    namespace: Annotated[str | None, BeforeValidator(_off_to_none)] = None
    """Owner of the sandbox Spaces (your user when unset; an org you belong to)."""
    template: Annotated[str | None, BeforeValidator(_off_to_none)] = None
    """A Space to duplicate instead of building the shipped Dockerfile (``owner/name``);
    our API server is uploaded into it."""
    pass_hf_token: bool = False
    """Give the sandbox your HF token as the ``HF_TOKEN`` secret (off: the Space never
    sees it)."""
    create_timeout_s: Annotated[int, Field(ge=30)] = 900
    """How long a build may take before the sandbox is given up (and deleted)."""
    at_start: bool = False
    """Create the sandbox when the app starts (``--sandbox``), before the agent asks."""
