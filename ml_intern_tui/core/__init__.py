"""The agent engine: protocol, bus, loop, LLM adapter, context, guards, approvals, journal.

Imports no Textual, no tool, no integration and no heavy library at import time.
"""
