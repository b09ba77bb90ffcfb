"""The sequencer keeps PostgreSQL's planner statistics in step with the log."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger.keys import SigningKey
from ledger.storage.planner import SMALLEST, STATISTICS_TARGET, PlannerStatistics
from ledger.storage.sequencer import GroupCommitter
from ledger.storage.sqllog import SqlLog


def _counted(log: SqlLog) -> float:
    with log.engine.connect() as conn:
        found = conn.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = 'log_entries'")
        ).scalar_one()
    return float(found)


def _never_analysed(log: SqlLog) -> set[str]:
    with log.engine.connect() as conn:
        return set(
            conn.execute(
                text(
                    "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples < 0"
                    " AND relnamespace = current_schema()::regnamespace"
                )
            ).scalars()
        )


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


def test_statistics_cover_every_table_from_a_small_sample(log: tuple[SqlLog, SigningKey]) -> None:
    sql, _ = log
    if sql.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    with sql.engine.begin() as conn:
        # A table of 500 distinct values: the default target would keep 101 histogram bounds.
        conn.execute(text("CREATE TABLE planner_probe (n integer)"))
        conn.execute(text("INSERT INTO planner_probe SELECT generate_series(1, 500)"))
    planner = PlannerStatistics(sql.engine)
    planner.appended(SMALLEST)
    planner.wait()
    assert planner.taken == 1
    never = _never_analysed(sql)
    with sql.engine.connect() as conn:
        bounds = conn.execute(
            text(
                "SELECT array_length(histogram_bounds, 1) FROM pg_stats"
                " WHERE tablename = 'planner_probe' AND attname = 'n'"
            )
        ).scalar_one()
    assert never == set()
    assert bounds == STATISTICS_TARGET + 1


def test_a_stopped_planner_ends_its_round_and_takes_no_more(
    log: tuple[SqlLog, SigningKey],
) -> None:
    sql, _ = log
    if sql.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")

    class StoppedDuringTheFirstTable(PlannerStatistics):
        def _tables(self) -> list[str]:
            tables = super()._tables()
            self._stopping.set()  # as stop() does, while the first table is analysed
            return tables

    first = PlannerStatistics(sql.engine)._tables()[0].strip('"')
    planner = StoppedDuringTheFirstTable(sql.engine)
    planner.appended(SMALLEST)
    planner.wait()
    never = _never_analysed(sql)
    assert planner.taken == 0
    assert first not in never
    assert "log_entries" in never
    planner.appended(100 * SMALLEST)  # stopped: no round starts again
    planner.wait()
    assert planner.taken == 0
    assert _never_analysed(sql) == never


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
