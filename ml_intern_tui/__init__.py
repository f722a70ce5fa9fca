"""ml-intern-tui: a keyboard-driven terminal app for an autonomous ML-engineering agent."""

__version__ = "0.1.0"
