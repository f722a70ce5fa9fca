"""Context overflow that always recovers: learn the window, compact, cut, or roll back.

A request the server refuses as too long teaches us its window (and its count of the
prompt, which calibrates ours). The turn then compacts towards a target under the
window; compaction summarises the middle and, when that is not enough, cuts the biggest
messages (the newest user message last, with a notice). When even that cannot make the
request fit, the turn is taken back whole: a prompt that cannot fit must not stay in the
history, or every later call, and every resume, would fail the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ml_intern_tui.core.fitting import Cut
from ml_intern_tui.core.llm_errors import ContextOverflowError
from ml_intern_tui.core.protocol import ContextUsage, Error, Notice, Undone

if TYPE_CHECKING:
    from ml_intern_tui.core.session import Session

MAX_OVERFLOW_RETRIES = 3
"""Compactions tried after overflow errors in one turn before it is rolled back (each
error teaches the calibration more, so the next cut is closer)."""
SHRINK = (0.9, 0.7, 0.5)
"""Without the server's count, overflow compactions aim at these shares of the size."""


def learned_notes(records: Iterable[dict[str, Any]], model: str) -> tuple[int | None, list[Any]]:
    """The window and token calibration a journal recorded for ``model`` (latest wins)."""
    window: int | None = None
    points: list[Any] = []
    for record in records:
        if record.get("model") not in (None, model):
            continue
        if record.get("kind") == "window":
            limit = record.get("limit")
            window = limit if isinstance(limit, int) and limit > 0 else None
        elif record.get("kind") == "token_calibration" and isinstance(record.get("points"), list):
            points = list(record["points"])
    return window, points


def publish_usage(s: Session) -> None:
    used, limit, threshold = s.context.usage()
    s.publish(ContextUsage(used=used, limit=limit, threshold=threshold))


def learn_window(
    s: Session, tokens: int, *, source: str, exact: bool, cap: int | None = None
) -> bool:
    """Take a window the server stated; True (journaled, announced) when it changed ours.

    ``exact`` windows (what the server runs with) replace ours; the others only lower it.
    ``cap`` is the user's own ``[context] limit``: a smaller one stays.
    """
    context = s.context
    new = tokens if exact else min(context.limit, tokens)
    if cap:
        new = min(new, cap)
    s.windows[s.model] = new
    if new == context.limit:
        return False
    context.limit = new
    context.note({"kind": "window", "limit": new, "source": source})
    s.publish(Notice(text=f"Context window of {s.model}: {new:,} tokens ({source})."))
    publish_usage(s)
    return True


def outgrow_window(s: Session, prompt_tokens: int) -> None:
    """The server took a request larger than the window we learned: that one is stale
    (the server was restarted with more); back to the model's usual window."""
    context = s.context
    if prompt_tokens <= context.limit or context.limit >= context.base_limit:
        return
    stale = context.limit
    s.windows.pop(s.model, None)
    context.limit = context.base_limit
    context.note({"kind": "window", "limit": None, "source": "outgrown"})
    s.publish(
        Notice(
            text=(
                f"The server took {prompt_tokens:,} tokens, more than the window learned "
                f"earlier ({stale:,}): using {context.limit:,} again."
            )
        )
    )
    publish_usage(s)


def learn_from_overflow(
    s: Session, exc: ContextOverflowError, sent_raw: int, cap: int | None
) -> None:
    """Calibrate our count and learn the window from what the server's error says."""
    if exc.prompt_tokens:
        s.context.observe(sent_raw, exc.prompt_tokens)
    source = "from the server's overflow error"
    if not (exc.window and learn_window(s, exc.window, source=source, exact=False, cap=cap)):
        publish_usage(s)


def overflow_target(s: Session, exc: ContextOverflowError, attempt: int) -> int:
    """Server tokens the next request should fit under.

    When the error said the server's count of the prompt, our estimate is now on its
    scale and the threshold is the target; without it, each attempt takes a bigger share
    off what was sent (our scale may be off by any amount).
    """
    if exc.prompt_tokens:
        return s.context.threshold
    share = SHRINK[min(attempt + 1, len(SHRINK) - 1)]
    return min(s.context.threshold, int(s.context.tokens() * share))


def cut_notices(s: Session, cuts: list[Cut]) -> list[Notice]:
    """What the user is told about messages a compaction cut to fit the window."""
    notices: list[Notice] = []
    scale = s.context.calibration.scale
    others = [c for c in cuts if not c.newest_user]
    for cut in cuts:
        if cut.newest_user:
            notices.append(
                Notice(
                    level="warning",
                    text=(
                        f"Your message is too long for the context window of {s.model} "
                        f"({s.context.limit:,} tokens): the model sees its start and end, "
                        f"about {scale(cut.after):,} of its {scale(cut.before):,} tokens. The "
                        "full text is kept in the session journal."
                    ),
                )
            )
    if others:
        parts = ", ".join(f"{c.role} {scale(c.before):,} → {scale(c.after):,}" for c in others[:4])
        more = f" and {len(others) - 4} more" if len(others) > 4 else ""
        noun = "message" if len(others) == 1 else "messages"
        notices.append(
            Notice(
                text=(
                    f"To fit the context window, cut {len(others)} long {noun} to their start "
                    f"and end ({parts} tokens{more}); the full text is in the session journal."
                )
            )
        )
    return notices


def roll_back_turn(s: Session, why: str) -> bool:
    """Take back the turn that cannot fit; the user gets their text back. False if none."""
    text = s.context.rollback_turn()
    if text is None:
        return False
    s.publish(Undone(what="turn", text=text))  # first: the chat drops the turn's blocks
    s.publish(
        Error(
            kind="context_overflow",
            message=(
                f"this turn cannot fit the context window of {s.model} ({s.context.limit:,} "
                f"tokens): {why}. The turn was taken back so the session stays usable: send "
                "a shorter message, or switch to a model with a larger window"
            ),
            recoverable=True,
        )
    )
    publish_usage(s)
    return True
