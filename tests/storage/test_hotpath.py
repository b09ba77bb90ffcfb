"""The append path's driver statements: gathered inserts write what one insert at a time would."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from ledger.storage import migrate
from ledger.storage.engine import WRITE, make_engine
from ledger.storage.hotpath import Driver

_LOT_HEAD = [("kind", "text"), ("subject", "text"), ("head_hash", "bytea")]
_KEYS = [
    ("key_id", "text"),
    ("org", "text"),
    ("public_key", "text"),
    ("label", "text"),
    ("bound_seq", "bigint"),
    ("revoked_seq", "bigint"),
    ("admin", "boolean"),
]
_UPSERT = "ON CONFLICT (kind, subject) DO UPDATE SET head_hash = excluded.head_hash"


def _engine(database_url: str) -> Engine:
    migrate.upgrade(database_url)
    return make_engine(database_url)


def _heads(engine: Engine) -> dict[tuple[str, str], bytes]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, subject, head_hash FROM subject_heads")).all()
    return {(k, s): bytes(h) for k, s, h in rows}


def test_gathered_inserts_store_every_value_as_given(database_url: str) -> None:
    engine = _engine(database_url)
    try:
        with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            driver = Driver(conn)
            with driver.gathered():
                driver.insert(
                    "keys",
                    _KEYS,
                    [
                        ("k1", "org-a", "pk1", "phone «1»", 3, None, False),
                        ("k2", "org-b", "pk2", 'quote " and \\ slash', 4, 9, True),
                    ],
                )
                driver.insert(
                    "subject_heads", _LOT_HEAD, [("lot", "A", b"\x00" * 32), ("lot", "B", b"\xff")]
                )
                driver.insert("subject_heads", _LOT_HEAD, [], _UPSERT)  # nothing: no statement
        with engine.connect() as conn:
            keys = conn.execute(text("SELECT * FROM keys ORDER BY key_id")).all()
        assert [tuple(row) for row in keys] == [
            ("k1", "org-a", "pk1", "phone «1»", 3, None, False),
            ("k2", "org-b", "pk2", 'quote " and \\ slash', 4, 9, True),
        ]
        assert _heads(engine) == {("lot", "A"): b"\x00" * 32, ("lot", "B"): b"\xff"}
    finally:
        engine.dispose()


def test_a_second_insert_into_one_table_lands_after_the_first(database_url: str) -> None:
    """One statement may not touch a row twice, so a table's second insert is sent apart."""
    engine = _engine(database_url)
    try:
        with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            driver = Driver(conn)
            with driver.gathered():
                driver.insert("subject_heads", _LOT_HEAD, [("lot", "A", b"\x01")], _UPSERT)
                driver.insert("subject_heads", _LOT_HEAD, [("lot", "A", b"\x02")], _UPSERT)
        assert _heads(engine) == {("lot", "A"): b"\x02"}
    finally:
        engine.dispose()


def test_a_failing_gathered_statement_writes_nothing(database_url: str) -> None:
    engine = _engine(database_url)
    try:

        def twice() -> None:
            with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
                driver = Driver(conn)
                with driver.gathered():
                    driver.insert("subject_heads", _LOT_HEAD, [("lot", "A", b"\x01")])
                    driver.insert("subject_heads", _LOT_HEAD, [("lot", "A", b"\x02")])

        # No upsert: the second row breaks the key, in the driver's words, whichever the database.
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            twice()
        assert _heads(engine) == {}
    finally:
        engine.dispose()
