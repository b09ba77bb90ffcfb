"""An appending process killed with SIGKILL at random moments loses no acknowledged entry."""

from __future__ import annotations

import random
import time
from multiprocessing.process import BaseProcess
from pathlib import Path

from sqlalchemy import Engine, text

from ledger.storage.audit import audit_database
from tests.storage.workers import fork_appender, log_with_workers

KILLS = 20


def _wait_for_appends(ack: Path, before: int, child: BaseProcess, limit: float = 120) -> None:
    """Wait until ``ack`` holds more than ``before`` acknowledged entries."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if ack.exists() and len(ack.read_text().splitlines()) > before:
            return
        assert child.is_alive(), "the appending child exited before appending"
        time.sleep(0.02)
    raise AssertionError(f"the appending child acknowledged nothing in {limit} s")


def _server_settled(engine: Engine, limit: float = 30) -> None:
    """On PostgreSQL, wait until no other session works in the log's database.

    A killed client's server process may still be committing: the inserts and
    their COMMIT go out in one round trip, and the server finishes what it was
    sent. What it commits was never acknowledged, but an audit begun before it
    ends would count one entry fewer than a read just after.
    """
    if engine.dialect.name != "postgresql":
        return
    busy = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
    )
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(busy).scalar_one() == 0:
                return
        time.sleep(0.02)
    raise AssertionError(f"the killed appender's session still works after {limit} s")


def test_sigkill_during_appends(tmp_path: Path, database_url: str) -> None:
    engine, _ = log_with_workers(tmp_path, database_url, ["org"])
    ack = tmp_path / "ack"
    rng = random.Random(20261122)
    acknowledged: list[list[str]] = []
    stored: dict[int, str] = {}
    uncovered: list[int] = []
    for run in range(KILLS):
        # Each run takes labels of its own: far fewer than 5,000 fit in its time. Every
        # other run signs checkpoints only every 50 ms, so that kills also land while
        # acknowledged entries await one; the next run's first checkpoint covers them.
        interval = 0.05 if run % 2 else 0.0
        child = fork_appender(tmp_path, database_url, "org", 5_000, ack, run * 5_000, interval)
        # Kill at a random moment once the child is appending: start-up time varies with
        # the machine's load, and a kill before the first append would prove nothing.
        _wait_for_appends(ack, len(acknowledged), child)
        time.sleep(rng.uniform(0.0, 0.5))
        child.kill()  # SIGKILL: no cleanup, no flush, no rollback in the child
        child.join()
        _server_settled(engine)
        # The log verifies after every kill: from where the last audit ended (what came
        # before is replayed, its signatures taken as checked), and in full at the end.
        report = audit_database(engine, from_seq=len(stored))
        acknowledged = [line.split() for line in ack.read_text().splitlines() if line.strip()]
        with engine.connect() as conn:
            stored = {
                seq: bytes(h).hex()
                for seq, h in conn.execute(text("SELECT seq, leaf_hash FROM log_entries"))
            }
        for seq, leaf in acknowledged:
            assert stored.get(int(seq)) == leaf, (
                f"acknowledged entry {seq} is gone after kill {run}"
            )
        assert report.entries == len(stored)
        uncovered.append(report.uncovered)
    assert len(acknowledged) > KILLS  # the kills did land among appends
    assert any(uncovered)  # some kills left entries awaiting a checkpoint
    assert audit_database(engine).entries == len(stored)
    engine.dispose()
