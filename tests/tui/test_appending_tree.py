"""A tree grown by ``AppendingTree.append`` draws exactly what Textual's rebuilt tree draws.

Each step applies the same change to an appending tree and to a plain ``Tree`` (Textual's
own add and rebuild), then compares every line: which node it shows, its guides, its
text and styles — the appending tree's lines drawn from its kept strips, the plain
tree's drawn afresh. Appends at the end must not rebuild the tree.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from rich.style import Style
from textual.app import App, ComposeResult
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ml_intern_tui.tui.widgets.appending_tree import AppendingTree


class CountingTree(AppendingTree[int]):
    """Counts its full rebuilds (the walk over every node an append avoids)."""

    builds = 0

    def _build(self) -> None:
        self.builds += 1
        super()._build()


class Pair(App[None]):
    def __init__(self, *, hidden: bool = False) -> None:
        super().__init__()
        self.hidden = hidden

    CSS = "Tree { width: 50; height: 12; } .sideways-hidden { overflow-x: hidden; }"

    def compose(self) -> ComposeResult:
        self.grown = CountingTree("root")
        self.plain: Tree[int] = Tree("root")
        for tree in (self.grown, self.plain):
            tree.set_class(self.hidden, "sideways-hidden")  # as the tool tree: no sideways scroll
            tree.show_root = False
            tree.guide_depth = 2
            tree.can_focus = False  # the focused tree would draw its cursor
            yield tree


def drawn(tree: Tree[int]) -> list[tuple[tuple[int, ...], bool, list[tuple[str, Style | None]]]]:
    """Every line of the tree as drawn: its node path, whether last, its segments."""
    style = tree.rich_style
    lines = tree._tree_lines
    out = []
    for y, line in enumerate(lines):
        strip = tree._render_line(y, 0, tree.size.width, style)
        segments = [(segment.text, segment.style) for segment in strip]
        out.append((tuple(int(node.id) for node in line.path), line.last, segments))
    return out


def same_nodes(app: Pair) -> list[tuple[TreeNode[int], TreeNode[int]]]:
    pairs = []
    for node_id, node in app.grown._tree_nodes.items():
        pairs.append((node, app.plain.get_node_by_id(node_id)))
    return pairs


def step(app: Pair, rng: random.Random) -> None:
    """One random change, the same on both trees."""
    pairs = [(a, b) for a, b in same_nodes(app) if not a.is_root]
    grown_root, plain_root = app.grown.root, app.plain.root
    roll = rng.random()
    if roll < 0.1 or not grown_root.children:  # a new turn: the last one folds
        if grown_root.children:
            grown_root.children[-1].collapse()
            plain_root.children[-1].collapse()
        label = f"Turn {len(grown_root.children) + 1}"
        grown = app.grown.append(grown_root, label, 0, expand=True)
        plain = plain_root.add(label, 0, expand=True)
    elif roll < 0.75:  # a call: mostly at the end, sometimes under an earlier node
        if rng.random() < 0.8:
            grown_parent = grown_root.children[-1]
            while grown_parent.children and rng.random() < 0.3:
                grown_parent = grown_parent.children[-1]
        else:
            grown_parent = rng.choice(pairs)[0]
        plain_parent = app.plain.get_node_by_id(grown_parent.id)
        label = "✓ read " + "x" * rng.randrange(0, 60)
        leaf = rng.random() < 0.3
        grown = app.grown.append(grown_parent, label, 1, expand=not leaf, allow_expand=not leaf)
        plain = plain_parent.add(label, 1, expand=not leaf, allow_expand=not leaf)
    elif roll < 0.9:  # a label changes (a result, the clock)
        grown, plain = rng.choice(pairs)
        label = "✗ bash " + "y" * rng.randrange(0, 70)
        grown.set_label(label)
        plain.set_label(label)
    else:  # the user folds or opens a node
        grown, plain = rng.choice(pairs)
        grown.toggle()
        plain.toggle()
    assert grown.id == plain.id


@pytest.mark.parametrize("hidden", [False, True], ids=["scrolls-sideways", "no-sideways"])
async def test_an_appended_tree_draws_what_a_rebuilt_tree_draws(hidden: bool) -> None:
    app = Pair(hidden=hidden)
    async with app.run_test(size=(120, 30)) as pilot:
        for seed in range(2):
            rng = random.Random(seed)
            app.grown.clear()
            app.plain.clear()
            for number in range(90):
                step(app, rng)
                if rng.random() < 0.7:  # a frame between changes: the lines are built
                    await pilot.pause()
                    assert drawn(app.grown) == drawn(app.plain), (seed, number)
            await pilot.pause()
            assert drawn(app.grown) == drawn(app.plain), seed
            assert app.grown.virtual_size.height == app.plain.virtual_size.height
            for y, line in enumerate(app.grown._tree_lines):  # where a node says it is
                assert line.node.line == y == app.plain.get_node_by_id(line.node.id).line


@pytest.mark.parametrize("hidden", [False, True], ids=["scrolls-sideways", "no-sideways"])
async def test_calls_added_at_the_end_do_not_rebuild_the_tree(hidden: bool) -> None:
    app = Pair(hidden=hidden)
    async with app.run_test(size=(120, 30)) as pilot:
        turn: Any = app.grown.append(app.grown.root, "Turn 1", 0, expand=True)
        app.grown.append(turn, "✓ read " + "x" * 60, 1, allow_expand=False)  # widest line
        await pilot.pause()
        before = app.grown.builds
        for number in range(50):
            # Where the tree does not scroll sideways, even a wider line is only appended.
            label = f"✓ read {number} " + ("z" * number if hidden else "")
            call = app.grown.append(turn, label, 1, expand=True, allow_expand=False)
            if number % 7 == 0:  # a failed call's reason, as a leaf under it
                call.allow_expand = True
                app.grown.append(call, "exit 1", 1, allow_expand=False)
            await pilot.pause()
            assert app.grown._tree_lines[-1].node in (call, *call.children)
        assert app.grown.builds == before
        assert app.grown.virtual_size.height == 52 + len(range(0, 50, 7))
