"""Session traces: a session journal as Claude-Code-style JSONL, and its upload to the Hub.

``export`` converts a journal (the source of truth) into the JSONL the Hugging Face Agent
Trace Viewer reads; ``publish`` puts one trace into the user's traces dataset;
``queue`` is the retry queue on disk; ``service`` is the background uploader and what
``/share-traces`` calls. Importing this package loads no network library.
"""
