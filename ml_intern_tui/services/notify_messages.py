"""How each event a person may want to hear about is worded as a Slack message."""

from __future__ import annotations

from ml_intern_tui.core.protocol import ApprovalRequired, Error, JobUpdated, Notice, TurnComplete
from ml_intern_tui.integrations.slack import Level, SlackMessage

ERROR_CHARS = 500


def _duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _preview(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.rfind("\n\n", 0, limit)
    if cut < limit // 2:
        cut = text.rfind(" ", 0, limit)
    cut = cut if cut > limit // 2 else limit
    return text[:cut].rstrip() + f"\n\n_… ({len(text) - cut:,} more characters in the app)_"


def approval_message(event: ApprovalRequired) -> SlackMessage:
    count = len(event.items)
    lines = [f"The agent is waiting for your approval of {count} tool call(s):"]
    for item in event.items:
        line = f"- **{item.tool}** — {item.title}"
        if item.cost_estimate_usd is not None:
            line += f" (estimated cost ${item.cost_estimate_usd:.2f})"
        if item.blocked_reason:
            line += f" — {item.blocked_reason}"
        lines.append(line)
    return SlackMessage("Approval required", "\n".join(lines), "warning")


def error_message(event: Error) -> SlackMessage:
    first = (event.message.strip().splitlines() or [""])[0]
    if len(first) > ERROR_CHARS:
        first = first[: ERROR_CHARS - 1] + "…"
    return SlackMessage("Agent error", f"`{event.kind}`: {first}", "error")


_STOPPED = {"iteration_cap": "iteration cap reached", "budget": "budget spent"}


def turn_message(event: TurnComplete, preview_chars: int) -> SlackMessage | None:
    """``None`` for turns that end in an approval or an error (those have their own)."""
    if event.reason in ("approval_pending", "error"):
        return None
    body = _preview(event.final_text, preview_chars) or "_(no final message)_"
    body += f"\n\n_{event.iterations} model call(s)_"
    if event.reason in _STOPPED:
        return SlackMessage(f"Turn stopped: {_STOPPED[event.reason]}", body, "warning")
    return SlackMessage("Turn complete", body, "success")


_JOB_LEVELS: dict[str, Level] = {"completed": "success", "failed": "error"}


def job_message(event: JobUpdated) -> SlackMessage:
    kind = "HF job" if event.kind == "hf" else "Local job"
    title = f"{kind} {event.status}" + (f": {event.title}" if event.title else "")
    lines = [f"- id: `{event.job_id}`" + (f" on `{event.flavor}`" if event.flavor else "")]
    if event.started_at is not None and event.ended_at is not None:
        lines.append(f"- duration: {_duration(event.ended_at - event.started_at)}")
    if event.cost_usd:
        lines.append(f"- cost: ${event.cost_usd:.2f}")
    if event.url:
        lines.append(f"- [open the job]({event.url})")
    return SlackMessage(title, "\n".join(lines), _JOB_LEVELS.get(event.status, "warning"))


def job_alert_message(event: Notice) -> SlackMessage:
    """A job that stalled or is diverging (endings go as ``job_finished``)."""
    title = "Job stalled" if event.alert == "stalled" else "Job diverging"
    return SlackMessage(title, event.text, "warning")


# ----------------------------------------------------------------------------- service
