"""Markdown drawn block by block looks exactly like Rich drawing the whole text."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.markdown import Markdown
from support import BlockMarkdown

from ml_intern_tui.tui.widgets.blocks.markdown_render import (
    extend_blocks,
    split_blocks,
)

DOCUMENTS = {
    "paragraphs": "First paragraph with **bold** and `code`.\n\nSecond one,\nwrapped.\n",
    "bullets": "Intro:\n\n- one\n- two with a long tail " + "word " * 30 + "\n- three\n\nAfter.\n",
    "loose bullets": "- a\n\n- b\n\n  more of b\n\n- c\n",
    "nested": "- top\n  - inner\n  - inner two\n- next top\n",
    "ordered": "1. first\n2. second\n3. third\n\nDone.\n",
    "fence": "Code:\n\n```python\nfor i in range(3):\n    print(i)\n```\n\nEnd.\n",
    "headings": "# Title\n\n## Section\n\ntext\n\n### Sub\n\nmore text\n",
    "rule": "above\n\n---\n\nbelow\n\n***\n\n- after a rule\n",
    "quote": "> quoted **text**\n> more\n\nplain\n",
    "table": "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n\nafter the table\n",
    "indented code": "para\n\n    indented code\n    block\n\nend\n",
}


def draw(renderable: object, width: int) -> str:
    console = Console(width=width, record=True, color_system="truecolor", file=None)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
@pytest.mark.parametrize("width", [40, 67, 100])
def test_block_by_block_matches_the_whole_document(name: str, width: int) -> None:
    text = DOCUMENTS[name]
    whole = draw(Markdown(text.strip("\n")), width)
    # Rich opens a document that starts with a list or quote with a blank line: not us.
    whole = whole.removeprefix("\n")
    cache: dict[tuple[object, ...], list] = {}
    blocks = split_blocks(text)
    assert "".join(block.text for block in blocks) == text
    assert draw(BlockMarkdown(blocks, cache), width) == whole
    # Drawn again from the cache: still the same.
    assert cache and draw(BlockMarkdown(blocks, cache), width) == whole


def test_streamed_growth_reparses_only_the_tail_and_matches_a_full_split() -> None:
    text = "".join(DOCUMENTS[name] + "\n" for name in sorted(DOCUMENTS))
    blocks = split_blocks("")
    shown = ""
    for end in [*range(0, len(text), 7), len(text)]:
        blocks = extend_blocks(blocks, shown, text[:end])
        shown = text[:end]
        assert blocks == split_blocks(shown), shown[-40:]
    assert "".join(block.text for block in blocks) == text
    assert draw(BlockMarkdown(blocks, {}), 67) == draw(Markdown(text.strip("\n")), 67)


def test_a_piece_that_continues_a_list_starts_without_a_blank_line() -> None:
    items = split_blocks("- one\n- two\n- three\n")
    assert [block.inside_list for block in items] == [False, True, True]
    first_half = draw(BlockMarkdown(items[:2], {}), 40)
    second_half = draw(BlockMarkdown(split_blocks(items[2].text, first=items[2]), {}), 40)
    assert first_half + second_half == draw(Markdown("- one\n- two\n- three"), 40)[1:]


def test_only_the_changed_block_is_drawn_again() -> None:
    cache: dict[tuple[object, ...], list] = {}
    text = DOCUMENTS["bullets"]
    blocks = split_blocks(text)
    draw(BlockMarkdown(blocks, cache), 60)
    before = dict(cache)
    grown = text + "More after."
    draw(BlockMarkdown(extend_blocks(blocks, text, grown), cache), 60)
    new_keys = [key for key in cache if key not in before]
    assert [key[0] for key in new_keys] == ["After.\nMore after."]
    # A new width draws everything again; two widths are kept (Textual measures with
    # and without a scrollbar), a third makes it forget the others.
    grown_blocks = extend_blocks(blocks, text, grown)
    draw(BlockMarkdown(grown_blocks, cache), 50)
    assert {key[2] for key in cache} == {60, 50}
    draw(BlockMarkdown(grown_blocks, cache), 40)
    assert {key[2] for key in cache} == {40}
