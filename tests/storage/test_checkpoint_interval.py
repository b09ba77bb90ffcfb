"""Checkpoints signed at an interval instead of with every batch, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger.checkpoint import verify_checkpoint
from ledger.errors import StorageError
from ledger.keys import SigningKey
from ledger.storage.audit import audit_database
from ledger.storage.backup import export_file, import_lines
from ledger.storage.checkpointer import CHECKPOINT_INTERVAL_ENV, checkpoint_interval_from_env
from ledger.storage.engine import make_engine
from ledger.storage.migrate import upgrade
from ledger.storage.sequencer import GroupCommitter
from ledger.storage.sqllog import SqlLog
from ledger.storage.tables import CHECKPOINTS, ENTRIES
from tests.storage.logs import bound, issued, registered
from tests.storage.logs import lot as _lot
from tests.tizbek_cli import run_tizbek


def _covered(sql: SqlLog) -> int:
    """The size of the latest stored checkpoint, its signature checked."""
    return verify_checkpoint(sql.checkpoint(), sql.signer.verifier).size


def _stored(sql: SqlLog) -> tuple[int, int]:
    """How many entries and checkpoints the database holds."""
    with sql.engine.connect() as conn:
        entries = conn.execute(select(func.count()).select_from(ENTRIES)).scalar_one()
        checkpoints = conn.execute(select(func.count()).select_from(CHECKPOINTS)).scalar_one()
    return int(entries), int(checkpoints)


def _collector(sql: SqlLog, authority: SigningKey) -> SigningKey:
    collector = SigningKey.generate()
    for submission in (
        registered(authority, "almaty-collect"),
        bound(authority, collector, "almaty-collect"),
        issued(authority, "almaty-collect"),
    ):
        sql.append(submission)
    return collector


def _eventually(check: Callable[[], bool], seconds: float = 15.0) -> float:
    """Wait until ``check`` holds; return how long that took."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not so after {seconds} s")
        time.sleep(0.02)
    return time.monotonic() - start


def test_batches_within_the_interval_sign_no_checkpoint(log: tuple[SqlLog, SigningKey]) -> None:
    sql, authority = log
    sql.checkpoint_interval = 3600.0
    collector = _collector(sql, authority)  # the first of these signs: none yet this run
    assert _stored(sql) == (4, 2)
    assert sql.uncovered() == 2
    assert sql.checkpoint_due() is not None
    for n in range(1, 4):
        entry, new = sql.append(_lot(collector, "almaty-collect", n))
        assert new
        assert entry.seq == 3 + n
    assert _stored(sql) == (7, 2)
    assert (_covered(sql), sql.uncovered()) == (2, 5)
    report = audit_database(sql.engine)  # the entries are sound, only not yet covered
    assert (report.entries, report.covered, report.uncovered) == (7, 2, 5)
    assert "the latest 5 entries await a signed checkpoint" in report.summary()

    signed = sql.sign_pending()
    assert signed is not None
    assert signed.size == 7
    assert (_stored(sql), _covered(sql), sql.uncovered(), sql.checkpoint_due()) == (
        (7, 3),
        7,
        0,
        None,
    )
    assert sql.sign_pending() is None  # nothing left: nothing written
    assert _stored(sql) == (7, 3)
    report = audit_database(sql.engine)
    assert (report.checkpoints, report.uncovered) == (3, 0)
    assert "await" not in report.summary()


def test_a_batch_signs_again_once_the_interval_has_passed(log: tuple[SqlLog, SigningKey]) -> None:
    sql, authority = log
    sql.checkpoint_interval = 0.3
    collector = _collector(sql, authority)
    covered = _covered(sql)
    assert covered < 4
    time.sleep(0.35)
    sql.append(_lot(collector, "almaty-collect", 1))  # due: signs for all five
    assert (_covered(sql), sql.uncovered()) == (5, 0)
    sql.append(_lot(collector, "almaty-collect", 2))  # within the interval again
    assert (_covered(sql), sql.uncovered()) == (5, 1)
    assert audit_database(sql.engine).checkpoints == 3


def test_a_checkpoint_follows_on_from_one_another_process_signed(
    log: tuple[SqlLog, SigningKey],
) -> None:
    """Two sequencers on one database: the one signing next proves consistency with the
    checkpoint the other signed for its entries, not with its own older one."""
    sql, authority = log
    sql.checkpoint_interval = 3600.0
    collector = _collector(sql, authority)
    sql.append(_lot(collector, "almaty-collect", 1))
    other = SqlLog(sql.engine, sql.signer)
    try:
        assert other.sign_pending() is not None  # covers what ``sql`` left: size 5
        assert _covered(sql) == 5
        assert sql.uncovered() == 3  # ``sql`` does not know yet
        sql.checkpoint_interval = 0.0
        sql.append(_lot(collector, "almaty-collect", 2))
        assert (_covered(sql), sql.uncovered()) == (6, 0)
        assert other.sign_pending() is None
    finally:
        other.close()
    report = audit_database(sql.engine)
    assert (report.entries, report.checkpoints, report.uncovered) == (6, 4, 0)


