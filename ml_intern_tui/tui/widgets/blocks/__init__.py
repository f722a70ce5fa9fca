"""The blocks the chat pane stacks: one widget per module."""
