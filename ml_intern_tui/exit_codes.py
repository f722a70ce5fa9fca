"""The process exit codes of ``ml-intern-tui`` (the CLI and headless runs share them)."""

EXIT_OK = 0
EXIT_AGENT_ERROR = 1
"""The agent stopped on an error (a model or tool failure it could not get past)."""
EXIT_USAGE = 2
"""Bad flags, config or input: nothing ran."""
EXIT_NEEDS_HUMAN = 3
"""A headless run reached something only a person may approve."""
EXIT_INTERRUPTED = 130
"""Ctrl+C (128 + SIGINT, as shells report it)."""
