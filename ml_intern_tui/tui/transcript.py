"""The app's transcript for ``/export`` (it lives in ``traces/transcript.py``, shared with
the ``export`` subcommand)."""

from ml_intern_tui.traces.transcript import Transcript, export_saved

__all__ = ["Transcript", "export_saved"]
