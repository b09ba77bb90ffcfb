"""Database URL configuration and SQLite durability settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from ledger.storage.engine import DEFAULT_SQLITE_FILE, database_url, make_engine


def test_url_from_environment_or_a_file_here(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert database_url({"TIZBEK_DATABASE_URL": "postgresql://db/x"}) == "postgresql://db/x"
    monkeypatch.chdir(tmp_path)
    assert database_url({}) == f"sqlite:///{tmp_path / DEFAULT_SQLITE_FILE}"


def test_sqlite_is_wal_with_full_sync(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    engine.dispose()
