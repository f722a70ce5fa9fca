"""The bell / OSC 9 notifier: when it rings, what it writes, and that text cannot escape."""

from __future__ import annotations

from textual import events

from ml_intern_tui.core import protocol as p
from ml_intern_tui.safety.terminal import is_terminal_safe
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.attention import OSC9_MAX_CHARS, Attention, channel_for, osc9_text
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def notifier(mode: str = "bell", *, focused: bool = False, env: dict[str, str] | None = None):
    out: list[str] = []
    state = {"focused": focused}
    clock = Clock()
    attention = Attention(
        mode,  # type: ignore[arg-type]
        write=out.append,
        focused=lambda: state["focused"],
        environ=env or {},
        clock=clock,
    )
    return attention, out, state, clock


def test_auto_picks_osc9_only_where_the_terminal_shows_it() -> None:
    assert channel_for("auto", {"TERM_PROGRAM": "iTerm.app"}) == "osc9"
    assert channel_for("auto", {"TERM_PROGRAM": "WezTerm"}) == "osc9"
    assert channel_for("auto", {"TERM": "xterm-kitty"}) == "osc9"
    assert channel_for("auto", {"TERM_PROGRAM": "vscode"}) == "bell"
    assert channel_for("auto", {}) == "bell"
    # tmux drops an OSC it does not know but passes the bell on.
    assert channel_for("auto", {"TERM_PROGRAM": "iTerm.app", "TMUX": "/tmp/t,1,0"}) == "bell"
    assert channel_for("osc9", {"TMUX": "x"}) == "osc9"
    assert channel_for("off", {"TERM_PROGRAM": "iTerm.app"}) is None


def test_rings_only_when_the_user_is_away() -> None:
    attention, out, state, _clock = notifier("bell", focused=True)
    attention.focus_changed(True)
    assert attention.request("job failed", urgent=True) is None  # they are looking
    state["focused"] = False
    assert attention.request("job failed", urgent=True) == "bell"
    assert out == ["\x07"]


def test_unknown_focus_rings_for_alerts_not_for_routine() -> None:
    attention, out, _state, _clock = notifier("bell", focused=True)  # no report ever came
    assert attention.away() is None
    assert attention.request("turn finished") is None
    assert attention.request("job stalled", urgent=True) == "bell"
    assert out == ["\x07"]


def test_requests_close_together_ring_once_and_off_never_rings() -> None:
    attention, out, _state, clock = notifier("bell")
    attention.request("a failed", urgent=True)
    attention.request("b failed", urgent=True)
    assert out == ["\x07"]
    clock.now += 5
    attention.request("c failed", urgent=True)
    assert out == ["\x07", "\x07"]
    attention.mode = "off"
    clock.now += 5
    assert attention.request("d failed", urgent=True) is None
    assert len(out) == 2


def test_osc9_text_cannot_close_the_sequence_or_inject() -> None:
    hostile = "loss nan\x07\x1b]52;c;cm0gLXJmIC8=\x07\x1b[2J\x9b31m\u202eevil\nnext line\t."
    attention, out, _state, _clock = notifier("osc9")
    assert attention.request(hostile, urgent=True) == "osc9"
    [seq] = out
    assert seq.startswith("\x1b]9;ml-intern: ") and seq.endswith("\x07")
    body = seq[len("\x1b]9;") : -1]
    assert is_terminal_safe(body) and "\n" not in body and "\t" not in body
    assert "\x07" not in body and "\x1b" not in body
    assert "loss nan" in body and "next line" in body  # the words still read


def test_osc9_text_is_short_and_never_a_subcommand() -> None:
    assert osc9_text("4;3;100").startswith("ml-intern: 4;")  # not ConEmu progress
    long = osc9_text("x" * 1000)
    assert len(long) == OSC9_MAX_CHARS and long.endswith("…")


async def test_job_alert_rings_when_the_terminal_loses_focus(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test() as pilot:
        out: list[str] = []
        app.attention.write = out.append
        app.attention.mode = "bell"
        await wait_for(pilot, lambda: runtime.running)
        app.post_message(events.AppBlur())
        await wait_for(pilot, lambda: app.attention.focus_known and not app.app_focus)
        runtime.publish(
            p.Notice(
                level="warning", text="job job-1 stalled 10 min", job_id="job-1", alert="stalled"
            )
        )
        await wait_for(pilot, lambda: out == ["\x07"])
        # Back in front of it: a plain notice and an alert ring nothing.
        app.post_message(events.AppFocus())
        await wait_for(pilot, lambda: app.app_focus)
        app.attention._last = -100.0
        runtime.publish(
            p.Notice(level="error", text="job job-1 failed", job_id="job-1", alert="failed"),
            p.Notice(text="just news"),
        )
        await wait_for(pilot, lambda: "job job-1 failed" in app.transcript.to_markdown())
        assert out == ["\x07"]


async def test_notify_setting_reaches_the_app() -> None:
    runtime = FakeRuntime()
    runtime.settings.ui.notify = "off"
    app = MLInternApp(runtime)
    assert app.attention.mode == "off"
