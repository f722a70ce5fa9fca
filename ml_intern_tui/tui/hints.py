"""What a person should do about an error, from its kind and message."""

from __future__ import annotations

_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("auth", "api_key", "apikey", "unauthor", "401", "403"),
        "Check the provider's API key (e.g. HF_TOKEN, OPENAI_API_KEY), then /model to pick another.",
    ),
    (("rate", "429", "quota"), "Wait a moment and send the message again, or /model to switch."),
    (
        ("context", "overflow", "too long", "compaction"),
        "Run /compact (optionally with a focus), then send again.",
    ),
    (("budget", "spend"), "Raise the limit with /budget USD, or switch mode with /mode ask."),
    (
        ("network", "connect", "timeout", "unreachable", "dns"),
        "Check the network or the model endpoint, then send the message again.",
    ),
    (
        ("model", "not_found", "notfound", "404"),
        "Pick a model that exists with /model, then send again.",
    ),
    (
        ("journal", "disk", "permission denied", "write"),
        "Check free disk space and permissions of the session directory.",
    ),
    (("config",), "Fix the config file named above and restart."),
)


def error_hint(kind: str, message: str, recoverable: bool) -> str:
    """One line: what to do next."""
    haystack = f"{kind} {message}".lower()
    for needles, hint in _HINTS:
        if any(needle in haystack for needle in needles):
            return hint
    if recoverable:
        return "Send a message to carry on, or /undo the last turn."
    return "This session cannot continue: /new starts a fresh one, /resume reopens another."
