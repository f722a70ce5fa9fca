"""Long answers stream into Markdown pieces: cut between blocks, paced, nothing lost."""

from __future__ import annotations

from textual.app import App, ComposeResult

from ml_intern_tui.tui.widgets.blocks import assistant
from ml_intern_tui.tui.widgets.blocks.assistant import (
    AssistantBlock,
    MarkdownPiece,
    block_starts,
    split_pieces,
)
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


def test_cuts_fall_before_blocks_and_bullet_items_only() -> None:
    text = long_answer()
    starts = block_starts(text)
    offsets = [offset for offset, _ in starts]
    assert offsets == sorted(set(offsets)) and 0 not in offsets
    for offset, inside_list in starts:
        following = text[offset:]
        if inside_list:
            assert following.startswith("- item "), following[:20]
        else:
            assert text[offset - 1] == "\n"
    # The ordered list is one block: no cut before "2. numbered" and the like.
    assert not any(text[o:].startswith(("2. numbered", "5. numbered")) for o in offsets)
    # The first item of the bullet list is the list's own start, not an item cut.
    first_item = text.index("- item 0")
    assert (first_item, False) in starts


def test_pieces_join_to_the_text_and_respect_the_size() -> None:
    text = long_answer()
    pieces = split_pieces(text, size=400)
    assert "".join(piece for piece, _ in pieces) == text
    assert len(pieces) >= 5
    assert all(len(piece) >= 400 for piece, _ in pieces[:-1])
    assert any(continues for _, continues in pieces), "the long bullet list is cut inside"
    assert not pieces[0][1]
    for piece, continues in pieces:
        if continues:
            assert piece.startswith("- item ")


class OneBlock(App[None]):
    def compose(self) -> ComposeResult:
        yield AssistantBlock()


async def test_streamed_answer_ends_up_as_the_same_pieces_it_would_be_drawn_in() -> None:
    text = long_answer()
    app = OneBlock()
    async with app.run_test(size=(100, 40)) as pilot:
        block = app.query_one(AssistantBlock)
        # Uneven fragments, as a model sends them, some splitting lines and blocks.
        step = 7
        for start in range(0, len(text), step):
            await block.write(text[start : start + step])
            step = 3 + (step * 5) % 23
        await block.finish(text)
        await pilot.pause()
        pieces = block.query(MarkdownPiece)
        assert block.source == text
        assert len(pieces) > 1
        assert all(piece.finished for piece in pieces)
        assert not block.streaming
        # Every piece but the last holds at least PIECE_CHARS, and none is re-made at the
        # end: the final text matched what streamed, so the pieces are the streamed ones.
        assert all(len(piece.source) >= assistant.PIECE_CHARS for piece in list(pieces)[:-1])


async def test_fast_fragments_are_gathered_into_paced_updates() -> None:
    app = OneBlock()
    async with app.run_test(size=(100, 20)) as pilot:
        block = app.query_one(AssistantBlock)
        await block.write("first words")
        piece = block.query_one(MarkdownPiece)
        assert piece.source == "first words"  # the first fragment shows at once
        for word in [" and", " more", " words"]:
            await block.write(word)
        assert piece.source == "first words", "updates wait for the pace"
        await wait_for(pilot, lambda: piece.source == "first words and more words")
        assert block.text == "first words and more words"


async def test_a_different_final_text_replaces_the_pieces() -> None:
    app = OneBlock()
    async with app.run_test(size=(100, 20)) as pilot:
        block = app.query_one(AssistantBlock)
        await block.write("partial answ")
        await block.finish("The **whole** answer.")
        await pilot.pause()
        assert block.source == "The **whole** answer."
        assert [p.source for p in block.query(MarkdownPiece)] == ["The **whole** answer."]


async def test_a_finished_answer_is_built_in_pieces_at_once() -> None:
    text = long_answer()

    class Finished(App[None]):
        def compose(self) -> ComposeResult:
            yield AssistantBlock(text)

    app = Finished()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        block = app.query_one(AssistantBlock)
        assert block.source == text
        assert len(block.query(MarkdownPiece)) == len(split_pieces(text))
