"""Migrations: upgrade on an empty database, no drift from the models, down and up again."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from ledger.storage import migrate
from ledger.storage.engine import make_engine
from ledger.storage.tables import metadata


def test_upgrade_check_downgrade_upgrade(database_url: str) -> None:
    migrate.upgrade(database_url)
    migrate.check(database_url)  # raises on any drift between models and migrations
    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    engine.dispose()
    migrate.downgrade(database_url, "base")
    engine = make_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(database_url)
    migrate.check(database_url)


@pytest.mark.parametrize("table", ["log_entries", "tree_nodes", "checkpoints"])
def test_log_tables_refuse_update_and_delete(database_url: str, table: str) -> None:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    rows = {
        "log_entries": "INSERT INTO log_entries (seq, leaf_hash, data, signer_key, nonce, "
        "logged_at) VALUES (0, :h, :h, 'k', 'n', 't')",
        "tree_nodes": "INSERT INTO tree_nodes (level, idx, hash) VALUES (0, 0, :h)",
        "checkpoints": "INSERT INTO checkpoints (size, root, note, signed_at) "
        "VALUES (1, :h, 'note', 't')",
    }
    with engine.begin() as conn:
        conn.execute(text(rows[table]), {"h": bytes(32)})
    column = {"log_entries": "data", "tree_nodes": "hash", "checkpoints": "note"}[table]
    for statement in (f"UPDATE {table} SET {column} = :h", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement), {"h": b"x" * 32})
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1
    engine.dispose()
