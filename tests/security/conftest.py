"""Fixtures of the security tests: the integration harness (real loop, fake model)."""

from __future__ import annotations

from integration.conftest import fake_openai, harness_factory, workspace

__all__ = ["fake_openai", "harness_factory", "workspace"]
