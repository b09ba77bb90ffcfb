"""Migrations: upgrade on an empty database, no drift from the models, down and up again;
and a migration that rebuilds a table on a log that holds entries."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from ledger.keys import SigningKey
from ledger.storage import migrate
from ledger.storage.audit import audit_database
from ledger.storage.create import create_log
from ledger.storage.engine import make_engine
from ledger.storage.sqllog import SqlLog
from ledger.storage.tables import metadata
from tests.storage.logs import ORIGIN, registered


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


def test_dropping_the_leaf_hash_index_keeps_a_live_log_whole(
    database_url: str, tmp_path: Path
) -> None:
    """0009 down and up on a log with entries (on SQLite each way rebuilds the table): every
    entry stays as it was, the log still verifies and appends, and stays append-only."""
    create_log(
        database_url, keys=tmp_path / "k", origin=ORIGIN, authority_id="kz-auth", authority_name="A"
    )
    engine = make_engine(database_url)
    log = SqlLog.open(engine, tmp_path / "k" / "log.key")
    authority = SigningKey.load(tmp_path / "k" / "authority.key")
    log.append(registered(authority, "org-a"))
    log.close()

    def stored() -> list[tuple[object, ...]]:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM log_entries ORDER BY seq")).all()
        return [tuple(row) for row in rows]

    def leaf_hash_unique() -> bool:
        found = inspect(engine).get_unique_constraints("log_entries")
        return any("leaf_hash" in u["column_names"] for u in found)

    before = stored()
    engine.dispose()
    migrate.downgrade(database_url, "0008")
    engine = make_engine(database_url)
    assert stored() == before
    assert leaf_hash_unique()
    engine.dispose()
    migrate.upgrade(database_url)
    migrate.check(database_url)
    engine = make_engine(database_url)
    assert stored() == before
    assert not leaf_hash_unique()
    log = SqlLog.open(engine, tmp_path / "k" / "log.key")
    log.append(registered(authority, "org-b"))
    log.close()
    assert audit_database(engine).entries == len(before) + 1
    for statement in ("UPDATE log_entries SET nonce = 'x'", "DELETE FROM log_entries"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    engine.dispose()


def test_tree_nodes_without_rowid_keeps_a_live_log_whole(database_url: str, tmp_path: Path) -> None:
    """0010 down and up on a log with entries: on SQLite the Merkle nodes move into their key's
    B-tree and back, each node kept as it was; the log still verifies, proves, appends, and its
    nodes stay append-only."""
    create_log(
        database_url, keys=tmp_path / "k", origin=ORIGIN, authority_id="kz-auth", authority_name="A"
    )
    engine = make_engine(database_url)
    log = SqlLog.open(engine, tmp_path / "k" / "log.key")
    authority = SigningKey.load(tmp_path / "k" / "authority.key")
    for org in ("org-a", "org-b", "org-c"):
        log.append(registered(authority, org))
    log.close()
    sqlite = engine.dialect.name == "sqlite"

    def nodes() -> list[tuple[object, ...]]:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT level, idx, hash FROM tree_nodes ORDER BY 1, 2"))
            return [tuple(row) for row in rows]

    def without_rowid() -> bool:
        with engine.connect() as conn:
            sql = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'tree_nodes'")
            ).scalar_one()
        return "WITHOUT ROWID" in str(sql).upper()

    before, entries = nodes(), audit_database(engine).entries
    assert len(before) > 4
    if sqlite:
        assert without_rowid()
    engine.dispose()
    migrate.downgrade(database_url, "0009")
    engine = make_engine(database_url)
    assert nodes() == before
    if sqlite:
        assert not without_rowid()
    engine.dispose()
    migrate.upgrade(database_url)
    migrate.check(database_url)
    engine = make_engine(database_url)
    assert nodes() == before
    if sqlite:
        assert without_rowid()
    log = SqlLog.open(engine, tmp_path / "k" / "log.key")
    log.append(registered(authority, "org-d"))
    log.close()
    assert audit_database(engine).entries == entries + 1
    for statement in ("UPDATE tree_nodes SET hash = hash", "DELETE FROM tree_nodes"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    engine.dispose()


#: The partial indexes of migration 0011, and a query of the inspectors' that each serves.
_PARTIAL = {
    "ix_lots_discrepancy_status": "SELECT lot FROM lots WHERE discrepancy_status = 'open'",
    "ix_flows_licence": "SELECT seq FROM flows WHERE licence = ''",
}


@pytest.mark.parametrize("name", sorted(_PARTIAL))
def test_rare_rows_have_partial_indexes_the_planner_uses(database_url: str, name: str) -> None:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                sql = conn.execute(
                    text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name}
                ).scalar_one()
                plan = " ".join(
                    str(row[-1])
                    for row in conn.execute(text(f"EXPLAIN QUERY PLAN {_PARTIAL[name]}"))
                )
            else:
                sql = conn.execute(
                    text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": name}
                ).scalar_one()
                conn.execute(text("SET LOCAL enable_seqscan = off"))
                plan = " ".join(
                    str(row[0]) for row in conn.execute(text(f"EXPLAIN {_PARTIAL[name]}"))
                )
        assert " WHERE " in sql.upper()
        assert name in plan
    finally:
        engine.dispose()
    migrate.downgrade(database_url, "0010")
    engine = make_engine(database_url)
    try:
        indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes(name.split("_")[1])}
        assert name in indexes  # the full index is back
    finally:
        engine.dispose()