def test_the_committer_signs_for_entries_left_waiting(log: tuple[SqlLog, SigningKey]) -> None:
    sql, authority = log
    collector = _collector(sql, authority)  # with no interval yet: each signed
    interval = 1.0
    with GroupCommitter(sql, checkpoint_interval=interval) as committer:
        assert committer.checkpoints is not None
        entries = [committer.submit(_lot(collector, "almaty-collect", n))[0] for n in (1, 2, 3)]
        assert [e.seq for e in entries] == [4, 5, 6]
        # Within the interval of the last checkpoint, the batches did not sign.
        assert _covered(sql) < 7
        assert sql.uncovered() > 0
        waited = _eventually(lambda: _covered(sql) == 7)
        assert waited < interval + 5.0
        assert committer.checkpoints.signed == 1
        assert sql.uncovered() == 0
        # Idle with every entry covered, it signs nothing more.
        stored = _stored(sql)
        time.sleep(1.5 * interval)
        assert _stored(sql) == stored
        # The interval has passed: the next batch signs itself, and the one after waits.
        committer.submit(_lot(collector, "almaty-collect", 4))
        assert (_covered(sql), committer.checkpoints.signed) == (8, 1)
        committer.submit(_lot(collector, "almaty-collect", 5))
        assert _covered(sql) == 8
        _eventually(lambda: _covered(sql) == 9)
        assert committer.checkpoints.signed == 2
    assert audit_database(sql.engine).uncovered == 0


def test_closing_the_committer_signs_for_the_last_entries(log: tuple[SqlLog, SigningKey]) -> None:
    sql, authority = log
    collector = _collector(sql, authority)  # with no interval yet: each signed
    with GroupCommitter(sql, checkpoint_interval=3600.0) as committer:
        for n in range(1, 4):
            committer.submit(_lot(collector, "almaty-collect", n))
        assert sql.uncovered() == 3
    assert (_stored(sql), _covered(sql)) == ((7, 5), 7)


def test_a_committer_signs_at_once_for_what_a_previous_run_left(
    log: tuple[SqlLog, SigningKey],
) -> None:
    """Entries durable but uncovered, as a server killed within its interval leaves them."""
    sql, authority = log
    sql.checkpoint_interval = 3600.0
    collector = _collector(sql, authority)
    sql.append(_lot(collector, "almaty-collect", 1))
    sql.close()
    assert _covered(sql) == 2
    restarted = SqlLog(sql.engine, sql.signer)
    try:
        with GroupCommitter(restarted, checkpoint_interval=3600.0) as committer:
            assert _covered(sql) == 5  # before any batch
            assert committer.checkpoints is not None
            assert committer.checkpoints.signed == 1
    finally:
        restarted.close()


def test_with_no_interval_every_batch_signs(log: tuple[SqlLog, SigningKey]) -> None:
    sql, authority = log
    collector = _collector(sql, authority)
    with GroupCommitter(sql, checkpoint_interval=0.0) as committer:
        assert committer.checkpoints is None
        for n in range(1, 4):
            committer.submit(_lot(collector, "almaty-collect", n))
            assert sql.uncovered() == 0
    assert _stored(sql) == (7, 7)


def test_an_export_ends_at_the_latest_checkpoint(
    log: tuple[SqlLog, SigningKey], tmp_path: Path, database_url: str
) -> None:
    sql, authority = log
    sql.checkpoint_interval = 3600.0
    collector = _collector(sql, authority)
    sql.append(_lot(collector, "almaty-collect", 1))
    written, left_out = export_file(sql.engine, tmp_path / "log.jsonl")
    assert (written, left_out) == (2, 3)
    run = run_tizbek(
        "export",
        str(tmp_path / "cli.jsonl"),
        cwd=tmp_path,
        env={"TIZBEK_DATABASE_URL": database_url},
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        f"exported 2 entries to {tmp_path / 'cli.jsonl'}",
        "left out the 3 latest entries: no signed checkpoint covers them yet "
        "(the server signs one within its checkpoint interval)",
    ]
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    assert len(lines) == 3  # the header and entries 0 and 1
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    upgrade(copy)
    engine = make_engine(copy)
    try:
        assert import_lines(engine, lines).size == 2
    finally:
        engine.dispose()
    sql.sign_pending()
    assert export_file(sql.engine, tmp_path / "all.jsonl") == (5, 0)


@pytest.mark.parametrize(
    ("setting", "seconds"), [("", 0.0), ("0", 0.0), ("2.5", 2.5), (" 1 ", 1.0), ("86400", 86400.0)]
)
def test_the_interval_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, setting: str, seconds: float
) -> None:
    monkeypatch.setenv(CHECKPOINT_INTERVAL_ENV, setting)
    assert checkpoint_interval_from_env() == seconds


@pytest.mark.parametrize("setting", ["soon", "-1", "nan", "inf", "86401", "1e400"])
def test_a_bad_interval_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    monkeypatch.setenv(CHECKPOINT_INTERVAL_ENV, setting)
    with pytest.raises(StorageError, match=f"{CHECKPOINT_INTERVAL_ENV} must be a number"):
        checkpoint_interval_from_env()


def test_a_committer_refuses_a_bad_interval(log: tuple[SqlLog, SigningKey]) -> None:
    sql, _ = log
    with pytest.raises(ValueError, match="checkpoint_interval"):
        GroupCommitter(sql, checkpoint_interval=-1.0)
