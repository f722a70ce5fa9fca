"""A Textual ``Tree`` that grows at its end in constant time: new lines, no rebuild.

Textual's ``Tree`` forgets its lines and every drawn line whenever a node is added: the
next frame walks every node again (``_build``) and draws every visible line afresh. The
tool tree grows by one call at its end, hundreds of times in a long turn, so that work
grew with the session. ``AppendingTree.append`` adds a node whose line comes last (its
parent expanded and shown, itself the last of its siblings at every level) by appending
that one line to the built lines: the lines before it keep their place and their drawn
strips, and only the line above it (whose guide turns from ``└`` to ``├``) is drawn
again. Anything else (a node in the middle, lines not built yet, the tree wider than
before, when the tree scrolls sideways) goes through Textual's own ``add`` and rebuild, so the result is always the tree
a rebuild makes (``tests/tui/test_appending_tree.py`` checks it after every step).

This leans on ``Tree``'s private line list (``_tree_lines_cached``, ``_TreeLine``,
``TreeNode._line``/``_updates``) as Textual 8.2 has them; the test above fails first if
a Textual upgrade changes them.
"""

from __future__ import annotations

from typing import Generic

from rich.text import TextType
from textual.geometry import Size
from textual.widgets import Tree
from textual.widgets._tree import TreeDataType, _TreeLine
from textual.widgets.tree import TreeNode


class AppendingTree(Tree[TreeDataType], Generic[TreeDataType]):
    """A ``Tree`` with ``append``: a node added at the end costs one new line."""

    def append(
        self,
        parent: TreeNode[TreeDataType],
        label: TextType,
        data: TreeDataType | None = None,
        *,
        expand: bool = False,
        allow_expand: bool = True,
    ) -> TreeNode[TreeDataType]:
        """``parent.add(label, data, …)``, as one appended line when that line comes last."""
        lines = self._tree_lines_cached
        path = self._path_to_end(parent) if lines is not None else None
        if lines is None or path is None:
            return parent.add(label, data, expand=expand, allow_expand=allow_expand)
        node = TreeNode(
            self,
            parent,
            self._new_id(),
            self.process_label(label),
            data,
            expanded=expand,
            allow_expand=allow_expand,
        )
        self._tree_nodes[node._id] = node
        siblings = parent._children
        if siblings:
            # The line above was the last of its siblings: its guide (and the guides of
            # the lines under it) change from an end to a branch.
            previous = siblings[-1]
            previous._updates += 1
            above = previous._line
            lines[above] = _TreeLine(lines[above].path, False)
        elif not parent.is_root:
            parent._updates += 1  # Textual redraws a parent that gains a child: so do we
        siblings.append(node)
        line = _TreeLine([*path, node], True)
        node._line = len(lines)
        lines.append(line)
        width = self.get_label_width(node) + line._get_guide_width(self.guide_depth, self.show_root)
        if width > self.virtual_size.width and self.styles.overflow_x != "hidden":
            # Every drawn line is padded to the tree's width, and a tree that scrolls
            # sideways shows that padding: a wider tree draws its lines again.
            self._invalidate()
            return node
        # (A tree that does not scroll sideways only shows each line's first cells.)
        self.virtual_size = Size(max(width, self.virtual_size.width), len(lines))
        self._lines_changed()
        return node

    def _lines_changed(self) -> None:
        """Ask for what Textual's invalidation asks for, minus the rebuild: redraw, layout."""
        self.refresh(layout=True)

    def _path_to_end(self, parent: TreeNode[TreeDataType]) -> list[TreeNode[TreeDataType]] | None:
        """The path of ``parent``'s line when a new child of it would be the last line.

        That is when ``parent`` and each node above it is expanded and the last of its
        siblings (a node above that is not, has lines of its siblings after it). ``None``
        when it would not be, or when the tree shows its root (not handled here).
        """
        if self.show_root:
            return None
        path: list[TreeNode[TreeDataType]] = []
        node = parent
        while not node.is_root:
            above = node._parent
            if above is None or not node._expanded or above._children[-1] is not node:
                return None
            path.append(node)
            node = above
        path.reverse()
        return path
