"""Rebuilding the projections from the log: drop them, replay every entry, write them again."""

from __future__ import annotations

from sqlalchemy import Engine, delete, select

from ledger.chain import ChainVerifier
from ledger.entries import Entry
from ledger.storage.engine import WRITE
from ledger.storage.hotpath import Driver
from ledger.storage.projections import write_flows
from ledger.storage.sqllog import SEQUENCER_LOCK
from ledger.storage.state import ReplayState, write_projections
from ledger.storage.tables import ENTRIES, metadata

#: Rows fetched per round trip while replaying.
BATCH = 1000
#: Tables that only replaying the log fills; rebuild empties every one of them.
PROJECTIONS = (
    "keys",
    "subject_heads",
    "subject_docs",
    "subject_parties",
    "organisations",
    "licences",
    "lots",
    "transfers",
    "flows",
    "flow_totals",
)


def rebuild_projections(engine: Engine) -> int:
    """Replay the whole log (every rule checked) and rewrite the projections; return entries."""
    with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SEQUENCER_LOCK})")
        for name in PROJECTIONS:
            conn.execute(delete(metadata.tables[name]))
        driver = Driver(conn)
        state = ReplayState(lambda rows: write_flows(driver, rows))
        chain = ChainVerifier(complete=True, state=state)
        # A second connection reads the entries: the first writes flows while they stream.
        with conn.engine.connect() as reader:
            rows = reader.execute(
                select(ENTRIES.c.data).order_by(ENTRIES.c.seq),
                execution_options={"yield_per": BATCH},
            )
            for data in rows.scalars():
                chain.add(Entry.parse(bytes(data)))
        state.close()
        write_projections(conn, state.bindings(), state.heads(), state.docs())
    return chain.count
