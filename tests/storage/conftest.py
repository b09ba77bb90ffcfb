"""Storage fixtures: ``log``, a fresh durable log in the test's database."""

from tests.storage.logs import log

__all__ = ["log"]
