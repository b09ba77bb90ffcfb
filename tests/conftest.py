"""Shared fixtures: a demo custody log, and a fresh empty database per test.

The database is a SQLite file always, and PostgreSQL too when
``TIZBEK_TEST_PG_URL`` names a server (for example
``postgresql://postgres@127.0.0.1:5432/postgres``); each test gets a database
of its own, dropped afterwards. Without it the PostgreSQL cases are skipped,
except under ``CI=true``, where an unset or unreachable server fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledger.demo import DemoLog, build_demo_log

PG_ENV = "TIZBEK_TEST_PG_URL"


def _pg_admin_url() -> str | None:
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PG_ENV} is not set under CI=true")
        return None
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new empty database of the parametrised kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tizbek.db'}"
        return
    admin_url = _pg_admin_url()
    if admin_url is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}")
    name = f"tizbek_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot reach PostgreSQL at {PG_ENV}: {exc}")
        pytest.skip(f"cannot reach PostgreSQL: {exc}")
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def demo() -> DemoLog:
    """A fresh demo log: genesis, three bound keys, a lot, its transfer and receipt."""
    return build_demo_log()
