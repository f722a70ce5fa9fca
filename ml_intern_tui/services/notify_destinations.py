"""Where notifications go: the ``[notifications]`` destinations and the environment shortcut
the original ml-intern used (``SLACK_BOT_TOKEN`` + ``SLACK_CHANNEL_ID``/``SLACK_CHANNEL``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ml_intern_tui.config.schema import (
    NOTIFICATION_EVENTS,
    NotificationsConfig,
    SlackDestinationConfig,
)
from ml_intern_tui.integrations.slack_client import SlackTarget

ENV_DESTINATION = "slack"
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class Destination:
    """One place messages go, resolved from the settings."""

    name: str
    target: SlackTarget
    events: frozenset[str]
    allow_agent: bool


def _target(config: SlackDestinationConfig) -> SlackTarget:
    return SlackTarget(
        webhook_url=config.webhook_url.get_secret_value() if config.webhook_url else None,
        token=config.token.get_secret_value() if config.token else None,
        channel=config.channel,
        api_base=config.api_base,
        username=config.username,
        icon_emoji=config.icon_emoji,
    )


def env_destination(env: Mapping[str, str]) -> tuple[str, SlackDestinationConfig] | None:
    """The destination the ``SLACK_BOT_TOKEN`` shortcut describes, or ``None``.

    Raises ``ValueError`` (one line, no secret) when the variables do not make one.
    """
    token = env.get("SLACK_BOT_TOKEN", "").strip()
    channel = (env.get("SLACK_CHANNEL_ID") or env.get("SLACK_CHANNEL") or "").strip()
    if not token or not channel:
        return None
    if env.get("ML_INTERN_SLACK_NOTIFICATIONS", "").strip().lower() in _FALSE_WORDS:
        return None

    def flag(name: str) -> bool:
        return env.get(name, "true").strip().lower() not in _FALSE_WORDS

    events: list[str] = list(NOTIFICATION_EVENTS)
    if listed := env.get("ML_INTERN_SLACK_AUTO_EVENTS", "").strip():
        events = [e.strip() for e in listed.split(",") if e.strip()]
    if not flag("ML_INTERN_SLACK_ALLOW_AUTO_EVENTS"):
        events = []
    data: dict[str, Any] = {
        "type": "slack",
        "token": token,
        "channel": channel,
        "events": events,
        "allow_agent": flag("ML_INTERN_SLACK_ALLOW_AGENT_TOOL"),
    }
    if api_base := env.get("ML_INTERN_SLACK_API_BASE", "").strip():
        data["api_base"] = api_base
    try:
        config = SlackDestinationConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            "".join(f"{p}: " for p in err["loc"][:1])
            + str(err["msg"]).removeprefix("Value error, ")
            for err in exc.errors()
        )
        raise ValueError(f"SLACK_BOT_TOKEN shortcut ignored: {problems}") from None
    name = env.get("ML_INTERN_SLACK_DESTINATION", "").strip() or ENV_DESTINATION
    return name, config


def resolve_destinations(
    config: NotificationsConfig, env: Mapping[str, str]
) -> tuple[list[Destination], list[str]]:
    """The active destinations and the problems worth a notice at start.

    The environment shortcut adds its destination, even with ``enabled = false`` (which
    then keeps only the configured destinations off), unless the config has one of that
    name: the config wins.
    """
    problems: list[str] = []
    configured = dict(config.destinations) if config.enabled else {}
    try:
        shortcut = env_destination(env)
    except ValueError as exc:
        problems.append(str(exc))
        shortcut = None
    if shortcut is not None and shortcut[0] not in config.destinations:
        configured[shortcut[0]] = shortcut[1]
    if not configured and config.enabled:
        problems.append(
            "notifications are enabled but no destination is configured: add a "
            "[notifications.destinations.NAME] table"
        )
    destinations = [
        Destination(name, _target(dest), frozenset(dest.events), dest.allow_agent)
        for name, dest in configured.items()
        if dest.enabled
    ]
    return destinations, problems


# ----------------------------------------------------------------------------- messages
