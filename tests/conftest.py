"""Shared fixtures: a demo custody log built fresh for each test."""

from __future__ import annotations

import pytest

from ledger.demo import DemoLog, build_demo_log


@pytest.fixture
def demo() -> DemoLog:
    """A fresh demo log: genesis, three bound keys, a lot, its transfer and receipt."""
    return build_demo_log()
