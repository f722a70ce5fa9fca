"""Services that run beside the agent loop: they take ops and answer with events."""
