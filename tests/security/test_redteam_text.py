"""Red team: text a model or a file chose, drawn as Textual markup.

Textual markup is more than colour: ``[@click=app.quit]…[/]`` makes the text run an
action when clicked, and ``[link=…]`` plants a hyperlink. A toast (``notify``) parses
its text as markup unless told not to; the ``/permissions`` screen put a remembered
rule's pattern -- a model's command -- into one.
"""

from __future__ import annotations

from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.screens.permissions import PermissionsScreen

RULE = "bash: python train.py [@click=app.compact]now[/] [b]x[/b]*"


def screen_text(app: MLInternApp) -> str:
    update = app.screen._compositor.render_full_update()
    rows = []
    for strip in update.strips:
        segments = strip if hasattr(strip, "__iter__") else [strip]
        rows.append("".join(seg.text for part in segments for seg in part if not seg.control))
    return "\n".join(rows)


async def test_a_rule_that_stays_is_named_literally_in_the_toast() -> None:
    runtime = FakeRuntime()
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id)
        app.run_slash("permissions")  # the app asks; the runtime answers with the rules
        runtime.publish(
            p.Permissions(
                rules=[RULE],
                sources={RULE: "/proj/.ml-intern/config.toml"},
                fixed={RULE: "remove it from /proj/.ml-intern/config.toml"},
            )
        )
        await wait_for(pilot, lambda: isinstance(app.screen, PermissionsScreen))
        await pilot.press("d")
        await wait_for(pilot, lambda: bool(list(app._notifications)))
        (toast,) = list(app._notifications)
        assert not toast.markup
        await pilot.pause(0.3)
        assert "[@click=app.compact]now[/]" in screen_text(app)
        assert not runtime.ops_of(p.Compact)


# --------------------------------------------------------------------------- links

ANSWER = (
    "Install it from [pypi.org](file:///etc/passwd), see [the docs](https://hf.co/docs) "
    "or [open the project](vscode://file/home/me/.bashrc)."
)


def test_only_web_links_in_an_answer_become_terminal_hyperlinks() -> None:
    """A Markdown link is an OSC 8 hyperlink whose text hides its target: a model's
    ``[pypi.org](file:///…)`` or ``vscode://`` link opened something local at a click."""
    from rich.console import Console

    from ml_intern_tui.tui.widgets.blocks.markdown_render import Block, block_segments

    console = Console(width=100)
    segments = block_segments(
        Block(ANSWER),
        first=True,
        console=console,
        options=console.options,
        cache={},
        code_theme="monokai",
    )
    links = {seg.style.link for seg in segments if seg.style is not None and seg.style.link}
    assert links == {"https://hf.co/docs"}
    text = "".join(seg.text for seg in segments)
    assert "pypi.org" in text and "open the project" in text  # the words stay


async def test_a_click_on_a_non_web_link_in_reasoning_opens_nothing() -> None:
    from textual.widgets import Markdown

    from ml_intern_tui.tui.widgets.blocks.reasoning import ReasoningBlock

    runtime = FakeRuntime()
    app = MLInternApp(runtime, clock=fixed_clock)
    opened: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_url = lambda url, **_: opened.append(url)  # type: ignore[method-assign]
        await wait_for(pilot, lambda: app.header.session_id)
        runtime.publish(p.TurnStarted(text="go"), p.ReasoningDelta(text=ANSWER))
        await wait_for(pilot, lambda: bool(app.query(ReasoningBlock)))
        block = app.query_one(ReasoningBlock)
        body = block.query_one(Markdown)
        for href in ("file:///etc/passwd", "vscode://file/x", "https://hf.co/docs"):
            body.post_message(Markdown.LinkClicked(body, href))
        await wait_for(pilot, lambda: bool(opened))
        await pilot.pause(0.1)
        assert opened == ["https://hf.co/docs"]
