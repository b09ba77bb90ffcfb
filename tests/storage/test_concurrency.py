"""Several processes appending at once leave one gap-free chain that verifies."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from ledger.storage.audit import audit_database
from tests.storage.workers import log_with_workers, start_appender

PROCESSES = 8
APPENDS = 200


def test_eight_processes_append_two_hundred_each(tmp_path: Path, database_url: str) -> None:
    orgs = [f"org{n}" for n in range(PROCESSES)]
    engine, _ = log_with_workers(tmp_path, database_url, orgs)
    base = 1 + 3 * PROCESSES  # genesis, then each org registered, its key bound, labels issued
    children = [
        start_appender(tmp_path, database_url, org, APPENDS, tmp_path / f"ack-{org}", 0)
        for org in orgs
    ]
    assert [c.wait(timeout=600) for c in children] == [0] * PROCESSES
    with engine.connect() as conn:
        seqs = [row[0] for row in conn.execute(text("SELECT seq FROM log_entries ORDER BY seq"))]
    assert seqs == list(range(base + PROCESSES * APPENDS))
    report = audit_database(engine)  # one linear chain: every prev link, node and checkpoint
    assert report.entries == base + PROCESSES * APPENDS
    acknowledged = [
        line for org in orgs for line in (tmp_path / f"ack-{org}").read_text().splitlines()
    ]
    assert len(acknowledged) == PROCESSES * APPENDS
    engine.dispose()
