"""The ops of the sessions browser (part of ``protocol.Op``; here so ops.py stays small).

The browser (``tui/screens/sessions.py``) lists, forks, deletes and exports saved
sessions by sending these; the sessions service (``services/session_browser.py``) does
the work off the loop and answers with a ``session_list`` or a ``session_action`` event.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListSessions(_Op):
    """Ask for the saved sessions worth listing, newest first (a ``session_list`` answer)."""

    type: Literal["list_sessions"] = "list_sessions"


class ForkSession(_Op):
    """Copy a saved session into a new one (a ``session_action`` answer with its id)."""

    type: Literal["fork_session"] = "fork_session"
    session_id: str


class DeleteSession(_Op):
    """Delete a saved session's journal and files (never the open session)."""

    type: Literal["delete_session"] = "delete_session"
    session_id: str


class ExportSession(_Op):
    """Write a saved session's transcript as Markdown: into its own working directory,
    else the open session's, else the process's (a ``session_action`` answer with the path)."""

    type: Literal["export_session"] = "export_session"
    session_id: str


SessionOp = ListSessions | ForkSession | DeleteSession | ExportSession
