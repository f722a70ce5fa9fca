"""Jobs: local background processes and Hugging Face Jobs, followed and logged."""

from ml_intern_tui.jobs.registry import FINAL_STATUSES, JobError, JobRecord, JobRegistry

__all__ = ["FINAL_STATUSES", "JobError", "JobRecord", "JobRegistry"]
