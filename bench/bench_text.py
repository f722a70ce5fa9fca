"""The Markdown the streaming benchmarks send (shared by the app and the server process)."""

from __future__ import annotations


def token_text(tokens: int) -> str:
    """Markdown-ish text of about ``tokens`` tokens: paragraphs, a list, code now and then."""
    parts: list[str] = []
    for i in range(tokens):
        if i % 400 == 0 and i:
            parts.append("\n\n```python\nfor step in range(10):\n    loss = train(step)\n```\n\n")
        elif i % 60 == 0 and i:
            parts.append("\n\n- ")
        parts.append(f"tok{i % 97} ")
    return "".join(parts)
