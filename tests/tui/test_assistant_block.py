"""An answer streams into one widget of lines, drawn block by block, paced, nothing lost."""

from __future__ import annotations

from rich.console import Console
from support import BlockMarkdown
from textual.app import App, ComposeResult

from ml_intern_tui.tui.widgets.blocks import markdown_render
from ml_intern_tui.tui.widgets.blocks.assistant import AssistantBlock
from ml_intern_tui.tui.widgets.blocks.markdown_lines import MarkdownLines
from ml_intern_tui.tui.widgets.blocks.markdown_render import split_blocks
from tui.conftest import wait_for


def long_answer() -> str:
    parts = ["# Report\n\nSome opening words about the run.\n\n"]
    for i in range(30):
        parts.append(f"- item {i} " + "word " * 20 + "\n")
    parts.append("\n```python\nfor step in range(3):\n    print(step)\n```\n\n")
    for i in range(1, 12):
        parts.append(f"{i}. numbered {i} " + "text " * 25 + "\n")
    parts.append("\nA closing paragraph. " * 40 + "\n")
    return "".join(parts)


def plain(lines: list) -> list[str]:
    return [line.text.rstrip() for line in lines]


def drawn_whole(text: str, width: int) -> list[str]:
    console = Console(width=width, color_system=None, file=None)
    with console.capture() as capture:
        console.print(BlockMarkdown(split_blocks(text), {}))
    return [line.rstrip() for line in capture.get().split("\n")[:-1]]


class OneBlock(App[None]):
    def compose(self) -> ComposeResult:
        yield AssistantBlock()


async def test_a_streamed_answer_shows_the_same_lines_as_the_whole_text() -> None:
    text = long_answer()
    app = OneBlock()
    async with app.run_test(size=(100, 40)) as pilot:
        block = app.query_one(AssistantBlock)
        assert block.streaming is False and block.finished is False
        # Uneven fragments, as a model sends them, some splitting lines and blocks.
        step = 7
        for start in range(0, len(text), step):
            await block.write(text[start : start + step])
            assert block.streaming
            step = 3 + (step * 5) % 23
        await block.finish(text)
        await pilot.pause()
        assert block.source == text and block.text == text
        assert not block.streaming and block.finished
        # One widget for the whole answer, whatever its length.
        assert isinstance(block, MarkdownLines) and not block.children
        width = block.size.width
        assert block.size.height == block.line_count
        lines = block.lines_for(width)
        assert plain(lines) == drawn_whole(text, width)
        assert all("\n" not in line.text and line.cell_length <= width for line in lines)


async def test_growing_text_draws_only_the_block_that_changed(monkeypatch) -> None:
    drawn: list[str] = []
    original = markdown_render._markdown

    def counting(text: str, code_theme: str):  # type: ignore[no-untyped-def]
        drawn.append(text)
        return original(text, code_theme)

    monkeypatch.setattr(markdown_render, "_markdown", counting)
    app = OneBlock()
    async with app.run_test(size=(80, 30)) as pilot:
        body = app.query_one(MarkdownLines)
        body.set_text("# Title\n\nFirst paragraph.\n\n- one\n- tw")
        await pilot.pause()
        assert drawn == ["# Title", "First paragraph.", "- one", "- tw"]
        drawn.clear()
        body.set_text(body.source + "o, longer\n- three")
        await pilot.pause()
        assert drawn == ["- two, longer", "- three"]
        assert plain(body.lines_for(body.size.width))[-2:] == [" • two, longer", " • three"]


async def test_a_new_width_draws_everything_again() -> None:
    app = OneBlock()
    text = "A paragraph that is long enough to wrap differently " * 4
    async with app.run_test(size=(100, 20)) as pilot:
        block = app.query_one(AssistantBlock)
        await block.finish(text)
        await pilot.pause()
        wide = block.line_count
        await pilot.resize_terminal(50, 20)
        await pilot.pause()
        assert block.line_count > wide
        assert plain(block.lines_for(block.size.width)) == drawn_whole(text, block.size.width)


async def test_fast_fragments_are_gathered_into_paced_updates() -> None:
    app = OneBlock()
    async with app.run_test(size=(100, 20)) as pilot:
        block = app.query_one(AssistantBlock)
        await block.write("first words")
        assert block.source == "first words"  # the first fragment shows at once
        for word in [" and", " more", " words"]:
            await block.write(word)
        assert block.source == "first words", "updates wait for the pace"
        await wait_for(pilot, lambda: block.source == "first words and more words")
        assert block.text == "first words and more words"


async def test_a_different_final_text_replaces_what_streamed() -> None:
    app = OneBlock()
    async with app.run_test(size=(100, 20)) as pilot:
        block = app.query_one(AssistantBlock)
        await block.write("partial answ")
        await block.finish("The **whole** answer.")
        await pilot.pause()
        assert block.source == "The **whole** answer."
        assert plain(block.lines_for(block.size.width)) == ["The whole answer."]


async def test_a_finished_answer_is_drawn_at_once() -> None:
    text = long_answer()

    class Finished(App[None]):
        def compose(self) -> ComposeResult:
            yield AssistantBlock(text)

    app = Finished()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        block = app.query_one(AssistantBlock)
        assert block.source == text
        assert block.size.height == len(drawn_whole(text, block.size.width))
