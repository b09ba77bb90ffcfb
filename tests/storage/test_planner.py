"""The sequencer keeps PostgreSQL's planner statistics in step with the log."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger.keys import SigningKey
from ledger.storage.planner import SMALLEST, PlannerStatistics
from ledger.storage.sequencer import GroupCommitter
from ledger.storage.sqllog import SqlLog


def _counted(log: SqlLog) -> float:
    with log.engine.connect() as conn:
        found = conn.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = 'log_entries'")
        ).scalar_one()
    return float(found)


def test_statistics_are_taken_each_time_the_log_doubles(log: tuple[SqlLog, SigningKey]) -> None:
    sql, _ = log
    if sql.engine.dialect.name != "postgresql":
        with GroupCommitter(sql) as committer:
            assert committer.planner is None  # SQLite plans by its indexes without them
        return
    assert _counted(sql) < 0  # a new log's tables were never analysed
    planner = PlannerStatistics(sql.engine)
    planner.appended(SMALLEST - 1)
    planner.wait()
    assert (planner.taken, planner.due) == (0, SMALLEST)
    planner.appended(SMALLEST)
    planner.wait()
    assert (planner.taken, planner.due) == (1, 2 * SMALLEST)
    assert _counted(sql) >= 0  # analysed (the log itself holds a handful of entries)
    planner.appended(2 * SMALLEST - 1)
    planner.wait()
    assert planner.taken == 1
    planner.appended(2 * SMALLEST + 5)
    planner.wait()
    assert (planner.taken, planner.due) == (2, 4 * SMALLEST + 10)


@pytest.mark.parametrize("counted", [0, 5_000])
def test_a_restarted_sequencer_trusts_statistics_already_taken(
    log: tuple[SqlLog, SigningKey], counted: int
) -> None:
    sql, _ = log
    if sql.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    with sql.engine.begin() as conn:
        conn.execute(
            text(f"UPDATE pg_class SET reltuples = {counted} WHERE relname = 'log_entries'")
        )
    planner = PlannerStatistics(sql.engine)
    planner.appended(3_000)
    planner.wait()
    # Counted 5,000 already: nothing to do before 10,000. Never counted: now.
    assert (planner.taken, planner.due) == ((0, 10_000) if counted else (1, 6_000))
