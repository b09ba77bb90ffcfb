"""What every ``tizbek`` command shares: one-line failures, exit codes, a database engine."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ledger.errors import TizbekError, VerificationError

#: Exit codes: verification found a fault; the input could not be used.
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def fail(message: str, code: int) -> NoReturn:
    """Print ``tizbek: MESSAGE`` on stderr and exit with ``code``."""
    click.echo(f"tizbek: {message}", err=True)
    sys.exit(code)


@contextmanager
def reporting(what: str) -> Iterator[None]:
    """Turn errors into one line and an exit code: 1 for a failed check, 2 for bad input."""
    try:
        yield
    except VerificationError as exc:
        fail(f"FAILED: {exc.message}", EXIT_FAILED)
    except (TizbekError, SQLAlchemyError, OSError) as exc:
        fail(f"{what}: {exc}", EXIT_BAD_INPUT)


@contextmanager
def engine_at(url: str) -> Iterator[Engine]:
    """An engine on ``url``, disposed of afterwards."""
    from ledger.storage.engine import make_engine

    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
