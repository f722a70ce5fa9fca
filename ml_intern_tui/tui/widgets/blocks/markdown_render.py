"""Markdown cut into blocks, and drawn block by block with each block's drawing kept.

Streaming appends to the last block of an answer only: everything before it is final.
Drawing the whole stretch with Rich's ``Markdown`` on each update (twice, in fact: once
to measure its height and once to draw it) made an update cost a few milliseconds per
thousand characters, and long list items made those stretches long. ``block_segments``
draws one block at a time and keeps what each block drew, so an update draws only the
block that changed (``MarkdownLines`` is the widget built on it). Blocks are joined the way Rich joins them in one document, so the
result is the same as drawing the whole text at once (a test holds it to that), except
that the blank line Rich puts before a list or quote that opens the text is left out.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from rich.segment import Segment

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from rich.console import Console, ConsoleOptions
    from rich.markdown import Markdown


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("gfm-like")


class Cut(NamedTuple):
    """A place where Markdown may be cut: before a top-level block or a bullet item."""

    offset: int
    inside_list: bool
    """Before an item of a top-level bullet list (not the list's first item)."""
    after_rule: bool
    """The block before is a horizontal rule: Rich puts no blank line after one."""


def cuts(text: str) -> list[Cut]:
    """Where ``text`` may be cut, its start omitted.

    A cut goes before a top-level block (paragraph, list, fence, heading, table...) or
    before an item of a top-level bullet list: a long list must not make one huge block,
    and a bullet list cut between items draws the same as the whole list. Ordered lists
    are cut only around them (a second half would number from its own start).
    """
    offsets = [0]
    for line in text.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    found: list[Cut] = []
    in_bullets = False
    first_item = False
    previous = ""
    for token in _parser().parse(text):
        if token.level == 0 and token.nesting >= 0:
            after_rule = previous == "hr"
            previous = token.type
            in_bullets = token.type == "bullet_list_open"
            first_item = in_bullets
            row = token.map[0] if token.map else None
            inside = False
        elif in_bullets and token.level == 1 and token.type == "list_item_open":
            row = None if first_item or not token.map else token.map[0]
            first_item, inside, after_rule = False, True, False
        else:
            continue
        if row is not None and 0 < row < len(offsets):
            offset = offsets[row]
            if not found or found[-1].offset != offset:
                found.append(Cut(offset, inside, after_rule))
    return found


class Block(NamedTuple):
    text: str
    inside_list: bool = False
    """The next item of the bullet list before: no gap between the two."""
    after_rule: bool = False
    """A horizontal rule comes before: Rich leaves no blank line after one."""


def split_blocks(text: str, first: Block | None = None) -> list[Block]:
    """``text`` as consecutive blocks; joined, their texts are ``text`` again.

    ``first`` gives the flags of the first block (when ``text`` starts where an earlier
    split had a cut).
    """
    blocks: list[Block] = []
    begin = 0
    flags = (first.inside_list, first.after_rule) if first else (False, False)
    for cut in cuts(text):
        blocks.append(Block(text[begin : cut.offset], *flags))
        begin, flags = cut.offset, (cut.inside_list, cut.after_rule)
    blocks.append(Block(text[begin:], *flags))
    return blocks


def extend_blocks(blocks: list[Block], old: str, new: str) -> list[Block]:
    """The blocks of ``new``, given the ``blocks`` of ``old`` (which ``new`` extends).

    Only the last block and what follows is parsed again: the blocks before it are
    complete and appending cannot change them.
    """
    if not blocks or not new.startswith(old):
        return split_blocks(new)
    kept = blocks[:-1]
    start = len(old) - len(blocks[-1].text)
    return kept + split_blocks(new[start:], first=blocks[-1])


@lru_cache(maxsize=1)
def _rich_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt().enable("strikethrough").enable("table")  # as rich.markdown does


def _markdown(text: str, code_theme: str) -> Markdown:
    """Rich's ``Markdown`` of ``text``, parsed by one shared parser.

    ``Markdown()`` builds a new markdown-it parser each time, which cost more than
    drawing a short block; the attributes set here are the ones its ``__init__`` sets.
    """
    from rich.markdown import Markdown

    markdown = Markdown.__new__(Markdown)
    markdown.markup = text
    markdown.parsed = _web_links_only(_rich_parser().parse(text))
    markdown.code_theme = code_theme
    markdown.justify = None
    markdown.style = "none"
    markdown.hyperlinks = True
    markdown.inline_code_lexer = None
    markdown.inline_code_theme = code_theme
    return markdown


LINK_SCHEMES = ("http://", "https://", "mailto:")
"""Links the model may plant in its answer as terminal hyperlinks. A ``file:``, ``ssh:``
or an application's own scheme (``vscode://…``) opens something on the user's machine
at a click; such a link is drawn as its text only."""


def _web_links_only(tokens: list[Any]) -> list[Any]:
    """``tokens`` with every link that is not a web link unlinked (its text stays)."""
    for token in tokens:
        if token.type == "link_open":
            href = str(token.attrs.get("href", "")).strip().lower()
            if not href.startswith(LINK_SCHEMES):
                token.attrs["href"] = ""
        if token.children:
            _web_links_only(token.children)
    return tokens


Drawings = dict[tuple[object, ...], list[Segment]]
"""What blocks drew: ``(body, code theme, *shape)`` -> segments."""


def shape_of(options: ConsoleOptions) -> tuple[object, ...]:
    return (options.max_width, options.justify, options.overflow, options.no_wrap)


def forget_other_shapes(cache: Drawings, shape: tuple[object, ...]) -> None:
    """Keep drawings for two shapes at most (Textual measures with and without a scrollbar)."""
    shapes = {key[2:] for key in cache}
    if len(shapes) > 2 or (len(shapes) == 2 and shape not in shapes):
        for key in [key for key in cache if key[2:] != shape]:
            del cache[key]


def block_segments(
    block: Block,
    *,
    first: bool,
    console: Console,
    options: ConsoleOptions,
    cache: Drawings,
    code_theme: str,
) -> list[Segment]:
    """What ``block`` draws, with the blank line that separates it from the one before.

    ``first``: nothing is drawn before it. A blank block draws nothing.
    """
    body = block.text.strip("\n")
    if not body.strip():
        return []
    key = (body, code_theme, *shape_of(options))
    segments = cache.get(key)
    if segments is None:
        segments = list(console.render(_markdown(body, code_theme), options))
        cache[key] = segments
    # Rich starts a list or a quote with a blank line of its own: in a document that line
    # is the gap before it, but a list's next item has none, and the first block needs
    # none. Other blocks get a blank line unless a rule came before.
    lead = bool(segments) and segments[0].text == "\n"
    if first or block.inside_list:
        return segments[1:] if lead else segments
    if not lead and not block.after_rule:
        return [Segment.line(), *segments]
    return segments


def prune(cache: Drawings, blocks: list[Block]) -> None:
    """Forget drawings of blocks that are no longer there (the last block grew)."""
    live = {block.text.strip("\n") for block in blocks}
    for key in [key for key in cache if key[0] not in live]:
        del cache[key]


def warm_up() -> None:
    """Build both parsers; call off the UI thread before the first answer."""
    split_blocks("# warm\n\n- up\n")
    _markdown("warm", "monokai")
